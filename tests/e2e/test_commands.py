"""Every README example of create, remove, exec, ping, tree and help: the command
sent, the line expected."""
from harness import Mqtree, run


def test_create_replies():
    with Mqtree() as m:
        m.create(10)
        m.create(20, 10)
        m.expect("create 10", "Error: Already exists")
        m.expect("create 30 99", "Error: Parent not found")
        m.expect("create x", "Error: Invalid id 'x'")
        m.expect("create 1 y", "Error: Invalid id 'y'")
        m.expect("create -1", "Error: Invalid id '-1' (-1 is the controller)")
        m.expect("create 2147483648", "Error: Invalid id '2147483648'")
        m.expect("create -0", "Error: Invalid id '-0'")
        m.expect("create 0x10", "Error: Invalid id '0x10'")
        m.expect("create", "Error: Usage: create id [parent] [@host]")
        m.expect("create 1 2 3", "Error: Usage: create id [parent] [@host]")
        m.create(-5, -1)
        m.create(2147483647, 20)
        assert m.close() == 0


def test_exec_ops():
    with Mqtree() as m:
        m.create(10)
        m.expect("exec 10 sum 3 1 2 3", "Ok:10: 6")
        m.expect("exec 10 sum 0", "Ok:10: 0")
        m.expect("exec 10 sum 2 -9223372036854775808 9223372036854775807", "Ok:10: -1")
        m.expect("exec 10 sum 2 9223372036854775807 1", "Error:10: Sum overflows 64 bits")
        m.expect("exec 10 sum 1 9223372036854775808",
                 "Error:10: Number out of 64-bit range '9223372036854775808'")
        m.expect("exec 10 sum 3 1 2", "Error:10: Expected 3 numbers, got 2")
        m.expect("exec 10 sum 1 1 2", "Error:10: Expected 1 numbers, got 2")
        m.expect("exec 10 sum 2 1 x", "Error:10: Invalid number 'x'")
        m.expect("exec 10 sum -1", "Error:10: Invalid count '-1'")
        m.expect("exec 10 find abracadabra abra", "Ok:10: 0;7")
        m.expect("exec 10 find aaaa aa", "Ok:10: 0;1;2")
        m.expect("exec 10 find abc d", "Ok:10: -1")
        m.expect("exec 10 find abc", "Error:10: Expected: find text pattern")
        m.expect("exec 10 set MyVar 5", "Ok:10")
        m.expect("exec 10 get MyVar", "Ok:10: 5")
        m.expect("exec 10 set MyVar -7", "Ok:10")
        m.expect("exec 10 get MyVar", "Ok:10: -7")
        m.expect("exec 10 get Other", "Ok:10: 'Other' not found")
        m.expect("exec 10 set my_var 1",
                 "Error:10: Invalid name 'my_var' (letters and digits only)")
        m.expect("exec 10 set X y", "Error:10: Invalid value 'y' (a 64-bit integer)")
        m.expect("exec 10 timer time", "Ok:10: 0")
        m.expect("exec 10 timer start", "Ok:10")
        m.expect("exec 10 sleep 50", "Ok:10")
        m.expect("exec 10 timer stop", "Ok:10")
        elapsed = m.ask("exec 10 timer time")
        assert elapsed.startswith("Ok:10: "), elapsed
        assert 50 <= int(elapsed[7:]) < 10000, elapsed
        m.expect("exec 10 timer time", elapsed)
        m.expect("exec 10 timer lap", "Error:10: Expected: timer start|stop|time")
        m.expect("exec 10 sleep -1", "Error:10: Invalid duration '-1' (0 to 3600000 ms)")
        m.expect("exec 10 frobnicate 1", "Error:10: Unknown op 'frobnicate'")
        m.expect("exec 10", "Error:10: Usage: exec id op [args...]")
        m.expect("exec", "Error: Usage: exec id op [args...]")
        m.expect("exec 11 sum 1 1", "Error:11: Not found")
        m.expect("exec q sum 1 1", "Error: Invalid id 'q'")
        assert m.close() == 0


def test_dictionaries_are_per_node():
    with Mqtree() as m:
        m.create(1)
        m.create(2, 1)
        m.expect("exec 1 set X 1", "Ok:1")
        m.expect("exec 2 get X", "Ok:2: 'X' not found")
        m.expect("exec 2 set X 2", "Ok:2")
        m.expect("exec 1 get X", "Ok:1: 1")
        assert m.close() == 0


def test_ping_and_remove():
    with Mqtree() as m:
        m.create(1)
        m.create(2, 1)
        m.create(3, 2)
        m.expect("ping 3", "Ok: 1")
        m.expect("ping 4", "Error: Not found")
        m.expect("ping", "Error: Usage: ping id")
        m.expect("remove 2", "Ok")
        m.expect("ping 2", "Error: Not found")
        m.expect("ping 3", "Error: Not found")
        m.expect("exec 3 sum 1 1", "Error:3: Not found")
        m.expect("remove 2", "Error: Not found")
        m.expect("ping 1", "Ok: 1")
        # Removed ids can be created again, anywhere.
        m.create(3, 1)
        m.create(2, 3)
        m.expect("exec 2 sum 2 20 22", "Ok:2: 42")
        m.expect("kill 3", "Ok")
        m.expect("ping 2", "Error: Not found")
        assert m.close() == 0


def test_shell_lines():
    with Mqtree() as m:
        m.send("", "   ", "# a comment", "\t# indented comment")
        m.expect("frobnicate", "Error: Unknown command 'frobnicate' (try help)")
        m.send("help")
        first = m.line()
        assert first.startswith("create id [parent] [@host]"), first
        while not m.line().startswith("exit | quit"):
            pass
        m.expect("pingall extra", "Error: Usage: pingall")
        m.create(1)
        m.create(2, 1)
        m.create(3)
        m.send("tree")
        assert m.line() == "-1 controller pid %d" % m.proc.pid
        assert m.line() == "|-- 1 pid %d up depth 1" % m.pids[1]
        assert m.line() == "|   `-- 2 pid %d up depth 2" % m.pids[2]
        assert m.line() == "`-- 3 pid %d up depth 1" % m.pids[3]
        assert m.line() == "3 nodes: 3 up, 0 unavailable"
        m.send("tree 1")
        assert m.line() == "1 pid %d up depth 1" % m.pids[1]
        assert m.line() == "`-- 2 pid %d up depth 2" % m.pids[2]
        assert m.line() == "2 nodes: 2 up, 0 unavailable"
        m.expect("tree 9", "Error: Not found")
        m.expect("tree 1 2", "Error: Usage: tree [--endpoints] [id]")
        m.send("exec 2 sleep 400")
        m.send("tree 2")
        assert m.line() == "2 pid %d busy depth 2" % m.pids[2]
        assert m.line() == "1 node: 1 up, 0 unavailable"
        assert m.line() == "Ok:2"
        m.expect("exec 1 sum 2 1 1\r", "Ok:1: 2")
        m.send("quit")
        assert m.proc.wait(timeout=20) == 0


def test_tree_in_utf8_after_a_death():
    import os
    import signal
    with Mqtree.__new__(Mqtree) as m:
        m.extra_env = {"LANG": "C.UTF-8"}
        Mqtree.__init__(m)
        m.create(1)
        m.create(2, 1)
        m.create(3, 2)
        m.create(4, 1)
        os.kill(m.pids[2], signal.SIGKILL)
        from harness import wait_until
        # pingall may see node 2 silent before its parent's report of the death
        # arrives: wait for the tree to know it.
        def tree():
            m.send("tree")
            return [m.line() for _ in range(6)]
        wait_until(lambda: "dead (signal 9) depth 2" in tree()[2], 10, "the death reported")
        lines = tree()
        # Node 3 dies after node 2; until the controller reaps it, it shows as cut off.
        third = "    \u2502   \u2514\u2500\u2500 3 pid %d " % m.pids[3]
        assert lines[3] in (third + "dead (signal 9) depth 3",
                            third + "unavailable (behind 2) depth 3"), lines[3]
        assert lines[1:3] + lines[4:] == [
            "\u2514\u2500\u2500 1 pid %d up depth 1" % m.pids[1],
            "    \u251c\u2500\u2500 2 pid %d dead (signal 9) depth 2" % m.pids[2],
            "    \u2514\u2500\u2500 4 pid %d up depth 2" % m.pids[4],
            "4 nodes: 2 up, 2 unavailable"], lines
        assert m.close() == 0


def test_bad_options():
    import subprocess
    from harness import BIN
    for args in (["--topology", "ring"], ["--timeout", "0"], ["--exec", "mul"],
                 ["--transport", "udp"], ["--log-level", "loud"], ["extra"]):
        result = subprocess.run([BIN, *args], stdin=subprocess.DEVNULL,
                                capture_output=True, timeout=20)
        assert result.returncode == 2, (args, result.returncode)
        assert b"mqtree: invalid" in result.stderr, (args, result.stderr)
    result = subprocess.run([BIN, "--version"], capture_output=True, timeout=20)
    assert result.returncode == 0 and result.stdout.startswith(b"mqtree ")


run([test_create_replies, test_exec_ops, test_dictionaries_are_per_node,
     test_ping_and_remove, test_shell_lines, test_tree_in_utf8_after_a_death,
     test_bad_options])
