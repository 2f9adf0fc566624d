"""Faults a hostile audit found in the controller core, each locked by a test that
failed on the code before its fix: request ids of 0, children reaped while their
id is reused, creates reported failed that came up anyway, work applied after it
was reported failed, the waiting queue, and replies read after the timers."""
import os
import random
import re
import signal
import threading
import time

import chaos

from harness import (LINE_DEADLINE, TIME_SCALE, Mqtree, alive, freeze, kill, run, run_dir,
                     slack, thaw, tree_line, wait_until)


def read_replies(m, count, deadline=LINE_DEADLINE):
    return [m.line(deadline) for _ in range(count)]


def descendants(pid):
    """Every process below pid, from /proc."""
    return [child for child, _ in chaos.descendants(pid)]


def test_create_timeout_keeps_the_controller():
    """A create answered after its deadline must not abort the controller: a
    timed-out request's id must never be looked up as 0."""
    with Mqtree("--timeout", "3") as m:
        m.send(*["create %d -1" % i for i in range(1, 41)])
        replies = read_replies(m, 40)
        assert all(r.startswith("Ok: ") or r == "Error: Parent is unavailable"
                   for r in replies), replies
        assert m.ask("pingall").startswith("Ok: ")
        assert m.close() == 0, m.log()[-2000:]


def test_create_remove_create_at_full_speed():
    """create 3, remove 3, create 3 piped at once, many times: every line answered,
    no live child left untracked, exit bounded."""
    with Mqtree() as m:
        lines = []
        for _ in range(60):
            lines += ["create 3", "remove 3"]
        lines += ["create 3"]
        m.send(*lines)
        replies = read_replies(m, len(lines))
        for line, reply in zip(lines, replies):
            expected = "Ok" if line.startswith("remove") else "Ok: "
            assert reply.startswith(expected), (line, reply)
        pid = int(replies[-1][4:])
        wait_until(lambda: descendants(m.proc.pid) == [pid], 10,
                   "only the last node 3 alive")
        m.expect("exec 3 sum 2 1 1", "Ok:3: 2")
        assert m.close() == 0
        assert not alive(pid)


def build_patiently(m, *edges):
    """Creates nodes one at a time, again while a short timeout makes a spawn on a
    loaded machine fail."""
    for node, parent in edges:
        for _ in range(20):
            reply = m.ask("create %d %d" % (node, parent))
            if reply.startswith("Ok: "):
                m.pids[node] = int(reply[4:])
                break
            assert reply == "Error: Parent is unavailable", reply
        else:
            raise AssertionError("node %d never came up" % node)


def test_at_most_once_across_stops():
    """30,000 distinct sets to a node that is stopped while they wait in its queue,
    for about the timeout (some cycles less, some more), then continued: no set
    reported failed is visible to a later get, every set reported Ok is. Node 2
    sits below node 1, so its requests cross a live hop.

    Each cycle keeps the node busy in a sleep (the sets queue behind it on its op
    thread), stops it there, and continues it; the next stop waits until every
    reply of the cycle is in. So a stop never lands in the microseconds between
    the node's last deadline check and its answer leaving the process: the one
    window no deadline can close (README, Failures)."""
    # Slower builds (ASan) stretch every time here alike.
    timeout, per_cycle, cycles = int(400 * TIME_SCALE), 1000, 30
    seed = int(os.environ.get("MQTREE_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    with Mqtree("--ordered", "--timeout", str(timeout)) as m:
        build_patiently(m, (1, -1), (2, 1))
        pid = m.pids[2]
        replies = []
        for cycle in range(cycles):
            first = cycle * per_cycle
            m.send("exec 2 sleep %d" % (timeout // 2),
                   *["exec 2 set k%d %d" % (i, i) for i in range(first, first + per_cycle)])
            time.sleep(timeout / 8000)  # the sleep has begun; the sets wait behind it
            os.kill(pid, signal.SIGSTOP)
            time.sleep(rng.uniform(0.2, 1.0) * timeout / 1000)
            os.kill(pid, signal.SIGCONT)
            m.line()  # the sleep's reply, whatever it is
            replies += read_replies(m, per_cycle)
        count = cycles * per_cycle
        failed = [i for i, r in enumerate(replies) if r != "Ok:2"]
        assert all(replies[i] == "Error:2: Node is unavailable" for i in failed), \
            (seed, set(replies))
        wait_until(lambda: m.ask("ping 2") == "Ok: 1", 10, "node 2 continued")
        values = []
        for start in range(0, count, 1000):  # each batch well within the timeout
            m.send(*["exec 2 get k%d" % i for i in range(start, start + 1000)])
            values += read_replies(m, 1000)
        wrong = []
        for i, value in enumerate(values):
            visible = value == "Ok:2: %d" % i
            assert visible or value == "Ok:2: 'k%d' not found" % i, (seed, i, value)
            if visible != (replies[i] == "Ok:2"):
                wrong.append((i, replies[i], value))
        print("seed %d: %d of %d sets reported failed, %d violations" % (
            seed, len(failed), count, len(wrong)))
        assert 0 < len(failed) < count, "seed %d: the stops missed the timeout" % seed
        assert not wrong, "seed %d: %d violations, first %r" % (seed, len(wrong),
                                                                wrong[:5])
        assert m.close() == 0


def node_of(pid):
    """The node id a worker process carries (its --id argument), or None."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as cmdline:
            argv = cmdline.read().split(b"\0")
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(argv[argv.index(b"--id") + 1]) if b"--id" in argv else None


def tree_nodes(m):
    """id -> pid of every node the controller reports, from `tree`."""
    m.send("tree")
    nodes = {}
    assert m.line().startswith("-1 controller")
    while True:
        line = m.line()
        if re.match(r"^\d+ nodes?\b", line):  # the summary line ends the tree
            return nodes
        _, node, pid, _, _ = tree_line(line)
        nodes[node] = pid


def one_process_per_node(m):
    """True when the live workers are exactly the nodes `tree` shows, with their
    pids, and no id has two live processes."""
    live = {}
    for pid in descendants(m.proc.pid):
        node = node_of(pid)
        if alive(pid) and node is not None:
            if node in live:
                return False
            live[node] = pid
    return live == tree_nodes(m)


def test_failed_creates_leave_no_process():
    """With a timeout about the time a spawn takes, creates fail and succeed at
    random; one that failed leaves no process, and creating its id again works."""
    with Mqtree("--timeout", "12") as m:
        lines = ["create %d" % i for i in range(1, 21)]
        lines += ["create %d %d" % (i, i - 20) for i in range(21, 61)]
        lines += ["create %d %d" % (i, i - 40) for i in range(61, 81)]
        m.send(*lines)
        replies = read_replies(m, len(lines))
        assert all(r.startswith("Ok: ") or r.startswith("Error: Parent")
                   for r in replies), replies
        failed = sum(not r.startswith("Ok") for r in replies)
        wait_until(lambda: one_process_per_node(m), 20, "one process per node")
        # Again, for every id that failed: the id is free.
        retry = [line for line, r in zip(lines, replies) if not r.startswith("Ok")]
        m.send(*retry)
        read_replies(m, len(retry))
        wait_until(lambda: one_process_per_node(m), 20, "one process per node")
        print("  %d of %d creates failed at first" % (failed, len(lines)))
        assert m.close() == 0


def test_controller_stopped_during_creates():
    """The controller stopped for longer than the timeout while creates are in
    flight: replies that arrived meanwhile count (they are read before the timers
    fire), and whatever it reports failed has left no process."""
    # The timeout leaves a spawn on a loaded machine time to say HELLO before node
    # 2's deadline (under ASan beside other tests a start took over 9 s once).
    with Mqtree("--timeout", str(int(6000 * TIME_SCALE))) as m:
        m.build((1, -1), (2, 1))
        lines = ["create %d 2" % i for i in range(10, 20)]
        lines += ["create %d" % i for i in range(20, 25)]
        sockets = [os.path.join(run_dir(m.proc.pid), "%d.sock" % i) for i in range(10, 25)]
        m.send(*lines)
        # Stopped once every new worker is past its start and about to say HELLO (it
        # binds its endpoint just before): the answers arrive while the controller is
        # stopped and wait in its socket. (Stopped as soon as the processes existed,
        # an ASan start beside another test outlasted node 2's deadline once.)
        wait_until(lambda: all(os.path.exists(path) for path in sockets), slack(60),
                   "every new worker started")
        os.kill(m.proc.pid, signal.SIGSTOP)
        time.sleep(7 * TIME_SCALE)
        os.kill(m.proc.pid, signal.SIGCONT)
        replies = read_replies(m, len(lines))
        assert all(r.startswith("Ok: ") for r in replies), replies
        wait_until(lambda: one_process_per_node(m), 20, "one process per node")
        assert m.close() == 0


def test_execs_behind_creates():
    """40,000 sets interleaved with the creates of a 50-node random tree, piped at
    once: each waits only for its own node's create (never O(commands held)), none
    is answered unavailable, every one is applied; the same sets on the built tree
    are the yardstick (the ratio is printed; scripts/bench keeps the figure)."""
    rng = random.Random(int(os.environ.get("MQTREE_SEED", 7)))
    nodes, per_create = 50, 800
    lines, sets = [], []
    for node in range(1, nodes + 1):
        parent = rng.choice(range(1, node)) if node > 1 else -1
        lines.append("create %d %d" % (node, parent))
        for _ in range(per_create):
            target = rng.randint(1, node)
            sets.append("exec %d set k%d %d" % (target, len(sets), len(sets)))
            lines.append(sets[-1])
    # A timeout no spawn on a loaded machine comes near: a failure here is the
    # controller's own doing (the old queue took 30 s and failed 39,263 lines).
    # Scaled with the build: under ASan the 40,000 sets on the built tree take about
    # 6.3 s alone (5.9-6.3 s before the node-core rebuild), more beside another test.
    with Mqtree("--ordered", "--timeout", str(int(10000 * TIME_SCALE))) as m:
        started = time.monotonic()
        m.send(*lines)
        replies = read_replies(m, len(lines), 120)
        building = time.monotonic() - started
        wrong = [(line, reply) for line, reply in zip(lines, replies)
                 if not reply.startswith("Ok")]
        assert not wrong, "%d failed, first %r" % (len(wrong), wrong[:3])
        started = time.monotonic()
        m.send(*sets)
        again = read_replies(m, len(sets), 120)
        built = time.monotonic() - started
        assert all(reply.startswith("Ok") for reply in again)
        for index in rng.sample(range(len(sets)), 200):
            node = int(sets[index].split()[1])
            m.expect("exec %d get k%d" % (node, index), "Ok:%d: %d" % (node, index))
        print("  40,000 sets behind creates %.2f s, on the built tree %.2f s (%.1fx)" % (
            building, built, building / built))
        assert m.close() == 0


def test_pingall_reports_the_tree_it_was_sent_to():
    """A pingall waits a whole timeout for a hung node (3). A dead node (2) is
    removed by a later line: the remove waits for the pingall, which reports the
    tree it was sent to, as typed lines would see it."""
    with Mqtree("--timeout", "1500") as m:
        m.build((1, -1), (2, 1), (3, 1))
        kill(m.pids[2])
        wait_until(lambda: m.ask("ping 2") == "Ok: 0", 10, "node 2 known dead")
        freeze(m.pids[3])
        try:
            m.send("pingall", "remove 2")
            first, second = m.line(), m.line()
            assert (first, second) == ("Ok: 2;3", "Ok"), (first, second)
        finally:
            thaw(m.pids[3])
        assert m.close() == 0


def test_pingall_ignores_nodes_born_after_it():
    """A pingall waits a whole timeout for a hung node; a node created meanwhile was
    never asked, so it is not reported unavailable."""
    with Mqtree("--timeout", "1500") as m:
        m.build((1, -1), (2, 1), (3, 1))
        freeze(m.pids[2])
        try:
            m.send("pingall", "create 9 3")
            first, second = m.line(), m.line()
            assert first.startswith("Ok: ") and first != "Ok: 2", (first, second)
            assert second == "Ok: 2", (first, second)
        finally:
            thaw(m.pids[2])
        assert m.close() == 0


if __name__ == "__main__":
    run([test_create_timeout_keeps_the_controller, test_create_remove_create_at_full_speed,
         test_at_most_once_across_stops, test_failed_creates_leave_no_process,
         test_controller_stopped_during_creates, test_execs_behind_creates,
         test_pingall_ignores_nodes_born_after_it,
         test_pingall_reports_the_tree_it_was_sent_to])
