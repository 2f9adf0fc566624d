"""pingall on a chain far deeper than the 200 levels of the BST test: each level keeps a
share of the time left for its own answer, not a fixed amount, so depth does not use
up the timeout and live nodes are never reported unavailable."""
import os
import time

from harness import Mqtree, kill, run, wait_until

# Creating a chain costs depth^2 hops (each create crosses the chain): 500 levels take
# 30 s to 2 min in the Release build on a loaded 2-core machine, but over 4 min under
# sanitizers, where the chain is halved. Both depths are beyond what the old rule, a
# fixed 1 ms a level, allowed: ~238 levels in the default 2000 ms, ~436 in 4000 ms.
# The Release test takes 4000 ms so that a create at the bottom, crossing the chain
# twice at up to ~4 ms a hop on a loaded machine, does not time out.
if os.environ.get("MQTREE_SANITIZED") == "1":
    DEPTH, KILLED, TIMEOUT_MS = 250, 200, 2000
else:
    DEPTH, KILLED, TIMEOUT_MS = 500, 400, 4000


def chain(m, depth):
    """1 -> 2 -> ... -> depth, piped in one go: each create waits for its parent's.

    On a loaded machine a create at the bottom, crossing the chain twice, can outlast
    its timeout; a failed create leaves nothing behind (README, Failures), and every create after
    it fails too (no parent), so the rest is piped again from there, a few times."""
    first = 1
    for attempt in range(4):
        m.send(*["create %d %d" % (node, node - 1) if node > 1 else "create 1"
                 for node in range(first, depth + 1)])
        failed = None
        for node in range(first, depth + 1):
            reply = m.line()
            if failed is None and reply.startswith("Ok: "):
                m.pids[node] = int(reply[4:])
            elif failed is None:
                failed = (node, reply)
        if failed is None:
            return
        print("  create %d -> %r: again from there" % failed)
        first = failed[0]
    raise AssertionError("create %d -> %r, 4 times" % failed)


def test_pingall_deep_chain():
    with Mqtree("--timeout", str(TIMEOUT_MS)) as m:
        started = time.monotonic()
        chain(m, DEPTH)
        print("  %d-deep chain created in %.1f s" % (DEPTH, time.monotonic() - started))
        started = time.monotonic()
        m.expect("pingall", "Ok: -1")
        print("  pingall, %d deep, all up: %.0f ms" % (DEPTH, (time.monotonic() - started) * 1000))
        m.expect("exec %d sum 2 %d 1" % (DEPTH, DEPTH), "Ok:%d: %d" % (DEPTH, DEPTH + 1))
        # A tree-wide op that changes nodes, down the whole chain and back, in time:
        # each node's own answer leaves it at once, but waits one level up with the
        # rest of its subtree. Passed on at once at every level, the answers made
        # depth^2/2 messages, and a 290-deep chain's `set` failed on its last 20-50
        # nodes at the 2000 ms timeout (an attack, 2026-12-02).
        started = time.monotonic()
        m.expect("exec all set x 1", "Ok:1-%d" % DEPTH)
        print("  exec all set, %d deep: %.0f ms" % (DEPTH, (time.monotonic() - started) * 1000))
        m.expect("exec all get x --reduce sum", "Ok:1-%d: %d" % (DEPTH, DEPTH))
        # kill -9 deep down: it and its subtree (its descendants die with it), and
        # nothing else.
        kill(m.pids[KILLED])
        below = "Ok: " + ";".join(str(node) for node in range(KILLED, DEPTH + 1))
        wait_until(lambda: m.ask("pingall") == below, 20, "pingall %s..." % below[:12])
        m.expect("pingall", below)
        m.expect("exec %d sum 1 7" % (KILLED - 1), "Ok:%d: 7" % (KILLED - 1))
        m.expect("remove %d" % KILLED, "Ok")
        m.expect("pingall", "Ok: -1")
        assert m.close(60) == 0


if __name__ == "__main__":
    run([test_pingall_deep_chain])
