"""scripts/soak: chaos rounds (chaos.py) until the time is up, with totals."""
import argparse
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chaos  # noqa: E402


def main():
    parser = argparse.ArgumentParser(prog="scripts/soak")
    parser.add_argument("--binary", required=True)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--nodes", type=int, default=300)
    parser.add_argument("--commands", type=int, default=100000)
    parser.add_argument("--timeout", type=int, default=2000)
    parser.add_argument("--round-minutes", type=float, default=3,
                        help="a round streams at most this long (default 3)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**9)
    started = time.monotonic()
    end = started + args.minutes * 60
    print("soak: %s, %.1f minutes, %d nodes, %d commands a round, --timeout %d, seed %d" % (
        args.binary, args.minutes, args.nodes, args.commands, args.timeout, seed))
    sys.stdout.flush()
    totals, kinds, failed, rounds = {}, {}, [], 0
    while rounds == 0 or time.monotonic() < end - 10:
        round_seed = seed + rounds
        rounds += 1
        left = end - time.monotonic()
        r = chaos.Round(args.binary, round_seed, nodes=args.nodes, commands=args.commands,
                        timeout_ms=args.timeout, time_limit=max(10.0, min(left - chaos.GRACE, args.round_minutes * 60)),
                        log=lambda s: (print("  " + s), sys.stdout.flush()))
        figures = r.run()
        print("round %d (seed %d): %s, %.1f s" % (rounds, round_seed, chaos.summary(figures),
                                                  figures["seconds"]))
        for key, value in figures.items():
            totals[key] = totals.get(key, 0) + value
        for kind, count in r.kinds.items():
            kinds[kind] = kinds.get(kind, 0) + count
        if r.violations:
            path = os.path.join(tempfile.gettempdir(), "mqtree-chaos-%d.log" % round_seed)
            r.save_transcript(path)
            failed.append(round_seed)
            print("  %d violations (%s); transcript %s" % (
                figures["violations"], ", ".join("%s %d" % kv for kv in sorted(
                    r.kinds.items())), path))
        sys.stdout.flush()
    print("soak: %d rounds in %.1f minutes: %s" % (
        rounds, (time.monotonic() - started) / 60, chaos.summary(totals)))
    if kinds:
        print("soak: violations by invariant: " + ", ".join(
            "%s %d" % kv for kv in sorted(kinds.items())))
        print("soak: failing seeds: " + " ".join(map(str, failed)))
    return 1 if totals.get("violations") else 0


if __name__ == "__main__":
    sys.exit(main())
