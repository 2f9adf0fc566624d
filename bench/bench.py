"""scripts/bench: every mqtree figure next to its floor, measured in the same run.

Runs the raw-libzmq floor (bench/floor.c) and drives the real mqtree shell
(bench/driver.c, and here for the figures where a few microseconds do not matter),
then prints one table and writes it to bench/results/ as CSV and JSON. Medians and
p99 over repetitions; ratios, not lone absolute times: the machine is small and
noisy.

With --baseline-dir (scripts/bench --baseline REV builds REV there), every mqtree
figure is measured for that build too, in the same run: each measurement runs the
baseline's mqtree and this build's one after the other (A B A B ...), so that the
machine's load falls on both alike. The floors are measured once, the driver is this
build's for both.
"""
import argparse
import csv
import datetime
import json
import os
import random
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "release")
MQTREE = os.path.join(BUILD, "mqtree")
FLOOR = os.path.join(BUILD, "mqtree-bench-floor")
DRIVER = os.path.join(BUILD, "mqtree-bench-driver")
HZ = os.sysconf("SC_CLK_TCK")


# The driver builds a tree with every create written at once. On a machine loaded by
# others, the last ones can outlast the timeout (2 s in the run with stopped nodes,
# which its target names): nothing is measured yet, so the run is tried again.
UNBUILT = "got 'Error: Parent is unavailable'"
TRIES = 3


def measure(command, timeout=600):
    """Runs a bench program; returns its "name value" lines as a dict."""
    for attempt in range(1, TRIES + 1):
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode == 0 or UNBUILT not in result.stderr or attempt == TRIES:
            break
        print("bench: the tree was not built in time (a loaded machine?); again: %s" %
              " ".join(command), file=sys.stderr, flush=True)
    if result.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(command), result.stderr.strip()))
    values = {}
    for line in result.stdout.splitlines():
        name, value = line.split()
        values[name] = float(value)
    return values


def floor(*args):
    return measure([FLOOR] + [str(arg) for arg in args])


def driver(mqtree, scenario, *args, options=("--ordered",)):
    return measure([DRIVER, mqtree, scenario] + [str(arg) for arg in args] + list(options))


def busy_seconds():
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    return (sum(fields[:3]) + sum(fields[5:8])) / HZ


class Shell:
    """The mqtree shell on pipes, for the figures measured in seconds."""

    def __init__(self, mqtree, *options):
        self.proc = subprocess.Popen([mqtree, "--ordered", *options], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, bufsize=0)

    def send(self, data):
        self.proc.stdin.write(data if isinstance(data, bytes) else data.encode())

    def line(self):
        return self.proc.stdout.readline().decode().rstrip("\n")

    def tree(self, count, seed=3):
        rng = random.Random(seed)
        self.send("".join("create %d %d\n" % (node, -1 if node == 1 else rng.randint(1, node - 1))
                          for node in range(1, count + 1)))
        pids = []
        for _ in range(count):
            reply = self.line()
            assert reply.startswith("Ok: "), reply
            pids.append(int(reply[4:]))
        return pids

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def sets_behind_creates(mqtree, nodes, per_create, seed=7):
    """Seconds for nodes creates of a random tree, each followed by per_create sets to
    random nodes made so far, all piped at once; then for the same sets again on the
    built tree. Each set waits only for its own node's create."""
    import threading
    rng = random.Random(seed)
    lines, sets = [], []
    for node in range(1, nodes + 1):
        lines.append("create %d %d\n" % (node, rng.randint(1, node - 1) if node > 1 else -1))
        for _ in range(per_create):
            target = rng.randint(1, node)
            sets.append("exec %d set k%d %d\n" % (target, len(sets), len(sets)))
            lines.append(sets[-1])
    shell = Shell(mqtree, "--timeout", "10000")
    timings = []
    for batch in ("".join(lines), "".join(sets)):
        count = batch.count("\n")
        failed = []

        def read():
            failed.extend(reply for reply in (shell.line() for _ in range(count))
                          if not reply.startswith("Ok"))

        reader = threading.Thread(target=read)
        started = time.monotonic()
        reader.start()
        shell.send(batch)
        reader.join()
        timings.append(time.monotonic() - started)
        assert not failed, failed[:3]
    shell.close()
    return timings


def heartbeat_cpu(mqtree, count, interval, seconds):
    shell = Shell(mqtree, "--timeout", "10000")
    shell.tree(count)
    shell.send("heartbeat %d\n" % interval)
    assert shell.line() == "Ok"
    time.sleep(1)  # let every node start beating
    busy, start = busy_seconds(), time.monotonic()
    time.sleep(seconds)
    cores = (busy_seconds() - busy) / (time.monotonic() - start)
    shell.close()
    return cores


def idle_pss(mqtree, count):
    shell = Shell(mqtree)
    pids = shell.tree(count)
    time.sleep(0.5)
    total = 0.0
    for pid in pids:
        with open("/proc/%d/smaps_rollup" % pid) as smaps:
            for line in smaps:
                if line.startswith("Pss:"):
                    total += float(line.split()[1])
    shell.close()
    return total / count / 1024


def number_line(count):
    """count numbers in [-999, 999], built from a repeated block; returns (text, sum)."""
    block = min(count, 100000)
    rng = random.Random(11)
    numbers = [rng.randint(-999, 999) for _ in range(block)]
    text = (" ".join(map(str, numbers)) + " ").encode()
    repeats = count // block
    return text * repeats, sum(numbers) * repeats


def peak_rss_mb(pids):
    peak = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
    return peak / 1024


def big_sum(mqtree, count, depth):
    shell = Shell(mqtree, "--timeout", "60000")
    pids = [shell.proc.pid]
    for node in range(1, depth + 1):
        shell.send("create %d %d\n" % (node, node - 1 if node > 1 else -1))
        pids.append(int(shell.line()[4:]))
    numbers, expected = number_line(count)
    line = b"exec %d sum %d " % (depth, count) + numbers + b"\n"
    start = time.monotonic()
    shell.send(line)
    reply = shell.line()
    elapsed = time.monotonic() - start
    assert reply == "Ok:%d: %d" % (depth, expected), reply[:80]
    peak = peak_rss_mb(pids)
    shell.close()
    return elapsed * 1000, len(line) / 1e6, peak


# A figure more than this much worse than the baseline's is marked.
WORSE = 1.05


def median_of(values):
    """The median of measurements of one kind: numbers, tuples or dicts of numbers."""
    first = values[0]
    if isinstance(first, dict):
        return {key: median_of([value[key] for value in values]) for key in first}
    if isinstance(first, tuple):
        return tuple(median_of([value[i] for value in values]) for i in range(len(first)))
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under 2 minutes")
    parser.add_argument("--baseline-dir", metavar="DIR",
                        help="a Release build of another revision to measure beside this one "
                             "(scripts/bench --baseline REV makes it)")
    parser.add_argument("--baseline-rev", metavar="REV", default="baseline",
                        help="what to call it")
    parser.add_argument("--rounds", type=int, default=1, metavar="N",
                        help="with a baseline: measure each side N times, A B then B A "
                             "alternately, and keep the medians (default 1)")
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.rounds < 1:
        parser.error("--rounds must be at least 1")
    if options.check:  # scripts/bench: the arguments are good, before it builds
        return 0
    quick = options.quick
    baseline = os.path.join(options.baseline_dir, "mqtree") if options.baseline_dir else None
    if baseline and not os.access(baseline, os.X_OK):
        parser.error("no mqtree in %s" % options.baseline_dir)
    # Killed: subprocess.run kills the program it waits for; the shells see end of input.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    samples = 1000 if quick else 5000
    nodes = 300 if quick else 1000
    cpu_nodes, cpu_seconds = (200, 3) if quick else (500, 10)
    big = 10**7 if quick else 10**8
    rows = []

    def both(measurement):
        """measurement(mqtree) of this build, and of the baseline's (None without one),
        interleaved; medians over --rounds."""
        if not baseline:
            return measurement(MQTREE), None
        ours, theirs = [], []
        for round in range(options.rounds):
            order = [(baseline, theirs), (MQTREE, ours)]
            for mqtree, into in (order if round % 2 == 0 else order[::-1]):
                into.append(measurement(mqtree))
        return median_of(ours), median_of(theirs)

    def row(figure, value, unit, floor_value, floor_name, target, ok, base=None):
        ratio = value / floor_value if floor_value else None
        rows.append({"figure": figure, "mqtree": round(value, 3), "unit": unit,
                     "floor": round(floor_value, 3) if floor_value else None,
                     "floor_is": floor_name,
                     "ratio": round(ratio, 2) if ratio else None,
                     "target": target, "met": bool(ok)})
        status = "ok" if ok else "MISSED"
        line = "  %-58s %10.1f %-5s floor %10s  ratio %5s  %s" % (
            figure, value, unit, "%.1f" % floor_value if floor_value else "-",
            "%.2f" % ratio if ratio else "-", "%-6s" % status if baseline else status)
        if baseline:
            # Throughput is better higher; every other figure, lower.
            change = value / base if base else None
            worse = change is not None and (change < 1 / WORSE if unit == "/s" else change > WORSE)
            rows[-1].update({"baseline": round(base, 3), "vs_baseline": round(change, 3)
                             if change is not None else None, "worse": worse})
            line = "%s  baseline %10.1f  now/baseline %5s%s" % (
                line, base, "%.3f" % change if change is not None else "-",
                "  WORSE" if worse else "")
        print(line, flush=True)

    def on(result, pick):
        """pick applied to a baseline's result, which may be None."""
        return pick(result) if result is not None else None

    title = "mqtree bench%s — %s" % (" --quick" if quick else "", time.strftime("%Y-%m-%d %H:%M"))
    if baseline:
        title += " — against %s, %d round(s), A B interleaved; WORSE: more than %d %% worse" % (
            options.baseline_rev, options.rounds, round((WORSE - 1) * 100))
    print(title)
    # --- latency -------------------------------------------------------------------
    rtt = floor("rtt", "ipc", samples)
    rtt_tcp = floor("rtt", "tcp", samples)
    shell_alone, shell_alone_base = both(lambda m: driver(m, "exec", 0, samples))
    d1, d1_base = both(lambda m: driver(m, "exec", 1, samples))
    row("exec sum 1 1, depth 1, p50 (us)", d1["exec_d1_p50_us"], "us",
        rtt["rtt_ipc_p50_us"], "one-hop RTT ipc", "<= 1.5x",
        d1["exec_d1_p50_us"] <= 1.5 * rtt["rtt_ipc_p50_us"],
        on(d1_base, lambda r: r["exec_d1_p50_us"]))
    row("exec sum 1 1, depth 1, p99 (us)", d1["exec_d1_p99_us"], "us",
        rtt["rtt_ipc_p99_us"], "one-hop RTT ipc p99", "<= 1.5x",
        d1["exec_d1_p99_us"] <= 1.5 * rtt["rtt_ipc_p99_us"],
        on(d1_base, lambda r: r["exec_d1_p99_us"]))
    row("  of which: the shell's own pipes (exec on no node), p50", shell_alone["exec_d0_p50_us"],
        "us", None, "-", "info", True, on(shell_alone_base, lambda r: r["exec_d0_p50_us"]))
    d1_tcp, d1_tcp_base = both(lambda m: driver(m, "exec", 1, samples,
                                                options=("--ordered", "--transport", "tcp")))
    row("exec depth 1 over tcp, p50 (us)", d1_tcp["exec_d1_p50_us"], "us",
        rtt_tcp["rtt_tcp_p50_us"], "one-hop RTT tcp", "<= 1.5x",
        d1_tcp["exec_d1_p50_us"] <= 1.5 * rtt_tcp["rtt_tcp_p50_us"],
        on(d1_tcp_base, lambda r: r["exec_d1_p50_us"]))
    for depth in (10, 50):
        chain = floor("chain", depth, samples // 5)
        ours, ours_base = both(lambda m: driver(m, "exec", depth, samples // 5))
        raw_hop = (chain["chain_%d_p50_us" % depth] - rtt["rtt_ipc_p50_us"]) / (depth - 1)

        def hop(deep, shallow):
            return (deep["exec_d%d_p50_us" % depth] - shallow["exec_d1_p50_us"]) / (depth - 1)

        our_hop = hop(ours, d1)
        row("added latency per level, chain of %d (us)" % depth, our_hop, "us", raw_hop,
            "raw relay per hop", "<= 1.5x", our_hop <= 1.5 * raw_hop,
            on(ours_base, lambda r: hop(r, d1_base)))
    # --- throughput ------------------------------------------------------------------
    messages = 50000 if quick else 200000
    for depth in (1, 5):
        raw = floor("pipeline", depth, messages, 10000)["pipeline_%d_per_s" % depth]
        ours, ours_base = both(lambda m: driver(m, "pipeline", depth, messages,
                                                options=("--ordered", "--timeout", "60000"))
                               ["pipeline_d%d_per_s" % depth])
        row("pipelined exec, depth %d (per s)" % depth, ours, "/s", raw,
            "raw pipelined, %d hop(s)" % depth, ">= 0.5x", ours >= 0.5 * raw, ours_base)
    # --- create ----------------------------------------------------------------------
    spawn = floor("spawn", 200 if quick else 500)
    create, create_base = both(lambda m: driver(m, "create", nodes))
    row("create, per node p50 (random tree of %d) (us)" % nodes, create["create_p50_us"],
        "us", spawn["spawn_p50_us"], "posix_spawn + connect + ready", "<= 1.5x",
        create["create_p50_us"] <= 1.5 * spawn["spawn_p50_us"],
        on(create_base, lambda r: r["create_p50_us"]))
    # --- commands waiting behind creates ------------------------------------------------
    (behind, built), behind_base = both(lambda m: tuple(
        sets_behind_creates(m, 50, 200 if quick else 800)))
    row("sets piped behind the creates of a 50-node tree (s)", behind, "s", built,
        "the same sets, tree built", "<= 2x", behind <= 2 * built,
        on(behind_base, lambda r: r[0]))
    # --- pingall ---------------------------------------------------------------------
    # The tree's creates are written at once: on a loaded machine the last ones take
    # longer than the default 2 s timeout, and the run ended with "Parent is
    # unavailable". With every node up, the timeout changes no pingall's time.
    for shape, count in (("random", nodes), ("balanced", nodes), ("chain", 100)):
        key = "pingall_%s_%d_stopped_0_p50_us" % (shape, count)
        value, base = both(lambda m: driver(m, "pingall", count, shape, 20, 0,
                                            options=("--ordered", "--timeout", "10000"))[key]
                           / 1000)
        row("pingall, %d nodes %s, all up, p50 (ms)" % (count, shape), value, "ms", None, "-",
            "<= 150 ms", value <= 150, base)
    key = "pingall_random_%d_stopped_10_p50_us" % nodes
    value, base = both(lambda m: driver(m, "pingall", nodes, "random", 10, 10,
                                        options=("--ordered", "--timeout", "2000"))[key] / 1000)
    row("pingall, %d nodes, 10 SIGSTOPped, p50 (ms)" % nodes, value, "ms", None, "-",
        "<= timeout + 50 ms", value <= 2000 + 50, base)
    # --- heartbeat CPU ---------------------------------------------------------------
    # 300 ms: the shortest interval the shell accepts (HEARTBEAT_MIN_MS).
    for interval in (300, 1000):
        raw = floor("hbtree", cpu_nodes, interval, cpu_seconds)["hbtree_cores"]
        ours, ours_base = both(lambda m: heartbeat_cpu(m, cpu_nodes, interval, cpu_seconds))
        row("whole-tree CPU, %d nodes, heartbeat %d ms (cores)" % (cpu_nodes, interval), ours,
            "cores", raw, "raw tree, same beats", "<= 1.3x", ours <= 1.3 * raw, ours_base)
    # --- memory ----------------------------------------------------------------------
    raw_pss = floor("idle", 50)["idle_pss_mb"]
    ours_pss, ours_pss_base = both(lambda m: idle_pss(m, 50 if quick else 100))
    row("idle memory (PSS) per worker (MB)", ours_pss, "MB", raw_pss, "raw idle zmq worker",
        "<= floor + 0.5 MB", ours_pss <= raw_pss + 0.5, ours_pss_base)
    # --- big sums --------------------------------------------------------------------
    parse = floor("parse", 10**7)
    transfer = floor("transfer", 39000000, 3)
    (ms, megabytes, _), base = both(lambda m: big_sum(m, 10**7, 2))
    limit = 3 * parse["parse_ms"] + 2 * transfer["transfer_p50_us"] / 1000
    row("exec sum of 10^7 numbers at depth 2 (%.0f MB line) (ms)" % megabytes, ms, "ms", limit,
        "3x parse + 2x transfer", "<= 1x", ms <= limit, on(base, lambda r: r[0]))
    (ms, megabytes, peak), base = both(lambda m: big_sum(m, big, 1))
    label = "10^8" if big == 10**8 else "10^7"
    row("exec sum of %s numbers at depth 1 (%.0f MB line) (ms)" % (label, megabytes), ms, "ms",
        None, "-", "<= 5000 ms", ms <= 5000, on(base, lambda r: r[0]))
    row("  peak RSS of any process during it (MB)", peak, "MB", megabytes, "the line",
        "<= 2x the line", peak <= 2 * megabytes, on(base, lambda r: r[2]))

    results = os.path.join(ROOT, "bench", "results")
    os.makedirs(results, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    report = {"quick": quick, "when": stamp, "rows": rows}
    if baseline:
        report.update({"baseline": options.baseline_rev, "rounds": options.rounds})
    for name in ("latest", stamp):
        with open(os.path.join(results, name + ".json"), "w") as out:
            json.dump(report, out, indent=1)
        with open(os.path.join(results, name + ".csv"), "w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    missed = [r["figure"] for r in rows if not r["met"]]
    print("%d figures, %d met, %d missed; results in bench/results/latest.{csv,json}" % (
        len(rows), len(rows) - len(missed), len(missed)))
    if baseline:
        changes = sorted(r["vs_baseline"] for r in rows if r["vs_baseline"] is not None)
        worse = [r["figure"].strip() for r in rows if r["worse"]]
        print("now/baseline over %d figures: min %.3f, median %.3f, max %.3f; %d more than "
              "%d %% worse%s" % (len(changes), changes[0], median_of(changes), changes[-1],
                                 len(worse), round((WORSE - 1) * 100),
                                 (": " + "; ".join(worse)) if worse else ""))


if __name__ == "__main__":
    sys.exit(main())
