"""The process tree is the logical tree, and no process outlives the controller."""
import signal
import time

from harness import Mqtree, alive, exists, kill, parent_of, run, wait_until


def build(m):
    """1 -> 2 -> 3 -> 4, and 5 under 1, 6 under the controller."""
    m.build((1, -1), (2, 1), (3, 2), (4, 3), (5, 1), (6, -1))


def test_parentage():
    with Mqtree() as m:
        build(m)
        controller = m.proc.pid
        assert parent_of(m.pids[1]) == controller
        assert parent_of(m.pids[6]) == controller
        assert parent_of(m.pids[2]) == m.pids[1]
        assert parent_of(m.pids[3]) == m.pids[2]
        assert parent_of(m.pids[4]) == m.pids[3]
        assert parent_of(m.pids[5]) == m.pids[1]
        assert m.close() == 0


def test_nothing_left_after_exit():
    with Mqtree() as m:
        build(m)
        m.send("exit")
        assert m.proc.wait(timeout=20) == 0
        # The controller reaps every worker before it exits.
        left = [pid for pid in m.pids.values() if exists(pid)]
        assert not left, "still there after exit: %s" % left


def test_nothing_left_after_end_of_input_with_work_outstanding():
    with Mqtree("--timeout", "5000") as m:
        build(m)
        m.send("exec 4 sleep 300", "exec 1 sum 1 1")
        started = time.monotonic()
        assert m.close() == 0
        lines = sorted([m.line(), m.line()])
        assert lines == ["Ok:1: 1", "Ok:4"], lines
        assert time.monotonic() - started >= 0.25
        assert not [pid for pid in m.pids.values() if exists(pid)]


def test_remove_ends_the_subtree():
    with Mqtree() as m:
        build(m)
        m.expect("remove 2", "Ok")
        # The removed node was reaped by its parent before the reply.
        assert not exists(m.pids[2])
        for node in (3, 4):
            wait_until(lambda: not alive(m.pids[node]), 5, "node %d gone" % node)
        for node in (1, 5, 6):
            assert alive(m.pids[node])
        m.expect("remove 6", "Ok")
        assert not exists(m.pids[6])
        assert m.close() == 0


def test_signals_end_everything():
    for sig, code in ((signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)):
        with Mqtree() as m:
            build(m)
            kill(m.proc.pid, sig)
            assert m.proc.wait(timeout=20) == code, sig
            assert not [pid for pid in m.pids.values() if exists(pid)], sig


def test_controller_killed():
    with Mqtree() as m:
        build(m)
        kill(m.proc.pid)
        m.proc.wait(timeout=20)
        started = time.monotonic()
        for pid in m.pids.values():
            # The promise: within a second. The margin covers a loaded machine.
            wait_until(lambda: not alive(pid), 3, "pid %d gone" % pid)
        assert time.monotonic() - started < 3


def test_worker_alone_refuses_to_start():
    import subprocess
    from harness import BIN
    import os
    worker = os.path.join(os.path.dirname(BIN), "mqtree-worker")
    result = subprocess.run([worker], capture_output=True, timeout=20)
    assert result.returncode == 2 and b"usage" in result.stderr


run([test_parentage, test_nothing_left_after_exit,
     test_nothing_left_after_end_of_input_with_work_outstanding,
     test_remove_ends_the_subtree, test_signals_end_everything, test_controller_killed,
     test_worker_alone_refuses_to_start])
