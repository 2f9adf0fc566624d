"""The heartbeat floor: intervals the tree cannot keep up with are refused, and at the
floor an idle tree of 100 nodes is never reported unavailable."""
import random
import re

from harness import Mqtree, run

NODES = 100
QUIET_S = 5.0


def floor(m):
    """The floor, as the refusal of `heartbeat 1` states it."""
    reply = m.ask("heartbeat 1")
    match = re.fullmatch(r"Error: heartbeat must be 0 or at least (\d+) ms", reply)
    assert match, reply
    return int(match.group(1))


def test_below_the_floor_is_refused():
    with Mqtree() as m:
        minimum = floor(m)
        assert minimum > 1
        m.expect("heartbeat %d" % (minimum - 1),
                 "Error: heartbeat must be 0 or at least %d ms" % minimum)
        m.expect("heartbeat %d" % minimum, "Ok")
        m.expect("heartbeat 0", "Ok")
        # The longest interval: four of them no longer overflow anything.
        m.expect("heartbeat 2147483647", "Ok")
        m.expect("heartbeat 0", "Ok")
        assert m.close() == 0


def test_idle_tree_at_the_floor_is_quiet():
    generator = random.Random(9)
    # 100 creates piped at once start 100 processes together: on a loaded machine,
    # under sanitizers, some took over the 2000 ms default. This test is about beats.
    with Mqtree("--timeout", "10000") as m:
        minimum = floor(m)
        m.send("create 1", *["create %d %d" % (node, generator.randint(1, node - 1))
                             for node in range(2, NODES + 1)])
        for node in range(1, NODES + 1):
            reply = m.line()
            assert reply.startswith("Ok: "), "create %d -> %r" % (node, reply)
        m.expect("heartbeat %d" % minimum, "Ok")
        # Nothing for 5 s, then pingall's reply is the next line: no Heartbit line
        # came before it.
        m.no_line(QUIET_S)
        m.expect("pingall", "Ok: -1")
        m.expect("heartbeat 0", "Ok")
        assert m.close() == 0


if __name__ == "__main__":
    run([test_below_the_floor_is_refused, test_idle_tree_at_the_floor_is_quiet])
