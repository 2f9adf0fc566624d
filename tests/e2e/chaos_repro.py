"""Small, mostly deterministic reproductions of the faults the chaos soak
(test_chaos.py) found on main at 24d0ad5. Not a ctest (the soak is); run by hand:
    MQTREE_BIN=build/release/mqtree python3 tests/e2e/chaos_repro.py
Each check prints `ok` or `FAULT` with the evidence; exits 1 if any fault shows."""
import os
import random
import signal
import sys
import time

from harness import Mqtree


def stopped_with_request_sent():
    """At most once: a set answered unavailable because its node (or the node's
    parent) was stopped with the request already sent must not run after SIGCONT."""
    bad = []
    for victim in (2, 1):
        with Mqtree("--timeout", "500") as m:
            m.create(1)
            m.create(2, 1)
            m.send("exec 2 sleep 100", "exec 2 set X 42")
            os.kill(m.pids[victim], signal.SIGSTOP)
            replies = [m.line(), m.line()]
            os.kill(m.pids[victim], signal.SIGCONT)
            time.sleep(0.3)
            got = m.ask("exec 2 get X")
            if replies[1] != "Ok:2" and got == "Ok:2: 42":
                bad.append("node %d stopped: %s, then get -> %s" % (victim, replies, got))
            m.close()
    return bad


def timed_out_under_load():
    """At most once, no signal at all: sets piped faster than the tree answers them
    within --timeout 200; those answered unavailable must never take effect."""
    with Mqtree("--ordered", "--timeout", "200") as m:
        m.create(1)
        m.create(2, 1)
        m.create(3, 2)
        lines = ["exec 3 set k%d %d" % (i, i) for i in range(10000)]
        m.send(*lines)
        replies = [m.line(120) for _ in lines]
        failed = [i for i, r in enumerate(replies) if r != "Ok:3"]
        time.sleep(0.5)
        m.send(*["exec 3 get k%d" % i for i in failed])
        back = [(lines[i], replies[i], g) for i, g in
                zip(failed, [m.line(120) for _ in failed]) if "not found" not in g]
        m.close(60)
    return ["%d of 10000 sets answered not Ok, %d of them visible later, e.g. %s" % (
        len(failed), len(back), back[:2])] if back else []


def piped_creates():
    """A random tree of 300 piped at once gets the replies it gets typed line by line
    (README, How it works, Asynchrony): no `Parent is unavailable` under parents that
    are up."""
    rng = random.Random(1)
    lines = ["create 1"] + ["create %d %d" % (i, rng.randint(1, i - 1))
                            for i in range(2, 301)]
    lines += ["exec %d sum 1 %d" % (i, i) for i in range(1, 301)]
    with Mqtree("--ordered") as m:
        m.send(*lines)
        replies = [m.line(120) for _ in lines]
        m.close(60)
    bad = [(l, r) for l, r in zip(lines, replies) if not r.startswith("Ok")]
    return ["%d of %d lines not Ok, e.g. %s" % (len(bad), len(lines), bad[:3])] if bad else []


def pingall_before_a_create():
    """pingall shows what typed lines would: a node created by a later line is not
    in it."""
    with Mqtree("--ordered") as m:
        m.create(1)
        m.send("pingall", "create 2 1")
        replies = [m.line(), m.line()]
        m.close()
    return ["'pingall', 'create 2 1' piped -> %s" % replies] if replies[0] != "Ok: -1" else []


def main():
    faults = 0
    for check in (stopped_with_request_sent, timed_out_under_load, piped_creates,
                  pingall_before_a_create):
        started = time.monotonic()
        bad = check()
        faults += bool(bad)
        print("%-5s %s (%.1f s)%s" % ("FAULT" if bad else "ok", check.__name__,
                                      time.monotonic() - started,
                                      "".join("\n      " + b for b in bad)))
        sys.stdout.flush()
    sys.exit(1 if faults else 0)


if __name__ == "__main__":
    main()
