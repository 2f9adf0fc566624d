"""A node hung in a way its parent cannot see: frozen by a ptrace interrupt, which,
unlike SIGSTOP, waitpid(WUNTRACED) does not report to the parent. Then only the
deadlines and the heartbeats can tell, and they must: pingall within one timeout,
exec at the timeout, a Heartbit line after 4 missed beats, and all well again after."""
import sys
import time

from harness import Mqtree, Skipped, freeze, run, skip, slack, thaw

TIMEOUT_MS = 1500


def build(m):
    """1 -> 2 -> 3, 4 under 1."""
    m.build((1, -1), (2, 1), (3, 2), (4, 1))


def test_hung_node():
    with Mqtree("--timeout", str(TIMEOUT_MS)) as m:
        build(m)
        m.expect("heartbeat 300", "Ok")
        freeze(m.pids[2])
        try:
            # The parent saw nothing: only the missing beats tell, once, in order.
            started = time.monotonic()
            assert m.line() == "Heartbit: node 2 is unavailable now"
            assert m.line() == "Heartbit: node 3 is unavailable now"
            # Quiet, 4 intervals (scripts/bench measures it); bounded only to fail
            # instead of hanging, as a starved parent forgives its children a round.
            assert time.monotonic() - started < 3.0 + slack(3.0)
            # A new interval while it hangs says nothing again (nor "available
            # again"): the next lines, 6 intervals on, are the sleeps'.
            m.expect("heartbeat 300", "Ok")
            for _ in range(2):
                m.expect("exec 4 sleep 1000", "Ok:4")
            # pingall: the hung subtree costs one timeout, not one per level.
            started = time.monotonic()
            m.expect("pingall", "Ok: 2;3")
            elapsed = time.monotonic() - started
            assert elapsed < TIMEOUT_MS / 1000 + slack(1.0), elapsed
            print("  pingall with a hung subtree: %.0f ms (timeout %d ms)" % (elapsed * 1000, TIMEOUT_MS))
            # The others answer at full speed meanwhile.
            started = time.monotonic()
            m.expect("exec 4 sum 1 4", "Ok:4: 4")
            assert time.monotonic() - started < TIMEOUT_MS / 2000  # not one timeout
            # exec into the hung subtree answers at the timeout.
            started = time.monotonic()
            m.expect("exec 3 sum 1 3", "Error:3: Node is unavailable")
            assert TIMEOUT_MS / 1000 - 0.1 < time.monotonic() - started \
                < TIMEOUT_MS / 1000 + slack(1.5)
        finally:
            thaw(m.pids[2])
        assert m.line() == "Heartbit: node 2 is available again"
        assert m.line() == "Heartbit: node 3 is available again"
        # What queued up while it was frozen and is past its deadline is dropped:
        # the late answers are never printed for a later command. Node 2 handles
        # what queued in the order it came, before this exec, so a late answer
        # would be the next line instead of its reply.
        m.expect("exec 3 sum 1 3", "Ok:3: 3")
        m.expect("pingall", "Ok: -1")
        assert m.close() == 0


if sys.platform != "linux":
    skip("ptrace interrupts are Linux's")
run([test_hung_node])
