"""The chaos soak, bounded: a 300-node random tree, up to 100,000 random commands
(streamed for at most 35 s) piped at full speed (--ordered) while random nodes are
killed (-9), stopped and continued.
The invariants are listed in chaos.py. In the sanitizer build (detected with ldd) the
round is smaller; MQTREE_CHAOS_COMMANDS, MQTREE_CHAOS_NODES and MQTREE_CHAOS_SEED
override the defaults. A failing round leaves its transcript in /tmp."""
import os
import random
import sys
import tempfile

from harness import BIN, run
import chaos


def test_chaos():
    asan = chaos.sanitized(BIN)
    commands = int(os.environ.get("MQTREE_CHAOS_COMMANDS") or (20000 if asan else 100000))
    nodes = int(os.environ.get("MQTREE_CHAOS_NODES") or (150 if asan else 300))
    seed = int(os.environ.get("MQTREE_CHAOS_SEED") or random.SystemRandom().randrange(10**9))
    print("chaos: seed %d, %d nodes, %d commands%s (replay: MQTREE_CHAOS_SEED=%d)" % (
        seed, nodes, commands, ", sanitizer build" if asan else "", seed))
    sys.stdout.flush()
    # The timeout scales with the build (MQTREE_TIME_SCALE): under the sanitizers a
    # burst of 150 spawns on two cores outlasts 2000 ms now and then, and the build
    # phase counts any failed create as a violation (f774a75's code too, same seed).
    timeout_ms = int(2000 * float(os.environ.get("MQTREE_TIME_SCALE", "1")))
    round_ = chaos.Round(BIN, seed, nodes=nodes, commands=commands, time_limit=35,
                         timeout_ms=timeout_ms,
                         log=lambda s: (print("  " + s), sys.stdout.flush()))
    figures = round_.run()
    print("chaos: " + chaos.summary(figures) + ", %.1f s" % figures["seconds"])
    if round_.violations:
        path = os.path.join(tempfile.gettempdir(), "mqtree-chaos-%d.log" % seed)
        round_.save_transcript(path)
        shown = "\n".join(round_.violations[:10])
        raise AssertionError("%d violations (%s), seed %d, transcript %s; first ones:\n%s" % (
            figures["violations"], ", ".join("%s %d" % kv for kv in sorted(
                round_.kinds.items())), seed, path, shown))


if __name__ == "__main__":
    run([test_chaos])
