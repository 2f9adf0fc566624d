"""Writes the seed corpus of each fuzz target from the README's examples and the
end-to-end tests' lines. Run again after changing the wire format."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as out:
        out.write(data)


SYNTAX = {"any": 0, "sum": 1, "find": 2, "dict": 3, "timer": 4}
LINES = [
    ("any", "create 10"), ("any", "create 11 10"), ("any", "create -5 -1"),
    ("any", "remove 10"), ("any", "kill 3"), ("any", "ping 4"), ("any", "pingall"),
    ("any", "heartbeat 500"), ("any", "heartbeat 0"), ("any", "tree"), ("any", "help"),
    ("any", "exit"), ("any", "quit"), ("any", "# comment"), ("any", ""),
    ("any", "exec 10 sum 3 1 2 3"), ("any", "exec 10 find abracadabra abra"),
    ("any", "exec 10 set MyVar 5"), ("any", "exec 10 get MyVar"),
    ("any", "exec 10 timer start"), ("any", "exec 10 sleep 500"),
    ("any", "create 2147483648"), ("any", "create -0"), ("any", "create 0x10"),
    ("any", "exec 10"), ("any", "frobnicate"), ("any", "exec 1 sum 1 \0 1"),
    ("sum", "exec 10 3 1 2 3"), ("find", "exec 10 abracadabra abra"),
    ("dict", "exec 10 MyVar 5"), ("dict", "exec 10 MyVar"), ("timer", "exec 12 time"),
    ("any", "exec all get x --reduce sum"), ("any", "ping 1-5,9,20-22"),
    ("any", "exec 3/,7,-5--3 run uname -r"), ("any", "stats"), ("sum", "exec 1-3 2 1 1"),
    ("any", "exec 1- get x"), ("any", "exec all get x --reduce"),
]


WIRE_VERSION = 6


def header(kind, request=1, budget=0, node=1, stamp=5000000):
    """The time left (budget) and the sender's clock (stamp)."""
    return struct.pack(">BBQqqi", WIRE_VERSION, kind, request, budget, stamp, node)


def frames(*parts):
    """The fuzz target's input: each frame its length byte (255: the rest) and bytes."""
    out = b""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if last and len(part) >= 255:
            out += b"\xff" + part
        else:
            assert len(part) < 255
            out += bytes([len(part)]) + part
    return out


def sized(data):
    """A byte field that is not its kind's last: its length, then its bytes."""
    return struct.pack(">I", len(data)) + data


def path(*hops):
    return b"".join(struct.pack(">i", hop) for hop in hops)


def i32(*values):
    return b"".join(struct.pack(">i", value) for value in values)


def ranges(*pairs):
    return struct.pack(">I", len(pairs)) + b"".join(struct.pack(">ii", a, b) for a, b in pairs)


def group(status, text, *pairs):
    return bytes([status]) + struct.pack(">I", len(text)) + text + ranges(*pairs)


# A pingall's answer: the nodes that answered, one group (Ok, no text).
PINGALL_FOLD = b"\0" + group(0, b"", (3, 5))


(CREATE, EXEC, PING, REMOVE, REPLY, HELLO, EVENT, BROADCAST, HEARTBEAT, BEAT, ADOPT, JOIN,
 LEAVE, CREATED, ADMIT) = range(1, 16)
# Since version 5: one frame (header, then the fields); a long last field may be a second.
MESSAGES = {
    "create": frames(header(CREATE) + sized(path(2, 3)) + i32(4)),
    "create_host": frames(header(CREATE, budget=2000000) + sized(path(2)) + i32(4) +
                          b"node01"),
    "exec": frames(header(EXEC) + sized(path()) + sized(b"sum") + b"3 1 2 3"),
    "exec_path": frames(header(EXEC, node=9) + sized(path(4, 9)) + sized(b"find") +
                        b"abracadabra abra"),
    "exec_apart": frames(header(EXEC) + sized(path(4)) + sized(b"sum"), b"3 1 2 3"),
    "ping": frames(header(PING) + path(5)),
    "remove": frames(header(REMOVE) + sized(path()) + i32(8, 0)),
    "reply": frames(header(REPLY, node=3) + b"\0" + b"6"),
    "reply_ids": frames(header(REPLY, node=3) + b"\0" + PINGALL_FOLD),
    "reply_partial": frames(header(REPLY, node=3) + b"\3" + b"\0" +
                            group(0, b"", (3, 3), (5, 5))),
    "reply_apart": frames(header(REPLY, node=3) + b"\0", b"x" * 300),
    "hello": frames(header(HELLO, request=0, node=6) + i32(1234) + sized(b"vm") +
                    b"tcp://127.0.0.1:40000"),
    "created": frames(header(CREATED, node=6) + i32(1234) + b"tcp://127.0.0.1:40000"),
    "admit": frames(header(ADMIT, node=-1) + i32(7) + b"tcp://127.0.0.1:40001"),
    "event": frames(header(EVENT, request=0) + struct.pack(">Biii", 1, 7, 4321, 9)),
    "pingall": frames(header(BROADCAST, budget=123456789) + sized(path()) + b"\0" +
                      sized(b"") + sized(b"")),
    "pingall_passed": frames(header(BROADCAST, budget=-5000) + sized(path()) + b"\0" +
                             sized(b"") + sized(b"")),
    "broadcast_sets": frames(header(BROADCAST, budget=2000000) + sized(path()) + b"\1" +
                             sized(ranges((1, 5), (9, 9)) + ranges((1, 9))) +
                             sized(b"sum") + b"3 1 2 3"),
    "broadcast_bad_sets": frames(header(BROADCAST) + sized(path()) + b"\0" +
                                 sized(ranges((5, 1))) + sized(b"get") + b"x"),
    "heartbeat": frames(header(HEARTBEAT) + sized(path()) + i32(100)),
    "beat": frames(header(BEAT, request=0)),
    "adopt": frames(header(ADOPT) + sized(path(1)) + i32(7, 1) + b"node07"),
    "join": frames(header(JOIN, node=7) + i32(-1, 4242) + b"node07"),
    "leave": frames(header(LEAVE, node=7) + path()),
    "bad_version": frames(b"\x04" + header(PING)[1:] + path()),
}

# Folds (node/fold.h): the reduction, then groups by first id; and node sets as typed.
FOLDS = {
    "groups": b"\0" + group(0, b"5", (1, 4), (6, 6)) + group(0, b"'x' not found", (5, 5)) +
              group(2, b"Node is unavailable", (7, 9)),
    "sum": b"\1\0" + struct.pack(">qQ", 0, 12) + ranges((1, 2), (4, 4)) +
           group(1, b"Result is not a number", (3, 3)),
    "max_none": b"\3\0" + struct.pack(">qQ", 0, 0) + ranges() + group(1, b"x", (-5, -3)),
    "sum_wide": b"\1\0" + struct.pack(">qQ", -1, 2**64 - 5) + ranges((7, 9)),
    "set_ranges": b"1-5,9,20-22",
    "set_subtrees": b"3/,all,-5--3,7",
}

OPS = [("sum", "3 1 2 3"), ("sum", "2 9223372036854775807 1"), ("find", "aaaa aa"),
       ("set", "MyVar 5"), ("get", "MyVar"), ("timer", "start"), ("timer", "time"),
       ("frob", "x"), ("sum", "1 -9223372036854775808")]

if __name__ == "__main__":
    for index, (syntax, line) in enumerate(LINES):
        write("parser", "spec-%02d" % index, bytes([SYNTAX[syntax]]) + line.encode())
    for name, data in MESSAGES.items():
        write("wire", name, data)
    for name, data in FOLDS.items():
        write("fold", name, data)
    # Topology: steps of (operation, id high, id low, parent, state).
    write("topology", "general", bytes([0]) + bytes([0, 0, 9, 7, 1, 0, 0, 10, 9, 1,
                                                     2, 0, 9, 0, 0, 0, 0, 11, 9, 1]))
    write("topology", "bst", bytes([1]) + bytes([0, 0, 16, 0, 1, 0, 0, 20, 0, 1,
                                                 0, 0, 12, 0, 1, 2, 0, 16, 0, 0]))
    for index, (op, args) in enumerate(OPS):
        write("ops", "op-%02d" % index, bytes([len(op)]) + op.encode() + args.encode())
