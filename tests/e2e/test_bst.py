"""The binary search tree topology and the classic lab's bare exec syntaxes, with
the lab's own transcripts."""
import random
import signal
import time

from harness import Mqtree, kill, parent_of, run, slack, tree_line, wait_until

# Not what these tests are about: room for spawns at depth on a loaded machine.
GENEROUS_MS = str(int(slack(10) * 1000))


def wait_pingall(m, expected):
    wait_until(lambda: m.ask("pingall") == expected, 10, "pingall %s" % expected)


def test_lab_general_tree_sum():
    with Mqtree("--exec", "sum") as m:
        m.create(2, -1)
        m.create(3, 2)
        m.create(4, 3)
        m.create(5, 4)
        m.expect("exec 4 2 7 8", "Ok:4: 15")
        m.expect("pingall", "Ok: -1")
        kill(m.pids[3])
        wait_pingall(m, "Ok: 3;4;5")
        m.expect("exec 2 3 1 2 3", "Ok:2: 6")
        m.expect("exec 2 2 1", "Error:2: Expected 2 numbers, got 1")
        m.expect("exec 2", "Error:2: Usage: exec id n k1 ... kn")
        assert m.close() == 0


def test_lab_bst_dict():
    with Mqtree("--topology", "bst", "--exec", "dict") as m:
        m.expect("exec 10 X", "Error:10: Not found")
        m.create(8)
        m.expect("exec 8 X", "Ok:8: 'X' not found")
        m.expect("exec 8 X 16", "Ok:8")
        m.expect("exec 8 X", "Ok:8: 16")
        for node in (11, 6, 13, 9):
            m.create(node)
        assert parent_of(m.pids[8]) == m.proc.pid
        assert parent_of(m.pids[11]) == m.pids[8]
        assert parent_of(m.pids[6]) == m.pids[8]
        assert parent_of(m.pids[13]) == m.pids[11]
        assert parent_of(m.pids[9]) == m.pids[11]
        m.expect("ping 11", "Ok: 1")
        m.expect("ping 21", "Error: Not found")
        m.expect("exec 9 Y 1 2", "Error:9: Usage: exec id name [value]")
        m.expect("exec 9 my_y 1", "Error:9: Invalid name 'my_y' (letters and digits only)")
        # The parent argument is ignored: the BST decides.
        m.create(7, 13)
        assert parent_of(m.pids[7]) == m.pids[6]
        m.send("tree")
        tree = [m.line() for _ in range(8)]
        assert tree[1:] == [
            "`-- 8 pid %d up depth 1" % m.pids[8],
            "    |-- L 6 pid %d up depth 2" % m.pids[6],
            "    |   `-- R 7 pid %d up depth 3" % m.pids[7],
            "    `-- R 11 pid %d up depth 2" % m.pids[11],
            "        |-- L 9 pid %d up depth 3" % m.pids[9],
            "        `-- R 13 pid %d up depth 3" % m.pids[13],
            "6 nodes: 6 up, 0 unavailable"], tree
        # Removing a subtree frees its ids; they go where an insert puts them now.
        m.expect("remove 11", "Ok")
        m.expect("ping 13", "Error: Not found")
        m.create(13)
        assert parent_of(m.pids[13]) == m.pids[8]
        m.create(11)
        assert parent_of(m.pids[11]) == m.pids[13]
        m.expect("exec 11 Z 5", "Ok:11")
        m.expect("exec 11 Z", "Ok:11: 5")
        m.expect("pingall", "Ok: -1")
        assert m.close() == 0


def test_lab_timer_and_heartbeat():
    with Mqtree("--exec", "timer") as m:
        m.create(12)
        m.create(13, 12)
        m.expect("exec 12 start", "Ok:12")
        m.expect("exec 12 stop", "Ok:12")
        elapsed = m.ask("exec 12 time")
        assert elapsed.startswith("Ok:12: ") and 0 <= int(elapsed[7:]) < 5000, elapsed
        m.expect("exec 12 lap", "Error:12: Expected: timer start|stop|time")
        m.expect("heartbeat 300", "Ok")
        kill(m.pids[13])
        assert m.line() == "Heartbit: node 13 is unavailable now"
        # Once, not at every tick. A timed window: in the timer syntax no op (such
        # as sleep) can close it with an event.
        m.no_line(0.8)
        assert m.close() == 0


def test_find_syntax():
    with Mqtree("--exec", "find") as m:
        m.create(1)
        m.expect("exec 1 abracadabra abra", "Ok:1: 0;7")
        m.expect("exec 1 abracadabra", "Error:1: Expected: find text pattern")
        assert m.close() == 0


def chain_of(m, ids):
    m.send(*["create %d" % node for node in ids])
    for node in ids:
        reply = m.line()
        assert reply.startswith("Ok: "), reply


def test_sorted_inserts_make_a_chain():
    with Mqtree("--topology", "bst", "--ordered", "--timeout", GENEROUS_MS) as m:
        chain_of(m, range(1, 201))
        m.send("tree")
        tree = [m.line() for _ in range(202)]
        assert tree_line(tree[200])[:2] == ("R", 200) and tree_line(tree[200])[4] == 200
        assert tree[201] == "200 nodes: 200 up, 0 unavailable"
        m.expect("exec 200 sum 2 100 100", "Ok:200: 200")
        m.expect("exec 1 sum 1 1", "Ok:1: 1")
        m.expect("ping 150", "Ok: 1")
        m.expect("pingall", "Ok: -1")
        m.send("tree")
        lines = [m.line() for _ in range(202)]
        pids = {tree_line(line)[1]: tree_line(line)[2] for line in lines[1:201]}
        assert parent_of(pids[200]) == pids[199]
        kill(pids[150])
        wait_pingall(m, "Ok: " + ";".join(str(node) for node in range(150, 201)))
        m.expect("exec 149 sum 1 149", "Ok:149: 149")
        m.expect("exec 170 sum 1 1", "Error:170: Node is unavailable")
        m.expect("remove 150", "Ok")
        m.expect("pingall", "Ok: -1")
        assert m.close() == 0


def test_random_inserts():
    ids = random.sample([node for node in range(-1000, 1000) if node != -1], 200)
    with Mqtree("--topology", "bst", "--ordered", "--timeout", GENEROUS_MS) as m:
        chain_of(m, ids)
        m.send("tree")
        lines = [m.line() for _ in range(202)]
        # Every node's process parent is its BST parent, and BST order holds.
        stack = []
        for line in lines[1:201]:
            side, node, pid, state, depth = tree_line(line)
            assert state == "up", line
            del stack[depth - 1:]
            if stack:
                parent, parent_pid = stack[-1]
                assert parent_of(pid) == parent_pid, (node, parent)
                assert (side == "L") == (node < parent), (node, parent, side)
            stack.append((node, pid))
        for node in random.sample(ids, 10):
            m.expect("exec %d sum 1 %d" % (node, node), "Ok:%d: %d" % (node, node))
        m.expect("pingall", "Ok: -1")
        assert m.close() == 0


run([test_lab_general_tree_sum, test_lab_bst_dict, test_lab_timer_and_heartbeat,
     test_find_syntax, test_sorted_inserts_make_a_chain, test_random_inserts])
