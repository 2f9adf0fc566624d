"""The chaos soak engine: a random tree, a random command stream piped at full speed,
and a driver that kills (-9), stops and continues random nodes meanwhile.

Used by tests/e2e/test_chaos.py (one bounded round, a ctest) and by scripts/soak
(rounds until the time is up). Everything random comes from one seed, printed, so a
failure can be replayed (the timing of the kills against the stream cannot be exact:
the same seed gives the same commands and the same choices of victims).

How replies are checked. mqtree runs with --ordered, so reply i answers line i. The
model knows the topology exactly (it follows the replies of create and remove, in
command order), every name set on every incarnation of a node (an id created again is
a new incarnation with an empty dictionary), and the time of every kill, stop and
continue. A command is written at time ts and its reply read at tr; a node is
*surely down* for it if it or an ancestor was killed before ts, or stopped over the
whole of [ts - margin, tr]; it is *surely up* if neither it nor an ancestor was ever
killed before tr nor changed state within [ts - window, tr] and none is stopped.
Between the two, any answer is allowed.

Tree-wide commands (exec and ping to a node set: `exec 3,17,40 set k v`, `get`, `sum`
with and without `--reduce sum`, `ping 5,9`) answer with a block of folded lines;
the block must name every id of the set exactly once, and each id's part of it is
checked as the reply of that id's own command would be (so `lost`, `resurrected`,
`stale`, `false-down` and `ghost` hold for every node a broadcast reached).

Invariants (each a violation, counted and described):
  reply        exactly one reply per line (one block per set command, every id of the
               set in it once), of the form its command allows; the reply
               to remove/create/ping/exec of an id the topology does not hold is
               `Not found` (and only then); values of sum are right
  lost         a `set` answered Ok, then a later `get` of it on the same incarnation
               says not found
  resurrected  a `set` answered Error (unavailable, not found), then a later `get`
               returns its value: at most once broken. Not counted (but counted apart,
               as `window`): a node above it was stopped while the set was in flight,
               so its Ok may have been held in that node past the deadline — the
               one case no deadline closes (README, Failures)
  stale        a `get` returns a value set on an earlier incarnation of the id, or
               one never set there
  false-down   `Node is unavailable`, `Ok: 0`, or `Parent is unavailable` for a
               surely-up node, answered before the command's timeout could expire
               (so not a timeout: the controller believed it down)
  ghost        an Ok answer (exec, ping 1, create under it) from a surely-down node
  build        while the tree is built (no chaos yet) every create and exec is Ok
  pingall      lists every surely-down node, no surely-up one, no unknown id
  leftover     a create answered Error leaves no id behind (no later `Already exists`,
               no `Ok` to a remove of it, not listed by pingall)
  stall        with --ordered the oldest unanswered line is answered within 10
               timeouts (a command waiting behind creates included)
  slow         no line is answered more than 60 s after it was written
  process      a create's pid is a child of its parent's process
  exit         after `exit`: status 0, every reply given, no process of the tree
               left, the run directory gone, no sanitizer report, no abort
"""
import glob
import os
import queue
import random
import re
import signal
import subprocess
import tempfile
import threading
import time

from harness import ids_of

MARGIN = 0.05        # s: a signal has surely taken effect this long after kill()
WINDOW = 0.5         # s: state changes this close to a command may be seen either way
GRACE = 12           # s: for the sweep after a time-limited stream
SLOW = 60.0          # s: no line waits this long for its reply, whatever else is slow
STALL = 10           # timeouts: no reply may take longer (ordered, behind creates)
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "AddressSanitizer:", "LeakSanitizer:")


def sanitized(binary):
    """True when the binary links a sanitizer runtime (the asan build)."""
    try:
        out = subprocess.run(["ldd", binary], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "libasan" in out or "libubsan" in out


def proc_stat(pid):
    """(state, ppid, starttime) of a process, or None when it does not exist."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1]), int(fields[19])


def descendants(root):
    """Pids (with start times) of every process below root, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = proc_stat(int(entry))
            if stat:
                children.setdefault(stat[1], []).append((int(entry), stat[2]))
    found, todo = [], [root]
    while todo:
        for pid, start in children.get(todo.pop(), []):
            found.append((pid, start))
            todo.append(pid)
    return found


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return "?"


class Inc:
    """One incarnation of a node id: from its create's Ok to its remove."""
    __slots__ = ("id", "serial", "parent", "pid", "start", "events", "killed", "children",
                 "names", "removed")

    def __init__(self, node, serial, parent):
        self.id, self.serial, self.parent = node, serial, parent
        self.pid, self.start = 0, None
        self.events = []          # (time, "kill" | "stop" | "cont")
        self.killed = None        # time of the kill -9
        self.children = []
        self.names = []           # names set on this incarnation (any outcome)
        self.removed = False

    def chain(self):
        inc = self
        while inc is not None:
            yield inc
            inc = inc.parent

    def stopped_at(self, t):
        state = False
        for when, kind in self.events:
            if when > t:
                break
            if kind == "stop":
                state = True
            elif kind == "cont":
                state = False
        return state

    def name(self):
        return "%d#%d" % (self.id, self.serial)


def surely_down(inc, ts, tr):
    for a in inc.chain():
        if a.killed is not None and a.killed + MARGIN <= ts:
            return True
        if a.stopped_at(ts - MARGIN) and not any(ts - MARGIN < w <= tr for w, _ in a.events):
            return True
    return False


def surely_up(inc, ts, tr):
    for a in inc.chain():
        if a.killed is not None and a.killed <= tr:
            return False
        if a.stopped_at(ts - WINDOW) or any(ts - WINDOW < w <= tr for w, _ in a.events):
            return False
    return True


class Cmd:
    __slots__ = ("index", "line", "kind", "node", "arg", "ts", "tr", "reply", "phase",
                 "gen", "ids", "block")

    def __init__(self, line, kind, node=None, arg=None, phase="chaos", ids=None):
        self.line, self.kind, self.node, self.arg, self.phase = line, kind, node, arg, phase
        self.index = self.ts = self.tr = self.reply = self.gen = None
        self.ids = ids            # a set command's ids (kind "many"); node is the op
        self.block = []           # its folded lines so far: (status, ids, text)


FOLDED = re.compile(r"(Ok|Error):(\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)(?:: (.*))?")


class SetRecord:
    __slots__ = ("cmd", "inc", "value", "status")

    def __init__(self, cmd, inc, value, status):
        self.cmd, self.inc, self.value, self.status = cmd, inc, value, status


class Round:
    """One controller, one tree, one command stream; run() returns the figures."""

    def __init__(self, binary, seed, nodes=300, commands=100000, time_limit=None,
                 timeout_ms=2000, log=print, max_outstanding=10000):
        self.binary, self.seed, self.target = binary, seed, nodes
        self.max_commands, self.time_limit = commands, time_limit
        self.timeout = timeout_ms / 1000.0
        self.timeout_ms = timeout_ms
        self.log = log
        self.max_outstanding = max_outstanding
        self.rng = random.Random(seed)
        self.figures = dict(commands=0, replies=0, kills=0, stops=0, conts=0, creates=0,
                            removes=0, sets=0, gets=0, pingalls=0, unavailable=0,
                            timeouts=0, stalls=0, violations=0)
        self.kinds = {}
        self.violations = []
        self.transcript = []
        # The model, exact, in command order (follows the replies).
        self.topo = {}            # id -> Inc
        self.serials = {}         # id -> incarnations so far
        self.sets = {}            # (name, id) -> SetRecord
        self.all_pids = []        # (pid, start, inc) of every node ever created
        # The generator's optimistic view (follows the commands as sent).
        self.gen = {}             # id -> (parent id, create Cmd)
        self.gen_names = {}       # id -> names set on that id, any incarnation
        self.pending_removes = {}  # id -> count of removes sent and not yet answered
        self.counter = 0
        self.stopped = {}         # Inc -> planned continue time
        self.sent = []            # Cmd by index
        self.verified = 0
        self.aborted = None
        self.last_tr = 0.0

    # ---- output ------------------------------------------------------------------
    def violation(self, kind, text):
        self.figures["violations"] += 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        message = "[%s] %s (seed %d)" % (kind, text, self.seed)
        if len(self.violations) < 200:
            self.violations.append(message)
        self.transcript.append("%.3f !! %s" % (self.now(), message))
        if self.kinds[kind] <= 3:
            self.log("VIOLATION " + message)

    def now(self):
        return time.monotonic() - self.t0

    def describe(self, cmd):
        return "#%d %r -> %r (sent %.3f s, answered %.3f s)" % (
            cmd.index, cmd.line, cmd.reply, cmd.ts - self.t0, cmd.tr - self.t0)

    def history(self, inc):
        parts = []
        for a in inc.chain():
            if a.events:
                parts.append("%s pid %d: %s" % (a.name(), a.pid, ", ".join(
                    "%s at %.3f" % (k, w - self.t0) for w, k in a.events)))
        return "; ".join(parts) if parts else "no signal on %s or above" % inc.name()

    # ---- processes ---------------------------------------------------------------
    def start(self):
        self.tmpdir = tempfile.mkdtemp(prefix="mqtree-chaos-")
        env = dict(os.environ, LANG="C", LC_ALL="", LC_CTYPE="", TMPDIR=self.tmpdir)
        env.pop("XDG_RUNTIME_DIR", None)
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [self.binary, "--ordered", "--timeout", str(self.timeout_ms)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=env)
        self.t0 = time.monotonic()
        self.replies = queue.Queue()
        self.outq = queue.Queue()
        threading.Thread(target=self._reader, daemon=True).start()
        threading.Thread(target=self._writer, daemon=True).start()

    def _reader(self):
        for raw in self.proc.stdout:
            self.replies.put((time.monotonic(), raw.decode("utf-8", "replace").rstrip("\n")))
        self.replies.put((time.monotonic(), None))

    def _writer(self):
        while True:
            batch = self.outq.get()
            if batch is None:
                try:
                    self.proc.stdin.close()
                except OSError:
                    pass
                return
            data = "".join(c.line + "\n" for c in batch).encode()
            now = time.monotonic()
            for c in batch:
                c.ts = now
            try:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            except OSError:
                return

    def ours(self, pid):
        """True when pid is a process below the controller."""
        for _ in range(1000):
            stat = proc_stat(pid)
            if stat is None or stat[1] <= 1:
                return False
            if stat[1] == self.proc.pid:
                return True
            pid = stat[1]
        return False

    def signal(self, inc, sig):
        """Signals a node's process only if it is still that process (pidfd)."""
        if not inc.pid or inc.start is None:
            return False
        if not hasattr(os, "pidfd_open"):
            # Without pidfds (Python < 3.9): the start time check, then kill().
            stat = proc_stat(inc.pid)
            if stat is None or stat[2] != inc.start or stat[0] == "Z":
                return False
            try:
                os.kill(inc.pid, sig)
                return True
            except OSError:
                return False
        try:
            fd = os.pidfd_open(inc.pid)
        except OSError:
            return False
        try:
            stat = proc_stat(inc.pid)
            if stat is None or stat[2] != inc.start or stat[0] == "Z":
                return False
            signal.pidfd_send_signal(fd, sig)
            return True
        except OSError:
            return False
        finally:
            os.close(fd)

    # ---- the generator -------------------------------------------------------------
    def send(self, cmds):
        for c in cmds:
            c.index = len(self.sent)
            self.sent.append(c)
            self.transcript.append(c)
        self.figures["commands"] += len(cmds)
        self.outq.put(cmds)

    def fresh(self):
        self.counter += 1
        return self.counter

    def gen_subtree(self, node):
        out, todo = [], [node]
        kids = {}
        for n, (p, _) in self.gen.items():
            kids.setdefault(p, []).append(n)
        while todo:
            n = todo.pop()
            out.append(n)
            todo.extend(kids.get(n, []))
        return out

    def c_create(self, node, parent, phase="chaos"):
        c = Cmd("create %d" % node if parent == -1 else "create %d %d" % (node, parent),
                "create", node, parent, phase)
        if node not in self.gen and (parent == -1 or parent in self.gen):
            self.gen[node] = (parent, c)
            c.gen = True
        return c

    def c_remove(self, node):
        c = Cmd("remove %d" % node, "remove", node)
        if node in self.gen:
            for n in self.gen_subtree(node):
                del self.gen[n]
        self.pending_removes[node] = self.pending_removes.get(node, 0) + 1
        return c

    def c_set(self, node, phase="chaos"):
        k = self.fresh()
        name, value = "k%d" % k, k * 7 + 3
        self.gen_names.setdefault(node, []).append(name)
        return Cmd("exec %d set %s %d" % (node, name, value), "set", node, (name, value),
                   phase)

    def c_get(self, node, phase="chaos", name=None):
        if name is None:
            names = self.gen_names.get(node)
            r = self.rng.random()
            if not names or r < 0.05:
                name = "z%d" % self.fresh()
            elif r < 0.75:
                name = self.rng.choice(names[-8:])
            else:
                name = self.rng.choice(names)
        return Cmd("exec %d get %s" % (node, name), "get", node, name, phase)

    def c_sum(self, node, phase="chaos"):
        n = self.rng.randint(1, 6)
        nums = [self.rng.randint(-10**12, 10**12) for _ in range(n)]
        return Cmd("exec %d sum %d %s" % (node, n, " ".join(map(str, nums))), "sum", node,
                   sum(nums), phase)

    def c_many(self):
        """A tree-wide command to 2-6 ids (mostly of the tree, often one the driver
        killed or stopped, or a node below it): set, get, sum, sum reduced in the
        tree, or ping."""
        rng = self.rng
        ids = {self.pick_node() for _ in range(rng.randint(2, 6))}
        hit = [inc for inc in list(self.stopped) + [
            inc for inc in self.topo.values() if inc.killed is not None]
            if inc.id in self.gen]
        if hit and rng.random() < 0.5:
            inc = rng.choice(hit)
            ids.add(inc.id)
            if inc.children:
                ids.add(rng.choice(inc.children).id)
        while len(ids) < 2:
            ids.add(rng.randint(1, 3 * self.target))
        ids = sorted(ids)
        words = ",".join(map(str, ids))
        r = rng.random()
        if r < 0.3:
            k = self.fresh()
            name, value = "k%d" % k, k * 7 + 3
            for node in ids:
                self.gen_names.setdefault(node, []).append(name)
            return Cmd("exec %s set %s %d" % (words, name, value), "many", "set",
                       (name, value), ids=ids)
        if r < 0.6:
            name = self.c_get(rng.choice(ids)).arg
            return Cmd("exec %s get %s" % (words, name), "many", "get", name, ids=ids)
        if r < 0.85:
            reduce = r >= 0.75
            n = rng.randint(1, 4)
            nums = [rng.randint(-10**12, 10**12) for _ in range(n)]
            return Cmd("exec %s sum %d %s%s" % (words, n, " ".join(map(str, nums)),
                                                 " --reduce sum" if reduce else ""),
                       "many", "rsum" if reduce else "sum", sum(nums), ids=ids)
        return Cmd("ping %s" % words, "many", "ping", ids=ids)

    def pick_node(self):
        if self.gen and self.rng.random() < 0.97:
            return self.rng.choice(self.gen_ids)
        return self.rng.randint(1, 3 * self.target)

    def new_id(self):
        for _ in range(100):
            node = self.rng.randint(1, 2 * self.target)
            if node not in self.gen:
                return node
        return self.rng.randint(2 * self.target, 10**6)

    def live_count(self):
        return sum(1 for inc in self.topo.values()
                   if all(a.killed is None for a in inc.chain()))

    def batch(self, size):
        self.gen_ids = list(self.gen)
        out = []
        deficit = self.target - self.live_count() - sum(
            1 for c in self.sent[self.verified:] if c.kind == "create")
        rng = self.rng
        for _ in range(size):
            r = rng.random()
            if deficit > 0 and r < 0.05:
                deficit -= 1
                parents = [-1] + self.gen_ids
                out.append(self.c_create(self.new_id(), rng.choice(parents)))
                self.gen_ids = list(self.gen)
            elif r < 0.30:
                out.append(self.c_set(self.pick_node()))
            elif r < 0.60:
                out.append(self.c_get(self.pick_node()))
            elif r < 0.75:
                out.append(self.c_sum(self.pick_node()))
            elif r < 0.90:
                node = self.pick_node()
                out.append(Cmd("ping %d" % node, "ping", node))
            elif r < 0.902:
                out.append(Cmd("pingall", "pingall"))
            elif r < 0.906:
                # Prefer cleaning up dead subtrees; sometimes a live one, or nothing.
                dead = [n for n, inc in self.topo.items()
                        if inc.killed is not None and n in self.gen]
                if dead and rng.random() < 0.7:
                    node = rng.choice(dead)
                elif rng.random() < 0.9 and self.gen_ids:
                    node = rng.choice(self.gen_ids)
                else:
                    node = rng.randint(1, 3 * self.target)
                out.append(self.c_remove(node))
                self.gen_ids = list(self.gen)
            elif r < 0.908:
                # create, use, remove and create the same id again at full speed
                node, parent = self.new_id(), rng.choice([-1] + self.gen_ids)
                out.append(self.c_create(node, parent))
                out.append(self.c_set(node))
                out.append(self.c_get(node))
                out.append(self.c_remove(node))
                out.append(self.c_create(node, parent))
                out.append(self.c_get(node))
                out.append(self.c_set(node))
                self.gen_ids = list(self.gen)
            elif r < 0.912:
                # errors the topology decides: existing id, missing parent
                if self.gen_ids:
                    out.append(self.c_create(rng.choice(self.gen_ids), -1))
                out.append(self.c_create(self.new_id(), 10**6 + rng.randint(0, 10**6)))
            elif r < 0.942:
                out.append(self.c_many())
            else:
                out.append(self.c_sum(self.pick_node()))
        return out

    # ---- the chaos driver ----------------------------------------------------------
    def chaos(self):
        now = time.monotonic()
        for inc, until in list(self.stopped.items()):
            if until <= now:
                self.cont(inc)
        if now < self.next_chaos:
            return
        self.next_chaos = now + self.rng.uniform(0.05, 0.35)
        candidates = [inc for inc in self.topo.values()
                      if inc.pid and not self.pending_removes.get(inc.id)
                      and all(a.killed is None for a in inc.chain())]
        if not candidates:
            return
        r = self.rng.random()
        if r < 0.3:
            if self.live_count() > 0.6 * self.target:
                inc = self.rng.choice(candidates)
                # Timed before the signal: its effects (the parent's report, the
                # controller's prompt unavailable) can reach the reader thread
                # before this thread runs again (a CI run read an answer 1 ms
                # before a kill timed after it, and called it false-down).
                sent = time.monotonic()
                if self.signal(inc, signal.SIGKILL):
                    inc.killed = sent
                    inc.events.append((inc.killed, "kill"))
                    self.stopped.pop(inc, None)
                    self.figures["kills"] += 1
                    self.transcript.append("%.3f # kill -9 node %s pid %d" % (
                        self.now(), inc.name(), inc.pid))
        elif r < 0.65:
            if len(self.stopped) < 3:
                inc = self.rng.choice(candidates)
                t = time.monotonic()  # before the signal, as a kill's
                if inc not in self.stopped and self.signal(inc, signal.SIGSTOP):
                    inc.events.append((t, "stop"))
                    self.stopped[inc] = t + self.rng.uniform(0.1, 2.5 * self.timeout)
                    self.figures["stops"] += 1
                    self.transcript.append("%.3f # kill -STOP node %s pid %d" % (
                        self.now(), inc.name(), inc.pid))
        elif self.stopped:
            self.cont(self.rng.choice(list(self.stopped)))

    def cont(self, inc):
        del self.stopped[inc]
        self.signal(inc, signal.SIGCONT)
        t = time.monotonic()
        inc.events.append((t, "cont"))
        self.figures["conts"] += 1
        self.transcript.append("%.3f # kill -CONT node %s pid %d" % (
            self.now(), inc.name(), inc.pid))

    # ---- checking replies ----------------------------------------------------------
    def drain(self, block=0.0):
        """Checks the replies that have arrived; returns False at end of output."""
        try:
            tr, line = self.replies.get(timeout=block) if block else self.replies.get_nowait()
        except queue.Empty:
            return True
        while True:
            if line is None:
                self.eof = True
                return False
            self.transcript.append("%.3f < %s" % (tr - self.t0, line))
            self.figures["replies"] += 1
            if self.killed:
                pass  # cut short by our own SIGKILL: a partial line proves nothing
            elif self.verified >= len(self.sent):
                self.violation("reply", "a line with no command left to answer: %r" % line)
            else:
                cmd = self.sent[self.verified]
                cmd.tr = tr
                if cmd.kind != "many":
                    cmd.reply = line
                if cmd.kind != "many" or self.block_line(cmd, line):
                    self.verified += 1
                    self.check_latency(cmd)
                    self.check(cmd)
            try:
                tr, line = self.replies.get_nowait()
            except queue.Empty:
                return True

    def check_latency(self, cmd):
        """No reply waits for long: with --ordered the line at the head of the queue
        (sent, and every earlier line answered) is answered within STALL timeouts,
        even behind creates in flight. Replies held back behind it are not blamed."""
        start = max(cmd.ts, self.last_tr)
        self.last_tr = cmd.tr
        if cmd.tr - cmd.ts > SLOW:
            # Throughput collapsed: lines wait this long although each head-of-line
            # wait stayed short. Reported once a round, counted always.
            self.figures["slow"] = self.figures.get("slow", 0) + 1
            if self.figures["slow"] == 1:
                self.violation("slow", "answered %.0f s after it was written (timeout %.1f s,"
                               " at most %d lines unanswered): %s" % (
                                   cmd.tr - cmd.ts, self.timeout, self.max_outstanding,
                                   self.describe(cmd)))
        if cmd.tr - start > max(STALL * self.timeout, 5.0):
            self.figures["stalls"] += 1
            self.violation("stall", "the controller answered nothing for %.1f s (timeout"
                           " %.1f s) while this line was the oldest unanswered: %s" % (
                               cmd.tr - start, self.timeout, self.describe(cmd)))

    def unavailable(self, cmd, inc, what):
        """A down answer: fine unless the node was surely up and it came early."""
        self.figures["unavailable"] += 1
        if inc is None:
            return
        up = surely_up(inc, cmd.ts, cmd.tr)
        if cmd.phase == "build":
            self.violation("build", "%s while building, no chaos yet: %s" % (
                what, self.describe(cmd)))
        elif up and cmd.tr < cmd.ts + self.timeout - 0.02:
            self.violation("false-down", "%s for surely-up node %s before its timeout: %s;"
                           " %s" % (what, inc.name(), self.describe(cmd), self.history(inc)))
        elif up:
            self.figures["timeouts"] += 1

    def ghost(self, cmd, inc):
        if inc is not None and surely_down(inc, cmd.ts, cmd.tr):
            self.violation("ghost", "an Ok from surely-down node %s: %s; %s" % (
                inc.name(), self.describe(cmd), self.history(inc)))

    def bad(self, cmd):
        self.violation("reply", "reply does not fit its command: %s" % self.describe(cmd))
        self.aborted = "reply out of step: %s" % self.describe(cmd)

    def check(self, cmd):
        getattr(self, "check_" + cmd.kind)(cmd)

    def block_line(self, cmd, line):
        """One line of a set command's block; True when the block is complete (its
        lines name every id of the set), or wrong: a line that is not a folded one
        (the sets here name ids, so even `Error: No node in the set` cannot come:
        absent ids are `Not found`), or names an id outside the set or already named.
        A wrong block is None, and the round stops there: later lines would be read
        against the wrong commands."""
        cmd.reply = line if cmd.reply is None else cmd.reply + " | " + line
        folded = FOLDED.fullmatch(line)
        ids = ids_of(folded.group(2)) if folded else []
        named = {node for _, before, _ in cmd.block for node in before}
        if not folded or any(node not in cmd.ids or node in named for node in ids):
            cmd.block = None
            return True
        cmd.block.append((folded.group(1), ids, folded.group(3)))
        return len(named) + len(ids) == len(cmd.ids)

    def check_many(self, cmd):
        """A set command's block: every id of the set once, groups by first id, and
        each id's part checked as its own command's reply (a reduced sum: the value
        of the ids that gave it)."""
        self.figures["broadcasts"] = self.figures.get("broadcasts", 0) + 1
        if cmd.block is None:
            return self.bad(cmd)
        firsts = [ids[0] for _, ids, _ in cmd.block]
        if firsts != sorted(firsts):
            self.violation("reply", "the block's groups are not in the order of their first"
                           " id: %s" % self.describe(cmd))
        for status, ids, text in cmd.block:
            if cmd.node == "rsum" and status == "Ok" and text != str(cmd.arg * len(ids)):
                self.violation("reply", "reduced sum of %d nodes should be %d: %s" % (
                    len(ids), cmd.arg * len(ids), self.describe(cmd)))
            # A reduced sum's Ok names no per-node value: only the node is checked.
            reduced = cmd.node == "rsum" and status == "Ok"
            kind = "sum" if cmd.node == "rsum" else cmd.node
            for node in ids:
                one = Cmd(cmd.line, kind, node, cmd.arg, cmd.phase)
                one.index, one.ts, one.tr = cmd.index, cmd.ts, cmd.tr
                if kind == "ping":
                    one.reply = ("Ok: " if status == "Ok" else "Error: ") + (text or "")
                else:
                    one.reply = "%s:%d%s" % (status, node, "" if text is None or reduced
                                             else ": " + text)
                (self.exec_reply if reduced else self.check)(one)

    def check_create(self, cmd):
        node, parent, reply = cmd.node, cmd.arg, cmd.reply
        pinc = self.topo.get(parent)
        failed = False
        if node in self.topo:
            failed = True
            if reply != "Error: Already exists":
                self.violation("reply", "%d exists (%s): %s" % (
                    node, self.topo[node].name(), self.describe(cmd)))
        elif parent != -1 and pinc is None:
            failed = True
            if reply != "Error: Parent not found":
                self.violation("reply", "parent %d does not exist: %s" % (
                    parent, self.describe(cmd)))
        elif reply.startswith("Ok: ") and reply[4:].isdigit():
            serial = self.serials.get(node, 0) + 1
            self.serials[node] = serial
            inc = Inc(node, serial, pinc)
            inc.pid = int(reply[4:])
            stat = proc_stat(inc.pid)
            if stat is not None and stat[0] != "Z" and self.ours(inc.pid):
                # Only a process of this tree is ever signalled (pid reuse).
                inc.start = stat[2]
                ppid = pinc.pid if pinc else self.proc.pid
                tree_pids = {i.pid for i in self.topo.values()} | {self.proc.pid}
                # (unless the parent may be gone by now: orphans are reparented)
                settled = pinc is None or all(
                    a.killed is None and not self.pending_removes.get(a.id)
                    for a in pinc.chain())
                if stat[1] != ppid and stat[1] in tree_pids and settled:
                    self.violation("process", "pid %d of %s has parent process %d, not %d:"
                                   " %s" % (inc.pid, inc.name(), stat[1], ppid,
                                            self.describe(cmd)))
            self.topo[node] = inc
            if pinc:
                pinc.children.append(inc)
            self.all_pids.append((inc.pid, inc.start, inc))
            self.figures["creates"] += 1
            if pinc is not None:
                self.ghost(cmd, pinc)
        elif reply == "Error: Parent is unavailable":
            failed = True
            self.unavailable(cmd, pinc, "Parent is unavailable")
        elif reply == "Error: Already exists":
            failed = True
            last = next((c for c in reversed(self.sent[:cmd.index])
                         if c.node == node and c.kind in ("create", "remove")), None)
            self.violation("leftover", "the id is free (%s), yet: %s" % (
                "its last create/remove was #%d %r -> %r" % (last.index, last.line, last.reply)
                if last else "never created", self.describe(cmd)))
        elif reply.startswith("Error: "):
            failed = True
            self.violation("reply", "unexpected create error: %s" % self.describe(cmd))
        else:
            self.bad(cmd)
        if failed and cmd.gen and self.gen.get(node, (None, None))[1] is cmd:
            for n in self.gen_subtree(node):
                del self.gen[n]

    def remove_subtree(self, inc):
        todo = [inc]
        while todo:
            a = todo.pop()
            a.removed = True
            if self.topo.get(a.id) is a:
                del self.topo[a.id]
            self.stopped.pop(a, None)
            todo.extend(a.children)
        if inc.parent is not None:
            inc.parent.children.remove(inc)

    def check_remove(self, cmd):
        node = cmd.node
        count = self.pending_removes.get(node, 0) - 1
        if count > 0:
            self.pending_removes[node] = count
        else:
            self.pending_removes.pop(node, None)
        inc = self.topo.get(node)
        if inc is not None:
            if cmd.reply != "Ok":
                if not cmd.reply.startswith(("Ok", "Error")):
                    return self.bad(cmd)
                self.violation("reply", "remove of existing %s: %s" % (
                    inc.name(), self.describe(cmd)))
                return
            self.remove_subtree(inc)
            self.figures["removes"] += 1
        elif cmd.reply != "Error: Not found":
            if not cmd.reply.startswith(("Ok", "Error")):
                return self.bad(cmd)
            if cmd.reply == "Ok":
                last = next((c for c in reversed(self.sent[:cmd.index])
                             if c.node == node and c.kind in ("create", "remove")), None)
                self.violation("leftover", "the id is free (%s), yet: %s" % (
                    "its last create/remove was #%d %r -> %r" % (
                        last.index, last.line, last.reply) if last else "never created",
                    self.describe(cmd)))
            else:
                self.violation("reply", "remove of absent %d: %s" % (
                    node, self.describe(cmd)))

    def exec_reply(self, cmd):
        """Common part of exec replies: returns (inc, payload or None, ok)."""
        node, reply = cmd.node, cmd.reply
        ok_prefix, err_prefix = "Ok:%d" % node, "Error:%d: " % node
        inc = self.topo.get(node)
        if reply == ok_prefix or reply.startswith(ok_prefix + ": "):
            payload = reply[len(ok_prefix) + 2:] if reply != ok_prefix else None
            if inc is None:
                self.violation("reply", "Ok from absent id %d: %s" % (node, self.describe(cmd)))
                return None, None, False
            self.ghost(cmd, inc)
            return inc, payload, True
        if reply.startswith(err_prefix):
            reason = reply[len(err_prefix):]
            if reason == "Not found":
                if inc is not None:
                    self.violation("reply", "Not found for existing %s: %s" % (
                        inc.name(), self.describe(cmd)))
            elif reason == "Node is unavailable":
                if inc is None:
                    self.violation("reply", "unavailable for absent id %d: %s" % (
                        node, self.describe(cmd)))
                else:
                    self.unavailable(cmd, inc, "Node is unavailable")
            else:
                self.violation("reply", "unexpected error: %s" % self.describe(cmd))
            return inc, None, False
        self.bad(cmd)
        return inc, None, False

    def check_set(self, cmd):
        self.figures["sets"] += 1
        name, value = cmd.arg
        inc, payload, ok = self.exec_reply(cmd)
        if ok and payload is not None:
            self.violation("reply", "set with a payload: %s" % self.describe(cmd))
        if inc is not None:
            inc.names.append(name)
            self.sets[name, cmd.node] = SetRecord(cmd, inc, value, "ok" if ok else "failed")
        else:
            self.sets[name, cmd.node] = SetRecord(cmd, None, value, "failed")

    def check_get(self, cmd):
        self.figures["gets"] += 1
        name = cmd.arg
        inc, payload, ok = self.exec_reply(cmd)
        if not ok or inc is None:
            return
        rec = self.sets.get((name, cmd.node))
        if payload == "'%s' not found" % name:
            if rec is not None and rec.inc is inc and rec.status == "ok":
                self.violation("lost", "set answered Ok is not visible: set %s; get %s; %s"
                               % (self.describe(rec.cmd), self.describe(cmd),
                                  self.history(inc)))
            return
        if payload is None or not re.fullmatch(r"-?\d+", payload):
            self.violation("reply", "get answer not a value: %s" % self.describe(cmd))
            return
        if rec is None or int(payload) != rec.value:
            self.violation("stale", "get returns a value never set: %s" % self.describe(cmd))
        elif rec.status != "ok" and self.held_above(rec):
            self.figures["window"] = self.figures.get("window", 0) + 1
        elif rec.status != "ok":
            self.violation("resurrected", "set answered %r is visible later: set %s; get %s;"
                           " %s" % (rec.cmd.reply, self.describe(rec.cmd),
                                    self.describe(cmd), self.history(inc)))
        elif rec.inc is not inc:
            self.violation("stale", "value set on %s seen on %s: set %s; get %s" % (
                rec.inc.name() if rec.inc else "?", inc.name(), self.describe(rec.cmd),
                self.describe(cmd)))

    def held_above(self, rec):
        """True if a node above the set's node was stopped while the set was in
        flight (from its line until its answer), so that an answer already on its
        way up could be held there past the deadline."""
        cmd = rec.cmd
        until = cmd.tr if cmd.tr is not None else cmd.ts + self.timeout + MARGIN
        for above in list(rec.inc.chain())[1:] if rec.inc else []:
            if above.stopped_at(cmd.ts) or any(
                    cmd.ts <= when <= until and kind == "stop" for when, kind in above.events):
                return True
        return False

    def check_sum(self, cmd):
        inc, payload, ok = self.exec_reply(cmd)
        if ok and payload != str(cmd.arg):
            self.violation("reply", "sum should be %d: %s" % (cmd.arg, self.describe(cmd)))

    def check_ping(self, cmd):
        inc, reply = self.topo.get(cmd.node), cmd.reply
        if reply not in ("Ok: 1", "Ok: 0", "Error: Not found"):
            return self.bad(cmd)
        if inc is None:
            if reply != "Error: Not found":
                self.violation("reply", "ping of absent id: %s" % self.describe(cmd))
        elif reply == "Error: Not found":
            self.violation("reply", "ping of existing %s: %s" % (inc.name(),
                                                                  self.describe(cmd)))
        elif reply == "Ok: 1":
            self.ghost(cmd, inc)
        else:
            self.unavailable(cmd, inc, "Ok: 0")

    def check_pingall(self, cmd):
        self.figures["pingalls"] += 1
        reply = cmd.reply
        if reply == "Ok: -1":
            listed = set()
        elif re.fullmatch(r"Ok: -?\d+(;-?\d+)*", reply):
            listed = [int(x) for x in reply[4:].split(";")]
            if listed != sorted(set(listed)):
                self.violation("pingall", "not ascending or repeated: %s" % self.describe(cmd))
            listed = set(listed)
        else:
            return self.bad(cmd)
        extra = sorted(listed - set(self.topo))
        if extra:
            self.violation("pingall", "lists %d id(s) not in the tree at that line: %s; %s" % (
                len(extra), "; ".join(self.id_history(n, cmd.index) for n in extra[:5]),
                self.describe(cmd)))
        wrong_up, missed = [], []
        for node, inc in sorted(self.topo.items()):
            if node in listed and surely_up(inc, cmd.ts, cmd.tr):
                if cmd.tr >= cmd.ts + self.timeout - 0.02:
                    self.figures["timeouts"] += 1   # maybe slow, not down: allowed
                else:
                    wrong_up.append(inc)
            elif node not in listed and surely_down(inc, cmd.ts, cmd.tr):
                missed.append(inc)
        if wrong_up:
            self.violation("pingall", "lists %d surely-up node(s), answered before the timeout:"
                           " %s: %s" % (len(wrong_up), ", ".join(
                               i.name() for i in wrong_up[:10]), self.describe(cmd)))
        if missed:
            self.violation("pingall", "misses %d surely-down node(s): %s: %s; %s" % (
                len(missed), ", ".join(i.name() for i in missed[:10]), self.describe(cmd),
                self.history(missed[0])))

    def id_history(self, node, before):
        """The last create or remove of an id before line `before`, as evidence."""
        last = next((c for c in reversed(self.sent[:before])
                     if c.node == node and c.kind in ("create", "remove")), None)
        nxt = next((c for c in self.sent[before + 1:]
                    if c.node == node and c.kind == "create"), None)
        text = "%d: %s" % (node, "never created before" if last is None else
                           "last #%d %r -> %r" % (last.index, last.line, last.reply))
        if nxt is not None:
            text += ", next create #%d %r -> %s" % (
                nxt.index, nxt.line, repr(nxt.reply) if nxt.reply else "not answered yet")
        return text

    # ---- the run -----------------------------------------------------------------
    def wait_replies(self, deadline, report=True):
        """Waits until every command sent is answered; past the deadline, a violation
        unless report is False."""
        end = time.monotonic() + deadline
        if self.hard_end:
            end = min(end, max(self.hard_end, time.monotonic() + 2))
        while self.verified < len(self.sent):
            if time.monotonic() > end:
                if not report:
                    return False
                c = self.sent[self.verified]
                self.violation("reply", "no reply to #%d %r within %.0f s%s" % (
                    c.index, c.line, time.monotonic() - (c.ts or self.t0),
                    "" if c.ts else " (not even written: mqtree stopped reading stdin)"))
                self.aborted = "no reply"
                return False
            if not self.drain(0.05):
                return False
            self.chaos_tick()
        return True

    def chaos_tick(self):
        if self.chaos_on:
            self.chaos()
        else:
            for inc in list(self.stopped):
                self.cont(inc)

    def build(self):
        ids = self.rng.sample(range(1, 2 * self.target + 1), self.target)
        cmds = []
        for i, node in enumerate(ids):
            parent = -1 if i == 0 or self.rng.random() < 0.02 else self.rng.choice(ids[:i])
            cmds.append(self.c_create(node, parent, phase="build"))
        # At full speed behind the creates: one command to every node.
        for node in ids:
            cmds.append(self.c_set(node, phase="build"))
            cmds.append(self.c_sum(node, phase="build"))
        for i in range(0, len(cmds), 100):
            self.send(cmds[i:i + 100])
        if not self.wait_replies(60 + self.target * 0.2):
            return False
        # Whatever failed above (a violation already) is created again, level by
        # level, so that the chaos runs on the tree it was meant to.
        # A failed create may have left its id behind (a violation of its own): a
        # remove first clears it.
        parents = {c.node: c.arg for c in cmds if c.kind == "create"}
        end = time.monotonic() + 20
        for _ in range(8):
            missing = [n for n in ids if n not in self.topo
                       and (parents[n] == -1 or parents[n] in self.topo)]
            if not missing or time.monotonic() > end:
                break
            topup = []
            for n in missing:
                topup += [self.c_remove(n), self.c_create(n, parents[n], phase="build")]
            self.send(topup)
            if not self.wait_replies(60 + self.target * 0.2):
                return False
        return True

    def outstanding_allowed(self):
        """How many lines may wait for their replies: max_outstanding, and in a
        time-limited round no more than the tree answers in a third of GRACE at the
        rate it has answered so far, so that the stream's tail is answered within
        GRACE however loaded the machine is (on one shared with a soak, 10,000 lines
        at 800 replies/s outlasted it)."""
        elapsed = time.monotonic() - self.stream_t0
        if not self.time_limit or elapsed < 3:
            return self.max_outstanding
        rate = (self.verified - self.stream_verified) / elapsed
        return min(self.max_outstanding, max(1000, int(rate * GRACE / 3)))

    def stream(self):
        self.stream_t0, self.stream_verified = time.monotonic(), self.verified
        self.chaos_on = True
        self.next_chaos = time.monotonic() + 0.1
        end = self.t0 + self.time_limit if self.time_limit else None
        while len(self.sent) < self.max_commands and not self.aborted:
            if end and time.monotonic() > end:
                self.log("time limit reached after %d commands" % len(self.sent))
                break
            if len(self.sent) - self.verified < self.outstanding_allowed():
                self.send(self.batch(min(200, self.max_commands - len(self.sent))))
                if not self.drain():
                    return
            elif not self.drain(0.02):
                return
            self.chaos()
        # The chaos goes on until the stream is answered (or the time is up).
        if not self.aborted and not self.eof:
            if end:
                self.wait_replies(max(0.0, end - time.monotonic()), report=False)
            else:
                self.wait_replies(30 + 3 * self.timeout)
        self.chaos_on = False
        for inc in list(self.stopped):
            self.cont(inc)

    def sweep(self):
        """Quiet now: every name ever set on a live node is read back, then pingall."""
        if not self.wait_replies(30 + 3 * self.timeout):
            return
        time.sleep(WINDOW + 0.1)
        cmds = []
        for node, inc in sorted(self.topo.items()):
            for name in inc.names:
                cmds.append(self.c_get(node, phase="sweep", name=name))
            for name in self.gen_names.get(node, [])[-3:]:
                cmds.append(self.c_get(node, phase="sweep", name=name))
        cmds.append(Cmd("pingall", "pingall", phase="sweep"))
        for i in range(0, len(cmds), 500):
            self.send(cmds[i:i + 500])
            self.drain()
        self.wait_replies(60 + 3 * self.timeout)

    def finish(self):
        """exit: status 0, every reply, nothing left, run directory gone."""
        pid = self.proc.pid
        tree = descendants(pid)
        run_dirs = glob.glob(os.path.join(self.tmpdir, "mqtree-%d-*" % pid))
        if not run_dirs and not self.eof:
            self.violation("exit", "no run directory mqtree-%d-* in %s" % (pid, self.tmpdir))
        self.transcript.append("%.3f > exit" % self.now())
        self.outq.put([Cmd("exit", "exit")])
        self.outq.put(None)
        try:
            status = self.proc.wait(timeout=5 if self.aborted else 30 + 3 * self.timeout)
        except subprocess.TimeoutExpired:
            self.violation("exit", "controller still running %d s after exit" % (
                5 if self.aborted else 30 + 3 * self.timeout))
            self.killed = True
            self.proc.kill()
            status = self.proc.wait()
        exited_at = time.monotonic()
        end = time.monotonic() + 10
        while not self.eof and time.monotonic() < end:
            self.drain(0.1)
        if not self.eof:
            self.violation("exit", "stdout still open 10 s after the controller exited"
                           " (a process of the tree holds it)")
        if status != 0 and not self.killed:
            self.violation("exit", "controller exit status %d%s" % (
                status, " (killed by signal %d)" % -status if status < 0 else ""))
        if self.verified != len(self.sent):
            self.violation("reply", "%d commands got no reply; first: #%d %r" % (
                len(self.sent) - self.verified, self.verified, self.sent[self.verified].line))
        # Every node process ends with the controller (within a second).
        known = {(p, s) for p, s, _ in self.all_pids if s is not None} | set(tree)

        def left_now():
            out = []
            for p, s in known:
                st = proc_stat(p)
                if st is not None and st[2] == s and st[0] != "Z":
                    out.append(p)
            return sorted(out)
        while left_now() and time.monotonic() < exited_at + 1.0:
            time.sleep(0.02)
        left = left_now()
        if left:
            details = []
            for p in left[:5]:
                st = proc_stat(p)
                owner = [inc.name() for q, _, inc in self.all_pids if q == p]
                details.append("pid %d node %s state %s: %s" % (
                    p, ",".join(owner) or "?", st[0] if st else "gone", cmdline(p)[:120]))
            while left_now() and time.monotonic() < exited_at + 5.0:
                time.sleep(0.05)
            later = left_now()
            self.violation("exit", "%d process(es) of the tree still there 1 s after the"
                           " controller exited (%d still 5 s after): %s" % (
                               len(left), len(later), "; ".join(details)))
        # Stray processes are ours: end them, so that nothing of this test lives on.
        for p in left_now():
            st = proc_stat(p)
            if st and (p, st[2]) in known:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
        for d in glob.glob(os.path.join(self.tmpdir, "mqtree-%d-*" % pid)):
            if not self.killed:  # after our SIGKILL nobody is left to delete it
                self.violation("exit", "run directory %s still there after exit" % d)
        self.stderr.seek(0)
        log = self.stderr.read().decode("utf-8", "replace")
        self.stderr_text = log
        for mark in SANITIZER_MARKS:
            at = log.find(mark)
            if at >= 0:
                self.violation("sanitizer", "%s in the log:\n%s" % (
                    mark, log[max(0, at - 200):at + 3000]))
                break

    def run(self):
        self.eof = False
        self.killed = False
        self.chaos_on = False
        self.start()
        # The stream stops at time_limit; the sweep and exit must fit in GRACE more.
        self.hard_end = self.t0 + self.time_limit + GRACE if self.time_limit else None
        try:
            if self.build():
                self.log("built %d nodes in %.1f s" % (len(self.topo), self.now()))
                self.stream()
                if not self.aborted and not self.eof:
                    self.sweep()
            if self.eof:
                self.aborted = self.aborted or "mqtree ended its output early"
                self.violation("exit", "mqtree ended its output after %d of %d replies" % (
                    self.verified, len(self.sent)))
            self.finish()
        finally:
            for inc in list(self.stopped):
                self.signal(inc, signal.SIGCONT)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            for d in glob.glob(os.path.join(self.tmpdir, "*")):
                subprocess.run(["rm", "-rf", d])
            try:
                os.rmdir(self.tmpdir)
            except OSError:
                pass
        self.figures["seconds"] = round(self.now(), 1)
        return self.figures

    def save_transcript(self, path):
        with open(path, "w") as f:
            f.write("# mqtree chaos round, seed %d, %d nodes, --ordered --timeout %d\n" % (
                self.seed, self.target, self.timeout_ms))
            for entry in self.transcript:
                if isinstance(entry, Cmd):
                    f.write("%.3f > %s\n" % ((entry.ts or self.t0) - self.t0, entry.line))
                else:
                    f.write(entry + "\n")
            if getattr(self, "stderr_text", ""):
                f.write("# controller stderr (last 20000 characters)\n")
                f.write(self.stderr_text[-20000:])


def summary(figures):
    keys = ("commands", "replies", "kills", "stops", "conts", "creates", "removes", "sets",
            "gets", "broadcasts", "pingalls", "unavailable", "timeouts", "stalls", "slow",
            "window", "violations")
    return ", ".join("%s %d" % (k, figures.get(k, 0)) for k in keys)
