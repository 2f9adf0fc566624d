"""Limits instead of aborts, at the size of the issue: 1,100 children of the
controller under the usual soft limit of 1024 descriptors, where libzmq aborted the
controller at about 1,010 (see test_limits.py for the same at a small scale)."""
import resource

from harness import BIN, Skipped, run
from test_limits import FD_RESERVE, SLOW, Limited, finish, replies


def asan_build():
    with open(BIN, "rb") as binary:
        return b"__asan_init" in binary.read()


def test_eleven_hundred_children():
    # The case: 1,100 children of the controller under the usual soft limit
    # of 1024 descriptors. The soft limit is raised to the hard one, so all fit when
    # the hard limit allows (it does on these machines); beyond, the exact error.
    if asan_build():
        raise Skipped("1,100 ASan workers are too heavy for this machine "
                      "(test_limits.py covers the fault at a small scale)")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        with open("/proc/sys/fs/nr_open") as nr_open:
            hard = int(nr_open.read())
    limit = hard - FD_RESERVE
    with Limited((min(1024, hard), hard), ["--ordered", "--timeout", SLOW]) as m:
        # In batches: 1,100 spawns at once on a loaded 2-core machine can take
        # longer than any timeout, which is not what this test is about.
        got = []
        for first in range(1, 1101, 100):
            got += replies(m, ["create %d" % node for node in range(first, first + 100)])
        for node, reply in zip(range(1, 1101), got):
            if node <= limit:
                assert reply.startswith("Ok: "), (node, reply)
                m.pids[node] = int(reply[4:])
            else:
                assert reply == "Error: Too many children of node -1 (limit %d)" % limit
        m.expect("exec 1 sum 2 1 2", "Ok:1: 3")
        assert m.ask("pingall", deadline=120) == "Ok: -1"
        finish(m)


run([test_eleven_hundred_children])
