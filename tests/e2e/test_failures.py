"""kill -9 and SIGSTOP of workers: what survives keeps working at full speed, what
cannot be reached says so promptly, and nothing is left spinning."""
import signal
import time

from harness import Mqtree, alive, kill, run, slack, wait_until

# Long, so that "promptly" below cannot be an accident of the timeout.
TIMEOUT_MS = 8000
PROMPT = min(slack(2.0), TIMEOUT_MS / 2000)  # seconds; well under the timeout


def build(m):
    """1 -> 2 -> 3 -> 4, and 5 under 1."""
    m.build((1, -1), (2, 1), (3, 2), (4, 3), (5, 1))


def timed(m, command, expected):
    started = time.monotonic()
    m.expect(command, expected)
    return time.monotonic() - started


def wait_after_busy(m, command, expected):
    """Sends command until it is answered expected: while the node is busy past the
    timeout it answers unavailable, and no other line may come."""
    busy = "Error:%s: Node is unavailable" % command.split()[1]

    def answered():
        got = m.ask(command)
        assert got in (busy, expected), got
        return got == expected
    wait_until(answered, 10, "%r answered" % command)


def wait_reported(m, node, expected):
    """Death and stop reports travel up the tree: ask until the report is in."""
    def reported():
        return m.ask("exec %d sum 1 1" % node) == expected
    wait_until(reported, 10, "node %d reported" % node)


def test_kill_interior_node():
    with Mqtree("--timeout", str(TIMEOUT_MS)) as m:
        build(m)
        kill(m.pids[2])
        wait_reported(m, 2, "Error:2: Node is unavailable")
        assert timed(m, "exec 3 sum 1 1", "Error:3: Node is unavailable") < PROMPT
        assert timed(m, "exec 4 sum 1 1", "Error:4: Node is unavailable") < PROMPT
        assert timed(m, "ping 4", "Ok: 0") < PROMPT
        assert timed(m, "create 7 3", "Error: Parent is unavailable") < PROMPT
        assert timed(m, "exec 1 sum 2 1 1", "Ok:1: 2") < PROMPT
        assert timed(m, "exec 5 sum 2 2 2", "Ok:5: 4") < PROMPT
        m.create(6, 5)
        # Its descendants cannot be reached any more: they end on their own.
        for node in (3, 4):
            wait_until(lambda: not alive(m.pids[node]), 3, "node %d gone" % node)
        m.expect("remove 2", "Ok")
        m.create(2, 1)
        m.create(3, 2)
        m.expect("exec 3 sum 1 3", "Ok:3: 3")
        assert m.close() == 0


def test_kill_child_of_controller_and_leaf():
    with Mqtree("--timeout", str(TIMEOUT_MS)) as m:
        build(m)
        m.create(9)
        kill(m.pids[9])
        wait_reported(m, 9, "Error:9: Node is unavailable")
        kill(m.pids[4])
        wait_reported(m, 4, "Error:4: Node is unavailable")
        assert timed(m, "exec 3 sum 1 3", "Ok:3: 3") < PROMPT
        m.expect("ping 9", "Ok: 0")
        m.expect("remove 9", "Ok")
        m.expect("remove 4", "Ok")
        m.create(9)
        m.expect("exec 9 sum 1 9", "Ok:9: 9")
        kill(m.pids[1])
        wait_reported(m, 1, "Error:1: Node is unavailable")
        for node in (2, 3, 5):
            wait_until(lambda: not alive(m.pids[node]), 3, "node %d gone" % node)
        m.expect("exec 9 sum 1 9", "Ok:9: 9")
        assert m.close() == 0


def test_request_in_flight_when_node_dies():
    with Mqtree("--timeout", str(TIMEOUT_MS)) as m:
        build(m)
        m.send("exec 3 sleep 5000")
        # The sleep runs on node 3's op thread; its loop still answers.
        m.expect("ping 3", "Ok: 1")
        started = time.monotonic()
        kill(m.pids[3])
        assert m.line() == "Error:3: Node is unavailable"
        assert time.monotonic() - started < PROMPT
        assert m.close() == 0


def test_stop_and_continue():
    with Mqtree("--timeout", str(TIMEOUT_MS)) as m:
        build(m)
        kill(m.pids[2], signal.SIGSTOP)
        # A stop is seen by the parent process (waitpid WUNTRACED) and reported.
        wait_reported(m, 2, "Error:2: Node is unavailable")
        assert timed(m, "exec 4 sum 1 1", "Error:4: Node is unavailable") < PROMPT
        assert timed(m, "ping 3", "Ok: 0") < PROMPT
        assert timed(m, "exec 5 sum 1 5", "Ok:5: 5") < PROMPT
        kill(m.pids[2], signal.SIGCONT)
        wait_reported(m, 2, "Ok:2: 1")
        m.expect("exec 4 sum 1 4", "Ok:4: 4")
        assert all(alive(m.pids[node]) for node in (1, 2, 3, 4, 5))
        assert m.close() == 0


def test_timeout_and_late_reply():
    with Mqtree("--timeout", "400") as m:
        m.create(1)
        started = time.monotonic()
        m.expect("exec 1 sleep 1000", "Error:1: Node is unavailable")
        assert 0.35 < time.monotonic() - started < 5
        # The late answer of the sleep is dropped, never printed for another command.
        # An exec queued behind the sleep times out while the sleep runs; the first
        # one answered runs after it, so the late answer would be the line before.
        wait_after_busy(m, "exec 1 sum 1 7", "Ok:1: 7")
        # A request that waited behind a busy op past its deadline is not run late.
        m.send("exec 1 sleep 600", "exec 1 set X 1")
        assert m.line() == "Error:1: Node is unavailable"
        assert m.line() == "Error:1: Node is unavailable"
        # get runs after the sleep: the sleep's late answer, or one of set run late,
        # would be the next line instead of its reply.
        wait_after_busy(m, "exec 1 get X", "Ok:1: 'X' not found")
        assert m.close() == 0


def test_remove_stopped_node_and_below_stopped_parent():
    with Mqtree("--timeout", str(TIMEOUT_MS)) as m:
        build(m)
        kill(m.pids[3], signal.SIGSTOP)
        wait_reported(m, 3, "Error:3: Node is unavailable")
        m.expect("remove 3", "Ok")
        for node in (3, 4):
            wait_until(lambda: not alive(m.pids[node]), 3, "node %d gone" % node)
        kill(m.pids[1], signal.SIGSTOP)
        wait_reported(m, 1, "Error:1: Node is unavailable")
        assert timed(m, "remove 2", "Ok") < PROMPT
        kill(m.pids[1], signal.SIGCONT)
        wait_until(lambda: not alive(m.pids[2]), 5, "node 2 gone")
        wait_reported(m, 1, "Ok:1: 1")
        m.expect("exec 5 sum 1 5", "Ok:5: 5")
        assert m.close() == 0


run([test_kill_interior_node, test_kill_child_of_controller_and_leaf,
     test_request_in_flight_when_node_dies, test_stop_and_continue,
     test_timeout_and_late_reply, test_remove_stopped_node_and_below_stopped_parent])
