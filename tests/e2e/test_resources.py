"""Nothing leaks across create/remove cycles: file descriptors, socket files,
zombies, processes."""
import glob
import os

from harness import Mqtree, alive, exists, run, run_dir, slack, wait_until


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def zombies_of(pid):
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == pid:
            found.append(stat)
    return found


def test_hundred_cycles():
    # About leaks, not timeouts: a spawn on a loaded machine (or under ASan) may take
    # longer than the default 2 s.
    with Mqtree("--timeout", str(int(slack(10) * 1000))) as m:
        m.create(1)
        directory = run_dir(m.proc.pid)
        m.create(2, 1)
        m.expect("remove 2", "Ok")
        m.create(5)
        m.expect("remove 5", "Ok")
        controller_before, worker_before = fds(m.proc.pid), fds(m.pids[1])
        gone = []
        for cycle in range(100):
            # A node under a worker, with a child, and a node under the controller.
            m.create(2, 1)
            m.create(3, 2)
            m.create(5)
            gone += [m.pids[2], m.pids[3], m.pids[5]]
            m.expect("exec 3 sum 1 %d" % cycle, "Ok:3: %d" % cycle)
            m.expect("remove 2", "Ok")
            m.expect("remove 5", "Ok")
        m.expect("pingall", "Ok: -1")
        # libzmq closes a gone peer's connection on its own thread, a moment later:
        # allow that one; a leak per cycle would show a hundred.
        assert fds(m.proc.pid) <= controller_before + 1, (controller_before, fds(m.proc.pid))
        assert fds(m.pids[1]) <= worker_before + 1, (worker_before, fds(m.pids[1]))
        assert not zombies_of(m.proc.pid) and not zombies_of(m.pids[1])
        # Removed nodes are reaped (gone from /proc), their socket files removed.
        assert not [pid for pid in gone if alive(pid)]
        assert sorted(os.listdir(directory)) == ["-1.sock", "1.sock"], os.listdir(directory)
        assert m.close() == 0
        assert not exists(m.pids[1]) and not os.path.exists(directory)


def threads(pid):
    return len(os.listdir("/proc/%d/task" % pid))


def test_op_thread_only_while_needed():
    # An idle worker has libzmq's two threads beside its loop, no more; the op thread
    # comes with an op that runs off the loop and ends 2 s after the last one. The
    # node's dictionary outlives it.
    with Mqtree() as m:
        m.create(1)
        worker = m.pids[1]
        assert threads(worker) == 3, threads(worker)
        m.expect("exec 1 set k 7", "Ok:1")
        assert threads(worker) == 3, threads(worker)
        assert m.ask("exec 1 sleep 20").startswith("Ok:1")
        assert threads(worker) == 4, threads(worker)
        wait_until(lambda: threads(worker) == 3, slack(10), "the idle op thread to end")
        assert m.ask("exec 1 sleep 20").startswith("Ok:1")
        m.expect("exec 1 get k", "Ok:1: 7")
        assert m.close() == 0


run([test_hundred_cycles, test_op_thread_only_while_needed])
