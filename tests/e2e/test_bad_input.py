"""Bad lines on the shell: each gets exactly one clear Error line, nothing that
should not change changes, and the tree keeps working."""
from harness import Mqtree, run

BAD = [
    # (line, exact reply, or a prefix ending in '...')
    ("create", "Error: Usage: create id [parent] [@host]"),
    ("create 1 2 3", "Error: Usage: create id [parent] [@host]"),
    ("create x", "Error: Invalid id 'x'"),
    ("create 5 y", "Error: Invalid id 'y'"),
    ("create -1", "Error: Invalid id '-1' (-1 is the controller)"),
    ("create 2147483648", "Error: Invalid id '2147483648'"),
    ("create -2147483649", "Error: Invalid id '-2147483649'"),
    ("create 99999999999999999999", "Error: Invalid id '99999999999999999999'"),
    ("create -0", "Error: Invalid id '-0'"),
    ("create 0x10", "Error: Invalid id '0x10'"),
    ("create 1e3", "Error: Invalid id '1e3'"),
    ("create +5", "Error: Invalid id '+5'"),
    ("create 007", "Error: Invalid id '007'"),
    ("create 1.5", "Error: Invalid id '1.5'"),
    ("create 1", "Error: Already exists"),
    ("create 50 49", "Error: Parent not found"),
    ("remove", "Error: Usage: remove id"),
    ("remove 1 2", "Error: Usage: remove id"),
    ("remove 77", "Error: Not found"),
    ("remove -1", "Error: Not found"),
    ("kill x", "Error: Invalid id 'x'"),
    ("ping", "Error: Usage: ping id"),
    ("ping 1 2", "Error: Usage: ping id"),
    ("ping 77", "Error: Not found"),
    ("ping -1", "Error: Not found"),
    ("pingall 1", "Error: Usage: pingall"),
    ("heartbeat", "Error: Usage: heartbeat ms"),
    ("heartbeat -1", "Error: Invalid interval '-1' (0 to 2147483647 ms)"),
    ("heartbeat 1.5", "Error: Invalid interval '1.5' (0 to 2147483647 ms)"),
    ("heartbeat 99999999999", "Error: Invalid interval '99999999999' (0 to 2147483647 ms)"),
    ("heartbeat 10 20", "Error: Usage: heartbeat ms"),
    ("tree 1 2", "Error: Usage: tree [--endpoints] [id]"),
    ("exit now", "Error: Usage: exit"),
    ("exec", "Error: Usage: exec id op [args...]"),
    ("exec 1", "Error:1: Usage: exec id op [args...]"),
    ("exec x sum 1 1", "Error: Invalid id 'x'"),
    ("exec 77 sum 1 1", "Error:77: Not found"),
    ("exec -1 sum 1 1", "Error:-1: Not found"),
    ("exec 1 sum", "Error:1: Expected: sum n k1 ... kn"),
    ("exec 1 sum x", "Error:1: Invalid count 'x'"),
    ("exec 1 sum -3", "Error:1: Invalid count '-3'"),
    ("exec 1 sum 3 1 2", "Error:1: Expected 3 numbers, got 2"),
    ("exec 1 sum 1 1 2", "Error:1: Expected 1 numbers, got 2"),
    ("exec 1 sum 100000000000 1", "Error:1: Expected 100000000000 numbers, got 1"),
    ("exec 1 sum 2 9223372036854775807 1", "Error:1: Sum overflows 64 bits"),
    ("exec 1 sum 1 9223372036854775808", "Error:1: Number out of 64-bit range '9223372036854775808'"),
    ("exec 1 sum 1 0x10", "Error:1: Invalid number '0x10'"),
    ("exec 1 sum 1 1e3", "Error:1: Invalid number '1e3'"),
    ("exec 1 find onlytext", "Error:1: Expected: find text pattern"),
    ("exec 1 find a b c", "Error:1: Expected: find text pattern"),
    ("exec 1 set", "Error:1: Expected: set name value"),
    ("exec 1 set my_var 1", "Error:1: Invalid name 'my_var' (letters and digits only)"),
    ("exec 1 set X", "Error:1: Expected: set name value"),
    ("exec 1 set X 1.5", "Error:1: Invalid value '1.5' (a 64-bit integer)"),
    ("exec 1 set X 99999999999999999999", "Error:1: Invalid value '99999999999999999999' (a 64-bit integer)"),
    ("exec 1 get", "Error:1: Expected: get name"),
    ("exec 1 get a-b", "Error:1: Invalid name 'a-b' (letters and digits only)"),
    ("exec 1 timer", "Error:1: Expected: timer start|stop|time"),
    ("exec 1 timer go", "Error:1: Expected: timer start|stop|time"),
    ("exec 1 sleep", "Error:1: Expected: sleep ms"),
    ("exec 1 sleep -5", "Error:1: Invalid duration '-5' (0 to 3600000 ms)"),
    ("exec 1 sleep 99999999", "Error:1: Invalid duration '99999999' (0 to 3600000 ms)"),
    ("exec 1 frobnicate", "Error:1: Unknown op 'frobnicate'"),
    ("exec 1 averyveryverylongopname x", "Error:1: Unknown op 'averyveryverylongopname'"),
    ("frobnicate", "Error: Unknown command 'frobnicate' (try help)"),
    ("CREATE 1", "Error: Unknown command 'CREATE' (try help)"),
    ("create\u00e91", "Error: Unknown command 'create\u00e91' (try help)"),
]

RAW = [
    # bytes that are no text a person would type
    (b"exec 1 sum 1 \x00 1", "Error: The line contains a NUL byte"),
    (b"\x00", "Error: The line contains a NUL byte"),
    (b"\xff\xfe\xfd", "Error: Unknown command '...'"),
    (b"create \xc3\x28", "Error: Invalid id '...'"),
    (b"x" * (1 << 20), "Error: Unknown command 'xxxxx...'"),
    (b"exec 1 sum 3 " + b"7" * (1 << 20), "Error:1: Number out of 64-bit range '777..."),
    (b"\t\t  \t", None),  # blank: no reply at all
]


def matches(got, want):
    if want.endswith("...'") or want.endswith("..."):
        return got.startswith(want.split("...")[0])
    return got == want


def test_each_bad_line_one_error():
    with Mqtree() as m:
        m.create(1)
        m.create(2, 1)
        m.expect("exec 1 set Keep 42", "Ok:1")
        m.send("tree")
        tree_before = [m.line() for _ in range(4)]
        count = 0
        for line, want in BAD:
            got = m.ask(line)
            assert matches(got, want), (line, got, want)
            assert len(got) < 200
            count += 1
        for data, want in RAW:
            m.send_bytes(data + b"\n")
            if want is None:
                continue
            got = m.line()
            assert got.startswith("Error"), (data[:30], got)
            assert matches(got, want) or want.startswith("Error: Unknown command '...")\
                or want.startswith("Error: Invalid id '..."), (data[:30], got, want)
            assert len(got) < 200, got[:100]
            count += 1
        assert count >= 60, count
        # Exactly one line each: the next reply is the next command's, and a second
        # line for the last bad one would show in place of tree's first below.
        m.expect("ping 2", "Ok: 1")
        # Nothing changed that should not have.
        m.send("tree")
        assert [m.line() for _ in range(4)] == tree_before
        m.expect("exec 1 get Keep", "Ok:1: 42")
        m.expect("pingall", "Ok: -1")
        assert m.close() == 0


def test_crlf_lines():
    with Mqtree() as m:
        m.send_bytes(b"create 1\r\ncreate 2 1\r\n")
        assert m.line().startswith("Ok: ")
        assert m.line().startswith("Ok: ")
        m.expect("ping 2\r", "Ok: 1")
        m.send_bytes(b"exec 2 sum 2 20 22\r\nping 1\r\n")
        assert sorted([m.line(), m.line()]) == ["Ok: 1", "Ok:2: 42"]
        assert m.close() == 0


def test_last_line_without_newline():
    with Mqtree() as m:
        m.create(1)
        m.send_bytes(b"exec 1 sum 1 5")
        m.proc.stdin.close()
        assert m.line() == "Ok:1: 5"
        assert m.proc.wait(timeout=20) == 0


run([test_each_bad_line_one_error, test_crlf_lines, test_last_line_without_newline])
