"""pingall and heartbeat: what users check first with kill -9 and kill -STOP."""
import signal
import time

from harness import Mqtree, alive, kill, run, slack, wait_until

TIMEOUT_MS = 3000


def build(m):
    """1 -> 2 -> 3 -> 4, 5 under 1, 6 under the controller, 7 under 6."""
    m.build((1, -1), (2, 1), (3, 2), (4, 3), (5, 1), (6, -1), (7, 6))


def wait_pingall(m, expected):
    """Deaths travel up the tree as events: ask until the report is in."""
    wait_until(lambda: m.ask("pingall") == expected, 10, "pingall %s" % expected)


def test_pingall_after_kills():
    with Mqtree("--timeout", str(TIMEOUT_MS)) as m:
        m.expect("pingall", "Ok: -1")
        build(m)
        m.expect("pingall", "Ok: -1")
        kill(m.pids[4])  # a leaf
        wait_pingall(m, "Ok: 4")
        kill(m.pids[2])  # an interior node: it and all below it
        wait_pingall(m, "Ok: 2;3;4")
        kill(m.pids[6])  # a child of the controller
        wait_pingall(m, "Ok: 2;3;4;6;7")
        started = time.monotonic()
        m.expect("pingall", "Ok: 2;3;4;6;7")
        # Known deaths are reported without waiting for anything: well within the
        # timeout, which a pingall waiting for one answer would take.
        assert time.monotonic() - started < min(slack(1.0), TIMEOUT_MS / 2000)
        m.expect("remove 2", "Ok")
        m.expect("pingall", "Ok: 6;7")
        m.expect("remove 6", "Ok")
        m.expect("pingall", "Ok: -1")
        assert m.close() == 0


def test_pingall_stop_and_continue():
    with Mqtree("--timeout", str(TIMEOUT_MS)) as m:
        build(m)
        kill(m.pids[2], signal.SIGSTOP)
        wait_pingall(m, "Ok: 2;3;4")
        m.expect("exec 5 sum 1 5", "Ok:5: 5")
        kill(m.pids[2], signal.SIGCONT)
        wait_pingall(m, "Ok: -1")
        m.expect("exec 4 sum 1 4", "Ok:4: 4")
        assert m.close() == 0


def test_pingall_two_stopped_subtrees_within_one_timeout():
    with Mqtree("--timeout", str(TIMEOUT_MS)) as m:
        build(m)
        kill(m.pids[3], signal.SIGSTOP)
        kill(m.pids[7], signal.SIGSTOP)
        started = time.monotonic()
        m.expect("pingall", "Ok: 3;4;7")
        assert time.monotonic() - started < TIMEOUT_MS / 1000 + slack(1.0)
        m.expect("pingall", "Ok: 3;4;7")
        kill(m.pids[3], signal.SIGCONT)
        kill(m.pids[7], signal.SIGCONT)
        wait_pingall(m, "Ok: -1")
        assert m.close() == 0


def test_pingall_while_busy_and_on_a_chain():
    with Mqtree("--timeout", str(TIMEOUT_MS)) as m:
        m.create(1)
        for node in range(2, 41):
            m.create(node, node - 1)
        m.send("exec 20 sleep 1000")
        # A node busy with an op still answers: its loop is not its op thread.
        m.expect("pingall", "Ok: -1")
        assert m.line() == "Ok:20"
        kill(m.pids[30])
        wait_pingall(m, "Ok: " + ";".join(str(node) for node in range(30, 41)))
        assert m.close() == 0


def lines_within(m, count, seconds):
    """The next count lines, all printed within seconds from now (or it fails)."""
    started = time.monotonic()
    lines = [m.line(max(0.0, started + seconds - time.monotonic()))
             for _ in range(count)]
    return lines, time.monotonic() - started


def wait_dead(m, expected):
    """Asks pingall until it says expected; nothing else may be printed meanwhile
    (wait_pingall would skip over a stray line)."""
    def reported():
        got = m.ask("pingall")
        assert got.startswith("Ok: "), got
        return got == expected
    wait_until(reported, 10, "pingall %s" % expected)


def test_heartbeat_kill():
    with Mqtree("--timeout", str(TIMEOUT_MS)) as m:
        build(m)
        m.expect("heartbeat 300", "Ok")
        # All beat: nothing to say for 6 intervals. The sleeping node is the timer,
        # and its reply must be the next line.
        m.expect("exec 5 sleep 1800", "Ok:5")
        kill(m.pids[2])
        # Quiet, within 4 intervals (scripts/bench measures it); the bound is only to
        # fail instead of hanging: a starved parent forgives its children one round.
        lines, _ = lines_within(m, 3, 3.0 + slack(3.0))
        assert lines == ["Heartbit: node 2 is unavailable now",
                         "Heartbit: node 3 is unavailable now",
                         "Heartbit: node 4 is unavailable now"], lines
        m.expect("exec 5 sleep 1500", "Ok:5")  # once, not at every tick
        m.expect("heartbeat 400", "Ok")  # nor at a new interval
        m.expect("exec 5 sleep 500", "Ok:5")
        kill(m.pids[6])
        lines, _ = lines_within(m, 2, 5)
        assert lines == ["Heartbit: node 6 is unavailable now",
                         "Heartbit: node 7 is unavailable now"], lines
        # Forgetting dead nodes says nothing either: the next line is pingall's.
        m.expect("remove 2", "Ok")
        m.expect("pingall", "Ok: 6;7")
        m.expect("heartbeat 0", "Ok")
        assert m.close() == 0


def test_heartbeat_stop_continue_and_busy():
    with Mqtree("--timeout", str(TIMEOUT_MS)) as m:
        build(m)
        m.expect("heartbeat 300", "Ok")
        # A node busy in a long exec keeps beating: never reported. Its reply is
        # the next line.
        m.expect("exec 1 sleep 2000", "Ok:1")
        kill(m.pids[3], signal.SIGSTOP)
        lines, _ = lines_within(m, 2, 5)
        assert lines == ["Heartbit: node 3 is unavailable now",
                         "Heartbit: node 4 is unavailable now"], lines
        m.expect("exec 5 sleep 1600", "Ok:5")  # past 4 intervals: still nothing new
        kill(m.pids[3], signal.SIGCONT)
        lines, _ = lines_within(m, 2, 5)
        assert lines == ["Heartbit: node 3 is available again",
                         "Heartbit: node 4 is available again"], lines
        m.expect("exec 5 sleep 500", "Ok:5")
        # Nodes created later beat too; heartbeat 0 stops the lines.
        m.create(8, 7)
        kill(m.pids[8])
        assert m.line() == "Heartbit: node 8 is unavailable now"
        m.expect("heartbeat 0", "Ok")
        kill(m.pids[5])
        # Once the death is known (its parent reports it at once), a Heartbit line
        # for it would have come before pingall's reply.
        wait_dead(m, "Ok: 5;8")
        assert m.close() == 0


def test_descendants_of_a_killed_node_exit():
    with Mqtree("--timeout", str(TIMEOUT_MS)) as m:
        build(m)
        kill(m.pids[2])
        started = time.monotonic()
        for node in (3, 4):
            wait_until(lambda: not alive(m.pids[node]), 3, "node %d gone" % node)
        assert time.monotonic() - started < slack(1.5)
        # They stay listed as unavailable until removed.
        wait_pingall(m, "Ok: 2;3;4")
        assert m.close() == 0


run([test_pingall_after_kills, test_pingall_stop_and_continue,
     test_pingall_two_stopped_subtrees_within_one_timeout,
     test_pingall_while_busy_and_on_a_chain, test_heartbeat_kill,
     test_heartbeat_stop_continue_and_busy, test_descendants_of_a_killed_node_exit])
