"""scripts/bench: every mqtree figure next to its floor, measured in the same run.

Runs the raw-libzmq floor (bench/floor.c) and drives the real mqtree shell
(bench/driver.c, and here for the figures where a few microseconds do not matter),
then prints one table and writes it to bench/results/ as CSV and JSON. Medians and
p99 over repetitions; ratios, not lone absolute times: the machine is small and
noisy.

The multi-host figures (host_figures) make network namespaces as hosts (needs root
and `ip`; without them they are skipped with the reason): exec per hop across hosts
with CURVE and --insecure, create through the netns launcher vs a local spawn, and
partition detection against 4 x heartbeat; each beside its floor, in interleaved
rounds, every round printed. --hosts-only runs only those, --no-hosts all but those;
doc/hosts-bench.md has the method and figures.

With --baseline-dir (scripts/bench --baseline REV builds REV there), every mqtree
figure is measured for that build too, in the same run: each measurement runs the
baseline's mqtree and this build's one after the other (A B A B ...), so that the
machine's load falls on both alike. The floors are measured once, the driver is this
build's for both.
"""
import argparse
import csv
import datetime
import glob
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
# Where a figure is driven through the ideal shell instead of mqtree's (the floor's
# ideal-shell mode: reads a line, sends it one ipc hop to a node that sums, prints).
IDEAL = "ideal-shell"


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
    if mqtree == IDEAL:
        mqtree, options = FLOOR, ("ideal-shell",)
    return measure([DRIVER, mqtree, scenario] + [str(arg) for arg in args] + list(options))


def interleaved(blocks, *measurements):
    """Each measurement() run blocks times, in turns (A B A B ...), so that the
    machine's load falls on all alike; the medians, in the order given."""
    results = [[] for _ in measurements]
    for _ in range(blocks):
        for into, measurement in zip(results, measurements):
            into.append(measurement())
    return [median_of(values) for values in results]


def busy_seconds():
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    return (sum(fields[:3]) + sum(fields[5:8])) / HZ


class Shell:
    """The mqtree shell on pipes, for the figures measured in seconds."""

    def __init__(self, mqtree, *options):
        # The ideal shell (floor ideal-shell) takes mqtree's lines, not its options.
        argv = [FLOOR, "ideal-shell"] if mqtree == IDEAL else [mqtree, "--ordered", *options]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     bufsize=0)

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


def tree_wide(mqtree, count, fanout, samples, blocks=3):
    """Tree-wide commands on count nodes, fanout per node (the controller's own
    included): `exec all sum 1 1` closed-loop against pingall on the same tree, in
    turns (p50 ms each); count single `exec i sum 1 1` piped at once (median of
    blocks, ms); and the messages the controller received per broadcast (stats)."""
    shell = Shell(mqtree, "--timeout", "10000")
    shell.send("".join("create %d %d\n" % (i, (i - 1) // fanout or -1)
                       for i in range(1, count + 1)))
    for _ in range(count):
        reply = shell.line()
        assert reply.startswith("Ok: "), reply
    everyone = "Ok:1-%d: 1" % count

    def timed(line, replies):
        start = time.monotonic()
        shell.send(line)
        got = [shell.line() for _ in range(replies)]
        return (time.monotonic() - start) * 1000, got

    def cpu_ms():
        """The controller's CPU time so far, all its threads, in ms: the scheduler's
        nanoseconds (/proc/PID/task/*/schedstat), since one broadcast's cost is well
        under the 10 ms tick that /proc/PID/stat counts in."""
        total = 0
        for path in glob.glob("/proc/%d/task/*/schedstat" % shell.proc.pid):
            try:
                with open(path) as stat:
                    total += int(stat.read().split()[0])
            except OSError:
                pass  # a thread that ended: its time is lost to both sides alike
        return total / 1e6

    pings, broadcasts, broadcast_cpu = [], [], 0
    for _ in range(samples):
        ms, got = timed("pingall\n", 1)
        assert got == ["Ok: -1"], got
        pings.append(ms)
        cpu = cpu_ms()
        ms, got = timed("exec all sum 1 1\n", 1)
        broadcast_cpu += cpu_ms() - cpu
        assert got == [everyone], got
        broadcasts.append(ms)
    singles, singles_cpu = [], 0
    for _ in range(blocks):
        cpu = cpu_ms()
        ms, got = timed("".join("exec %d sum 1 1\n" % i for i in range(1, count + 1)), count)
        singles_cpu += cpu_ms() - cpu
        assert got == ["Ok:%d: 1" % i for i in range(1, count + 1)], got[:3]
        singles.append(ms)

    def received():
        _, got = timed("stats\n", 1)
        return int(got[0].split("received ")[1].split(",")[0])
    before = received()
    timed("exec all sum 1 1\n", 1)
    per_broadcast = received() - before
    children = int(timed("stats\n", 1)[1][0].split("children ")[1].split(",")[0])
    shell.close()
    return {"broadcast_p50_ms": percentile(broadcasts, 0.5),
            "pingall_p50_ms": percentile(pings, 0.5),
            "singles_ms": median_of(singles),
            "broadcast_cpu_ms": broadcast_cpu / samples, "singles_cpu_ms": singles_cpu / blocks,
            "per_broadcast": per_broadcast, "children": children}


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


def idle_worker(mqtree, count):
    """(mean PSS in MB, most threads) of the workers of an idle count-node tree."""
    shell = Shell(mqtree)
    pids = shell.tree(count)
    time.sleep(0.5)
    total, threads = 0.0, 0
    for pid in pids:
        with open("/proc/%d/smaps_rollup" % pid) as smaps:
            for line in smaps:
                if line.startswith("Pss:"):
                    total += float(line.split()[1])
        with open("/proc/%d/status" % pid) as status:
            for line in status:
                if line.startswith("Threads:"):
                    threads = max(threads, int(line.split()[1]))
    shell.close()
    return total / count / 1024, threads


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


# --- many hosts: network namespaces ------------------------------------------------
# The multi-host figures run the controller (and the floor's measuring process) inside
# host 0 of a virtual network of namespaces, and nodes on other hosts through the
# launcher `ip netns exec {host}`: the tests' own network (tests/e2e/netns.py: host i
# is 127.100.0.(i+1)/24 on a veth to a bridge in a namespace of its own, unique names,
# torn down on every exit path).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "tests", "e2e"))
import netns  # noqa: E402

NetnsUnavailable = netns.NetnsError


class Hosts(netns.Hosts):
    """The tests' hosts, named for the bench (mqtb<6 hex>-h<i>)."""

    def __init__(self, count):
        import secrets
        super().__init__(count, prefix="mqtb" + secrets.token_hex(3))

    def spec(self, i):
        """NS=ADDR, how the floor names a host."""
        return "%s=%s" % (self.name(i), self.address(i))


class HostShell:
    """The mqtree shell inside host 0, its output lines timestamped as they arrive."""

    def __init__(self, hosts, mqtree, *options):
        import queue
        import threading
        self.proc = subprocess.Popen(
            hosts.exec_argv(0, [mqtree, "--ordered", "--transport", "tcp", "--bind",
                                hosts.address(0), "--launcher", hosts.launcher,
                                *options]),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            bufsize=0)
        self.lines = queue.Queue()

        def read():
            for raw in self.proc.stdout:
                self.lines.put((time.monotonic(), raw.decode().rstrip("\n")))
            self.lines.put((time.monotonic(), None))

        threading.Thread(target=read, daemon=True).start()

    def send(self, text):
        self.proc.stdin.write(text.encode() + b"\n")

        self.available = {}  # node -> the last Heartbit line's state
        self.passed = []     # lines until() passed over, for its error

    def _take(self, timeout):
        """The next (time, line), or None after timeout; Heartbit lines update
        self.available."""
        import queue
        try:
            when, line = self.lines.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if line is None:
            raise RuntimeError("mqtree ended")
        words = line.split()
        if line.startswith("Heartbit: node ") and len(words) >= 4:
            self.available[int(words[2])] = line.endswith("available again")
        return when, line

    def until(self, predicate, seconds):
        """The (time, line) of the first line predicate accepts, within seconds."""
        end = time.monotonic() + seconds
        self.passed = []
        while True:
            got = self._take(end - time.monotonic())
            if got is None:
                raise RuntimeError("mqtree: no expected line within %.0f s (lines passed "
                                   "over: %s)" % (seconds, self.passed[-10:]))
            if predicate(got[1]):
                return got
            self.passed.append(got[1])

    def settle(self, quiet, seconds=60):
        """Waits until no line has come for quiet seconds and every node the Heartbit
        lines named is available; returns the lines that came meanwhile."""
        end = time.monotonic() + seconds
        taken, last = [], time.monotonic()
        while time.monotonic() < end:
            got = self._take(0.02)
            if got is not None:
                taken.append(got)
                last = got[0]
            elif time.monotonic() - last >= quiet and all(self.available.values()):
                return taken
        raise RuntimeError("the tree did not settle: %s; lines %s" % (
            self.available, [line for _, line in taken[-10:]]))

    def ask(self, command, seconds=30):
        self.send(command)
        return self.until(lambda line: not line.startswith("Heartbit:"), seconds)[1]

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def host_figures(quick, row, note):
    """The multi-host figures; row(...) as main's, note(text) prints a line.
    Returns False (after saying why) when there can be no namespaces here."""
    rounds = 3 if quick else 7
    samples = 300 if quick else 1000
    deep = 4
    try:
        hosts = Hosts(3)
        hosts.__enter__()
    except NetnsUnavailable as error:
        note("multi-host figures SKIPPED: %s" % error)
        return False
    try:
        _exec_per_hop(hosts, rounds, samples, deep, row, note)
        _create_remote(hosts, rounds, 20 if quick else 40, row, note)
        _partition(hosts, ((300, 4), (1000, 2)) if quick else ((300, 10), (1000, 5)),
                   row, note)
    finally:
        hosts.teardown()
    return True


def _in_host0(hosts, argv):
    return measure(hosts.exec_argv(0, [str(arg) for arg in argv]), timeout=300)


def _exec_per_hop(hosts, rounds, samples, deep, row, note):
    """Closed-loop exec through a chain controller(h0) -> 1@h1 -> 2@h2 -> 3@h1 ...,
    depth 1 and deep, CURVE and --insecure, each block beside the raw relay chain of
    the same depth between the same namespaces; blocks interleaved, order reversed
    every other round."""
    chain_hosts = [hosts.spec(1), hosts.spec(2)]
    names = "%s,%s" % (hosts.name(1), hosts.name(2))
    base = ["--ordered", "--transport", "tcp", "--bind", hosts.address(0), "--launcher",
            hosts.launcher, "--timeout", "10000"]
    blocks = []
    for mode in ("curve", "plain"):
        for depth in (1, deep):
            blocks.append(("floor", mode, depth))
            blocks.append(("mqtree", mode, depth))
    results = {block: [] for block in blocks}
    for round in range(rounds):
        for block in (blocks if round % 2 == 0 else blocks[::-1]):
            kind, mode, depth = block
            if kind == "floor":
                got = _in_host0(hosts, [FLOOR, "netchain", depth, samples, mode,
                                        hosts.address(0), *chain_hosts])
                key = "netchain_%d_%s" % (depth, mode)
            else:
                got = _in_host0(hosts, [DRIVER, MQTREE, "hexec", depth, samples, names, *base,
                                        *(["--insecure"] if mode == "plain" else [])])
                key = "hexec_d%d" % depth
            results[block].append((got[key + "_p50_us"], got[key + "_p90_us"]))
    hop = {}
    for kind in ("floor", "mqtree"):
        for mode in ("curve", "plain"):
            shallow, deeper = results[(kind, mode, 1)], results[(kind, mode, deep)]
            per_round = [(d[0] - s[0]) / (deep - 1) for s, d in zip(shallow, deeper)]
            hop[(kind, mode)] = per_round
            note("rounds, %-6s %-5s: depth 1 p50/p90 %s; depth %d p50/p90 %s; per hop %s" % (
                kind, mode, " ".join("%.0f/%.0f" % r for r in shallow), deep,
                " ".join("%.0f/%.0f" % r for r in deeper),
                " ".join("%.0f" % v for v in per_round)))
    for mode, label in (("curve", "CURVE"), ("plain", "--insecure")):
        for depth in (1, deep):
            ours = results[("mqtree", mode, depth)]
            raw = results[("floor", mode, depth)]
            for index, name in ((0, "p50"), (1, "p90")):
                value = median_of([r[index] for r in ours])
                floor_value = median_of([r[index] for r in raw])
                row("hosts: exec depth %d across netns, tcp %s, %s (us)" % (depth, label, name),
                    value, "us", floor_value, "raw tcp relay chain, %s" % mode, "info", True)
        ours_hop = median_of(hop[("mqtree", mode)])
        raw_hop = median_of(hop[("floor", mode)])
        target = "<= 1.3x" if mode == "curve" else "info"
        row("hosts: added latency per hop across netns, %s, p50 (us)" % label, ours_hop, "us",
            raw_hop, "raw relay hop, %s" % mode, target,
            ours_hop <= 1.3 * raw_hop if mode == "curve" else True)
    # CURVE's cost per hop: (curve hop - plain hop), round by round, then the median.
    cost = {kind: median_of([c - p for c, p in zip(hop[(kind, "curve")], hop[(kind, "plain")])])
            for kind in ("floor", "mqtree")}
    row("hosts: CURVE's cost per hop (CURVE hop - plain hop) (us)", cost["mqtree"], "us",
        cost["floor"], "raw relay: CURVE - plain", "info", True)


def _create_remote(hosts, rounds, count, row, note):
    """Per node, `create i -1 @h1` vs `create i -1`, alternating in one shell (tcp,
    CURVE); beside the floor's spawn here vs through `ip netns exec`, to "ready" over
    tcp with CURVE. Blocks interleaved."""
    base = ["--ordered", "--transport", "tcp", "--bind", hosts.address(0), "--launcher",
            hosts.launcher, "--timeout", "10000"]
    ours, raw = [], []
    for round in range(rounds):
        steps = [("floor", raw), ("mqtree", ours)]
        for kind, into in (steps if round % 2 == 0 else steps[::-1]):
            if kind == "floor":
                got = _in_host0(hosts, [FLOOR, "netspawn", count, "curve", hosts.address(0),
                                        hosts.spec(1)])
                into.append({where: (got["netspawn_%s_p50_us" % where] / 1000,
                                     got["netspawn_%s_p90_us" % where] / 1000)
                             for where in ("local", "host")})
            else:
                got = _in_host0(hosts, [DRIVER, MQTREE, "hcreate", count, hosts.name(1), *base])
                into.append({where: (got["hcreate_%s_p50_us" % where] / 1000,
                                     got["hcreate_%s_p90_us" % where] / 1000)
                             for where in ("local", "host")})
    for kind, results in (("floor", raw), ("mqtree", ours)):
        note("rounds, %-6s create/spawn p50/p90 ms: local %s; @host %s" % (
            kind, " ".join("%.1f/%.1f" % r["local"] for r in results),
            " ".join("%.1f/%.1f" % r["host"] for r in results)))
    for where, label, floor_name in (
            ("host", "create i -1 @h1 (netns launcher)", "spawn via ip netns exec + ready"),
            ("local", "create i -1 (local spawn, tcp)", "posix_spawn + ready, tcp")):
        for index, name in ((0, "p50"), (1, "p90")):
            value = median_of([r[where][index] for r in ours])
            floor_value = median_of([r[where][index] for r in raw])
            row("hosts: %s, per node %s (ms)" % (label, name), value, "ms", floor_value,
                floor_name, "<= 1.5x" if name == "p50" else "info",
                value <= 1.5 * floor_value if name == "p50" else True)
    extra = median_of([r["host"][0] - r["local"][0] for r in ours])
    raw_extra = median_of([r["host"][0] - r["local"][0] for r in raw])
    row("hosts: the launcher's extra per create (@h1 - local, p50) (ms)", extra, "ms",
        raw_extra, "ip netns exec - posix_spawn", "info", True)


def _partition(hosts, plan, row, note):
    """Tree 1@h1 (under the controller), 2@h2 (under 1). For each interval: cut h1 or
    h2 (alternately), time from the cut to `Heartbit: node N is unavailable now` for
    the node on that host (1: seen by the controller; 2: by node 1, reported up),
    heal at once, time to `... is available again`."""
    shell = HostShell(hosts, MQTREE, "--timeout", "10000")
    try:
        for node, parent, host in ((1, -1, 1), (2, 1, 2)):
            reply = shell.ask("create %d %d @%s" % (node, parent, hosts.name(host)))
            assert reply.startswith("Ok: "), reply
        reply = shell.ask("heartbeat 100")
        if reply != "Ok":
            note("heartbeat 100: %r (the shell's floor); measured at 300 ms and above" % reply)
        for interval, rounds in plan:
            try:
                _partition_rounds(hosts, shell, interval, rounds, row, note)
            except RuntimeError as error:
                _stuck(hosts, shell, interval, rounds, error, row, note)
                break
        shell.ask("heartbeat 0", seconds=5)
    except RuntimeError as error:
        note("the shell did not answer `heartbeat 0`: %s" % error)
    finally:
        shell.close()


def _stuck(hosts, shell, interval, rounds, error, row, note):
    """A partition round that never ended: says what the tree looked like."""
    note("heartbeat %d: STUCK: %s" % (interval, error))
    start = time.monotonic()
    shell.send("pingall")
    shell.send("tree")
    time.sleep(3)
    import queue
    while True:
        try:
            when, line = shell.lines.get(timeout=0.2)
        except queue.Empty:
            break
        note("  %+6.0f ms: %s" % ((when - start) * 1000, line))
    for i in range(len(hosts.names)):
        pids = hosts._pids(hosts.name(i))
        commands = []
        for pid in pids:
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as cmdline:
                    commands.append("%d %s" % (pid, cmdline.read().split(b"\0")[0].decode()))
            except OSError:
                pass
        note("  host %s: %s" % (hosts.name(i), "; ".join(commands) or "no process"))
    row("hosts: partition rounds at heartbeat %d completed (of %d)" % (interval, 2 * rounds),
        len(getattr(shell, "completed", [])), "rounds", None, "-", "all", False)


def _partition_rounds(hosts, shell, interval, rounds, row, note):
    """Rounds at one interval: cut, detect, heal, back; rounds end settled."""
    assert shell.ask("heartbeat %d" % interval) == "Ok"
    shell.completed = []
    detect = {1: [], 2: []}
    back = {1: [], 2: []}
    stray, stray_rounds = [], []
    shell.settle(2 * interval / 1000)
    healed = time.monotonic()
    for round in range(rounds * 2):
        node = 1 + round % 2
        lost = "Heartbit: node %d is unavailable now" % node
        again = "Heartbit: node %d is available again" % node
        # Whatever came while the tree settled came after the last heal's
        # lines: a report held in the cut link, delivered late.
        for when, line in shell.settle(3 * interval / 1000):
            stray.append("%d ms after heal %d: %s" % ((when - healed) * 1000,
                                                      len(stray_rounds), line))
        cut = time.monotonic()
        hosts.partition(node)
        when, _ = shell.until(lambda line: line == lost, 20 + 10 * interval / 1000)
        detect[node].append((when - cut) * 1000)
        healed = time.monotonic()
        hosts.heal(node)
        # Node 2 is behind node 1: cut h1, it is lost with it and comes back
        # with it, each with its own line, in either order.
        waiting = {"Heartbit: node %d is available again" % n
                   for n in range(node, 3)}
        while waiting:
            when, line = shell.until(lambda line: line in waiting, 30)
            waiting.discard(line)
            if line == again:
                back[node].append((when - healed) * 1000)
        stray_rounds.append(node)
        shell.completed.append(node)
    for when, line in shell.settle(3 * interval / 1000):
        stray.append("%d ms after heal %d: %s" % ((when - healed) * 1000,
                                                  len(stray_rounds), line))
    note("heartbeat %d: %d line(s) after a heal's `available again` lines "
         "(heals 1, 3, ... cut h1; 2, 4, ... h2)%s" % (
             interval, len(stray), ": " + "; ".join(stray) if stray else ""))
    row("hosts: Heartbit lines after a heal's own, heartbeat %d, %d heals (count)" % (
        interval, len(stray_rounds)), len(stray), "lines", None, "-", "info", True)
    for node, who in ((1, "controller's child, cut h1"),
                      (2, "remote node's child, cut h2")):
        note("rounds, heartbeat %d, node %d (%s): detect ms %s; back ms %s" % (
            interval, node, who, " ".join("%.0f" % v for v in detect[node]),
            " ".join("%.0f" % v for v in back[node])))
        value = median_of(detect[node])
        row("hosts: partition detected, heartbeat %d, node %d (%s), p50 (ms)" % (
            interval, node, "under controller" if node == 1 else "under node 1"),
            value, "ms", 4 * interval, "4 x heartbeat", "<= 5x ms",
            value <= 5 * interval)
        row("  max of %d rounds (ms)" % len(detect[node]), max(detect[node]), "ms",
            4 * interval, "4 x heartbeat", "info", True)
        row("hosts: available again after heal, heartbeat %d, node %d, p50 (ms)" % (
            interval, node), median_of(back[node]), "ms", None, "-", "info", True)


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
    parser.add_argument("--scale", type=int, nargs="?", const=4000, default=0, metavar="N",
                        help="also the tree at scale: N piped creates (default 4000), "
                             "pingall, exit; about 3 more minutes")
    parser.add_argument("--hosts-only", action="store_true",
                        help="only the multi-host figures (network namespaces; needs root)")
    parser.add_argument("--no-hosts", action="store_true",
                        help="without the multi-host figures")
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
            rows[-1].update({"baseline": round(base, 3) if base is not None else None,
                             "vs_baseline": round(change, 3)
                             if change is not None else None, "worse": worse})
            line = "%s  baseline %10s  now/baseline %5s%s" % (
                line, "%.1f" % base if base is not None else "-",
                "%.3f" % change if change is not None else "-",
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
    if not options.hosts_only:
        local_figures(options, quick, baseline, both, row, on)
        if options.scale:
            print("  -- at scale: %d nodes --" % options.scale, flush=True)
            scale_figures(options.scale, baseline, both, row, on)
    if not options.no_hosts:
        # This build only (a baseline's figures here would double the namespaces' time).
        print("  -- many hosts: network namespaces, launcher `ip netns exec {host}`, "
              "controller and floors in h0 --", flush=True)
        host_figures(quick, row, lambda text: print("    " + text, flush=True))
    if not rows:
        print("no figures measured; bench/results left as they were")
        return 0
    write_results(options, quick, baseline, rows)


def local_figures(options, quick, baseline, both, row, on):
    # Sizes: the full run in about 3 minutes, --quick in about 1.
    samples = 600 if quick else 3000
    nodes = 150 if quick else 1000
    cpu_nodes, cpu_seconds = (100, 2) if quick else (300, 5)
    big = 10**7 if quick else 10**8
    blocks = 3

    def against_floor(floor_measurement, measurement):
        """The floor's and mqtree's (and the baseline's) measurements in turns, blocks
        times; their medians."""
        floors, ours, bases = [], [], []
        for _ in range(blocks):
            floors.append(floor_measurement())
            mine, base = both(measurement)
            ours.append(mine)
            bases.append(base)
        return median_of(floors), median_of(ours), median_of(bases) if baseline else None

    # --- latency -------------------------------------------------------------------
    rtt = floor("rtt", "ipc", samples)
    rtt_tcp = floor("rtt", "tcp", samples)
    ideal, d1, d1_base = against_floor(lambda: driver(IDEAL, "exec", 1, samples // blocks),
                                       lambda m: driver(m, "exec", 1, samples // blocks))
    row("exec sum 1 1, depth 1, closed loop through the shell, p50 (us)",
        d1["exec_d1_p50_us"], "us", ideal["exec_d1_p50_us"], "the ideal shell, one ipc hop",
        "<= 1.1x", d1["exec_d1_p50_us"] <= 1.1 * ideal["exec_d1_p50_us"],
        on(d1_base, lambda r: r["exec_d1_p50_us"]))
    row("  the same, p99 (us)", d1["exec_d1_p99_us"], "us", ideal["exec_d1_p99_us"],
        "the ideal shell, p99", "info", True, on(d1_base, lambda r: r["exec_d1_p99_us"]))
    row("  the same against a bare round trip, p50 (us)", d1["exec_d1_p50_us"], "us",
        rtt["rtt_ipc_p50_us"], "one-hop RTT ipc, no pipes", "info", True,
        on(d1_base, lambda r: r["exec_d1_p50_us"]))
    d1_tcp, d1_tcp_base = both(lambda m: driver(m, "exec", 1, samples,
                                                options=("--ordered", "--transport", "tcp")))
    row("exec depth 1 over tcp, p50 (us)", d1_tcp["exec_d1_p50_us"], "us",
        rtt_tcp["rtt_tcp_p50_us"], "one-hop RTT tcp, no pipes", "info", True,
        on(d1_tcp_base, lambda r: r["exec_d1_p50_us"]))
    for depth in (10, 50):
        chain = floor("chain", depth, samples // 5)
        ours, ours_base = both(lambda m: driver(m, "exec", depth, samples // 5))
        raw_hop = (chain["chain_%d_p50_us" % depth] - rtt["rtt_ipc_p50_us"]) / (depth - 1)

        def hop(deep, shallow):
            return (deep["exec_d%d_p50_us" % depth] - shallow["exec_d1_p50_us"]) / (depth - 1)

        our_hop = hop(ours, d1)
        row("added latency per level, chain of %d (us)" % depth, our_hop, "us", raw_hop,
            "raw relay per hop", "<= 1.1x", our_hop <= 1.1 * raw_hop,
            on(ours_base, lambda r: hop(r, d1_base)))
    # --- throughput ------------------------------------------------------------------
    piped = 20000
    ideal, ours, ours_base = against_floor(
        lambda: driver(IDEAL, "pipeline", 1, piped)["pipeline_d1_per_s"],
        lambda m: driver(m, "pipeline", 1, piped, options=("--ordered", "--timeout", "60000"))
        ["pipeline_d1_per_s"])
    row("%d execs piped at depth 1 (per s)" % piped, ours, "/s", ideal,
        "the ideal shell, same lines", ">= 0.5x", ours >= 0.5 * ideal, ours_base)
    messages = 20000 if quick else 100000
    raw = floor("pipeline", 5, messages, 10000)["pipeline_5_per_s"]
    ours, ours_base = both(lambda m: driver(m, "pipeline", 5, messages,
                                            options=("--ordered", "--timeout", "60000"))
                           ["pipeline_d5_per_s"])
    row("pipelined exec, depth 5 (per s)", ours, "/s", raw, "raw pipelined, 5 hops", "info",
        True, ours_base)
    # --- create ----------------------------------------------------------------------
    spawn = floor("spawn", 200 if quick else 500)
    created = min(nodes, 500)
    create, create_base = both(lambda m: driver(m, "create", created))
    row("create, per node p50 (random tree of %d) (us)" % created, create["create_p50_us"],
        "us", spawn["spawn_p50_us"], "posix_spawn + connect + ready", "<= 1.5x",
        create["create_p50_us"] <= 1.5 * spawn["spawn_p50_us"],
        on(create_base, lambda r: r["create_p50_us"]))
    chained = 50 if quick else 200
    spawn, chain, chain_base = against_floor(
        lambda: floor("spawn", chained)["spawn_p50_us"],
        lambda m: driver(m, "chaincreate", chained)["chaincreate_per_node_us"])
    row("create, per node, a chain of %d piped (us)" % chained, chain, "us", spawn,
        "posix_spawn + connect + ready", "<= 1.5x", chain <= 1.5 * spawn, chain_base)
    # --- commands waiting behind creates ------------------------------------------------
    (behind, built), behind_base = both(lambda m: tuple(
        sets_behind_creates(m, 50, 100 if quick else 800)))
    row("sets piped behind the creates of a 50-node tree (s)", behind, "s", built,
        "the same sets, tree built", "<= 2x", behind <= 2 * built,
        on(behind_base, lambda r: r[0]))
    # --- pingall ---------------------------------------------------------------------
    # The tree's creates are written at once: on a loaded machine the last ones take
    # longer than the default 2 s timeout, and the run ended with "Parent is
    # unavailable". With every node up, the timeout changes no pingall's time.
    shapes = (("random", nodes), ("chain", 50)) if quick else (("balanced", nodes), ("chain", 100))
    for shape, count in shapes:
        key = "pingall_%s_%d_stopped_0_p50_us" % (shape, count)
        value, base = both(lambda m: driver(m, "pingall", count, shape, 20, 0,
                                            options=("--ordered", "--timeout", "10000"))[key]
                           / 1000)
        row("pingall, %d nodes %s, all up, p50 (ms)" % (count, shape), value, "ms", None, "-",
            "<= 150 ms", value <= 150, base)
    stopped = min(nodes, 300)
    key = "pingall_random_%d_stopped_10_p50_us" % stopped
    value, base = both(lambda m: driver(m, "pingall", stopped, "random", 10, 10,
                                        options=("--ordered", "--timeout", "2000"))[key] / 1000)
    row("pingall, %d nodes, 10 SIGSTOPped, p50 (ms)" % stopped, value, "ms", None, "-",
        "<= timeout + 50 ms", value <= 2000 + 50, base)
    # --- tree-wide commands (this build only: a baseline may not have them) ----------
    wide_nodes = 300 if quick else 1000
    wide = tree_wide(MQTREE, wide_nodes, 16, 50 if quick else 200)
    raw_wave = floor("pingtree", wide_nodes, 16, 20)["pingtree_%d_p50_us" % wide_nodes] / 1000
    row("exec all sum 1 1, %d nodes, fanout 16, p50 (ms)" % wide_nodes,
        wide["broadcast_p50_ms"], "ms", wide["pingall_p50_ms"], "pingall, same tree",
        "<= 2x", wide["broadcast_p50_ms"] <= 2 * wide["pingall_p50_ms"])
    row("  the same against a raw libzmq tree's wave (ms)", wide["broadcast_p50_ms"], "ms",
        raw_wave, "raw tree, a pingall's messages", "info", True)
    row("  %d single execs piped, same tree (ms)" % wide_nodes, wide["singles_ms"], "ms",
        wide["broadcast_p50_ms"], "exec all, one broadcast", ">= 20x",
        wide["singles_ms"] >= 20 * wide["broadcast_p50_ms"])
    row("  controller CPU, %d single execs (ms)" % wide_nodes, wide["singles_cpu_ms"], "ms",
        max(wide["broadcast_cpu_ms"], 1000 / HZ / 50), "controller CPU, one broadcast",
        ">= 20x", wide["singles_cpu_ms"] >= 20 * wide["broadcast_cpu_ms"])
    row("  messages the controller received per broadcast", wide["per_broadcast"], "",
        wide["children"], "the controller's children", "= floor",
        wide["per_broadcast"] == wide["children"])
    # --- heartbeat CPU ---------------------------------------------------------------
    # 300 ms: the shortest interval the shell accepts (HEARTBEAT_MIN_MS).
    for interval in (300, 1000):
        raw = floor("hbtree", cpu_nodes, interval, cpu_seconds)["hbtree_cores"]
        ours, ours_base = both(lambda m: heartbeat_cpu(m, cpu_nodes, interval, cpu_seconds))
        row("whole-tree CPU, %d nodes, heartbeat %d ms (cores)" % (cpu_nodes, interval), ours,
            "cores", raw, "raw tree, same beats", "<= 1.3x", ours <= 1.3 * raw, ours_base)
    # --- memory ----------------------------------------------------------------------
    idle = 50 if quick else 100
    raw_pss = floor("idle", idle)["idle_pss_mb"]
    (pss, threads), base = both(lambda m: idle_worker(m, idle))
    row("idle worker, threads (%d nodes)" % idle, threads, "", 3,
        "raw libzmq: main, I/O, reaper", "= floor", threads <= 3, on(base, lambda r: r[1]))
    row("idle worker, memory (PSS, %d nodes) (MB)" % idle, pss, "MB", raw_pss,
        "raw idle zmq worker", "<= 0.7 MB", pss <= 0.7, on(base, lambda r: r[0]))
    # --- big sums --------------------------------------------------------------------
    label = "10^8" if big == 10**8 else "10^7"
    line_bytes = len(b"exec 2 sum %d " % big) + len(number_line(big)[0]) + 1
    transfer = floor("transfer", line_bytes, 1)["transfer_p50_us"] / 1000
    # A 440 MB line takes seconds: one block of each is enough for its ratio.
    saved, blocks = blocks, 3 if quick else 1
    (ideal_ms, megabytes, _), (ms, _, _), base = against_floor(
        lambda: big_sum(IDEAL, big, 1), lambda m: big_sum(m, big, 2))
    blocks = saved
    row("exec sum of %s numbers at depth 2 (%.0f MB line) (ms)" % (label, megabytes), ms,
        "ms", ideal_ms + transfer, "ideal shell at depth 1 + one more hop", "<= 1.3x",
        ms <= 1.3 * (ideal_ms + transfer), on(base, lambda r: r[0]))
    (ms, megabytes, peak), base = both(lambda m: big_sum(m, big, 1))
    row("exec sum of %s numbers at depth 1 (%.0f MB line) (ms)" % (label, megabytes), ms, "ms",
        ideal_ms, "the ideal shell, same line", "info", True, on(base, lambda r: r[0]))
    row("  peak RSS of any process during it (MB)", peak, "MB", megabytes, "the line",
        "<= 2x the line", peak <= 2 * megabytes, on(base, lambda r: r[2]))


def scale_figures(count, baseline, both, row, on):
    """The tree at scale from a user's script: count piped creates (fanout 16) with
    the shell's default options, then idle, pingall, exit (driver scenario scale)."""
    raw = floor("pingtree", count, 16, 10)
    reap = raw["pingtree_%d_reap_ms" % count]
    result, base = both(lambda m: driver(m, "scale", count, 16, 10, options=()))
    n = "{:,}".format(count)
    row("%s nodes (fanout 16) from piped creates: Error lines" % n, result["scale_errors"], "",
        None, "-", "0", result["scale_errors"] == 0, on(base, lambda r: r["scale_errors"]))
    row("  the creates, all answered (s)", result["scale_create_s"], "s", None, "-", "info",
        True, on(base, lambda r: r["scale_create_s"]))
    row("  idle worker, threads (most of any)", result["scale_idle_threads"], "", 3,
        "raw libzmq: main, I/O, reaper", "= floor", result["scale_idle_threads"] <= 3,
        on(base, lambda r: r["scale_idle_threads"]))
    pss = result["scale_idle_pss_kb"] / 1024
    row("  idle worker, memory (PSS) (MB)", pss, "MB", None, "-", "<= 0.7 MB", pss <= 0.7,
        on(base, lambda r: r["scale_idle_pss_kb"] / 1024))
    ping = result["scale_pingall_p50_us"] / 1000
    row("pingall, %s nodes, p50 (ms)" % n, ping, "ms",
        raw["pingtree_%d_p50_us" % count] / 1000, "raw libzmq tree, a pingall's messages",
        "<= 200 ms", ping <= 200 and result["scale_pingall_wrong"] == 0,
        on(base, lambda r: r["scale_pingall_p50_us"] / 1000))
    row("  pingall answers other than 'Ok: -1'", result["scale_pingall_wrong"], "", None, "-",
        "0", result["scale_pingall_wrong"] == 0, on(base, lambda r: r["scale_pingall_wrong"]))
    row("exit of %s nodes (ms)" % n, result["scale_exit_ms"], "ms", reap,
        "SIGKILL + reap of as many raw processes", "<= 2000 ms",
        result["scale_exit_ms"] <= 2000, on(base, lambda r: r["scale_exit_ms"]))
    row("  workers left after exit", result["scale_strays"], "", None, "-", "0",
        result["scale_strays"] == 0, on(base, lambda r: r["scale_strays"]))


def write_results(options, quick, baseline, rows):
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
    if baseline and any(r.get("vs_baseline") is not None for r in rows):
        changes = sorted(r["vs_baseline"] for r in rows if r["vs_baseline"] is not None)
        worse = [r["figure"].strip() for r in rows if r.get("worse")]
        print("now/baseline over %d figures: min %.3f, median %.3f, max %.3f; %d more than "
              "%d %% worse%s" % (len(changes), changes[0], median_of(changes), changes[-1],
                                 len(worse), round((WORSE - 1) * 100),
                                 (": " + "; ".join(worse)) if worse else ""))


if __name__ == "__main__":
    sys.exit(main())
