"""Drives the real mqtree binary through pipes, the way a user's script does.

Every wait has a deadline: a test fails instead of hanging. Nothing sleeps to let
things settle; tests wait for a line or for a state of /proc.
"""
import fnmatch
import glob
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

BIN = os.environ.get("MQTREE_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "release", "mqtree")
# How much slower than a Release build the binaries run: tests/CMakeLists.txt sets it
# for the sanitizer build (ASan+UBSan: 2-3x slower on CPU work, slower starts).
TIME_SCALE = float(os.environ.get("MQTREE_TIME_SCALE") or 1.0)
# Generous: a loaded 2-core machine under ASan must not make a test flaky.
LINE_DEADLINE = 20.0 * TIME_SCALE
# ctest reports a test that exits with this code as skipped, never as passed.
SKIP_CODE = 77


def slack(seconds):
    """An upper bound on wall-clock time for work the binaries do, scaled for slow
    builds. Bounds that the kernel or a timeout sets, not our code, need none."""
    return seconds * TIME_SCALE


class Skipped(Exception):
    """Raised by a test that cannot run here: reported as skipped, not passed."""


class Mqtree:
    def command(self, args):
        """The controller's command line (a subclass may run it elsewhere)."""
        return [BIN, *args]

    def __init__(self, *args):
        self.stderr = tempfile.TemporaryFile()
        # ASCII tree branches unless a test asks for UTF-8.
        command, env = self.command(args), dict(os.environ, LANG="C", LC_ALL="", LC_CTYPE="")
        env.update(getattr(self, "extra_env", {}))
        if os.environ.get("MQTREE_VALGRIND"):
            # The controller under memcheck; its workers run natively (named by
            # MQTREE_WORKER, since /proc/self/exe is valgrind's there).
            command = ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
                       "--errors-for-leak-kinds=definite", "--track-fds=no"] + command
            env["MQTREE_WORKER"] = os.path.join(os.path.dirname(BIN), "mqtree-worker")
        # A subclass may set preexec, e.g. to run the controller under lower rlimits.
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, env=env,
                                     stdout=subprocess.PIPE, stderr=self.stderr,
                                     preexec_fn=getattr(self, "preexec", None))
        self.lines = queue.Queue()
        self.pids = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            self.lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
        self.lines.put(None)

    def send(self, *lines):
        data = "".join(line + "\n" for line in lines).encode()
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send_bytes(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def line(self, deadline=LINE_DEADLINE):
        try:
            line = self.lines.get(timeout=deadline)
        except queue.Empty:
            raise AssertionError("no output line within %.0f s" % deadline)
        if line is None:
            raise AssertionError("mqtree ended its output")
        return line

    def ask(self, command, deadline=LINE_DEADLINE):
        self.send(command)
        return self.line(deadline)

    def expect(self, command, expected):
        got = self.ask(command)
        assert got == expected, "%r: expected %r, got %r" % (command, expected, got)
        return got

    def create(self, node, parent=None):
        command = "create %d" % node if parent is None else "create %d %d" % (node, parent)
        reply = self.ask(command)
        assert reply.startswith("Ok: "), "%r -> %r" % (command, reply)
        pid = int(reply[4:])
        self.pids[node] = pid
        return pid

    def build(self, *edges):
        """Creates nodes from (node, parent) pairs, in order, one at a time."""
        for node, parent in edges:
            self.create(node, parent)

    def no_line(self, within):
        """Asserts that nothing is printed for `within` seconds. Only where no event
        can close the window (prefer `expect` of a marker command, whose reply must
        then be the next line)."""
        try:
            line = self.lines.get(timeout=within)
        except queue.Empty:
            return
        raise AssertionError("unexpected output %r" % line)

    def close(self, deadline=LINE_DEADLINE):
        """Ends input like `exit` would and returns the exit code."""
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        return self.proc.wait(timeout=deadline)

    def log(self):
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")


def _run_dir_patterns(controller_pid, env):
    """Where a controller of this pid makes its run directory, by the environment it
    ran with."""
    bases = [env.get("XDG_RUNTIME_DIR"), env.get("TMPDIR"), "/tmp"]
    return [os.path.join(base, "mqtree-%d-*" % controller_pid) for base in filter(None, bases)]


def asan_env(options):
    """The environment entry that adds options to this run's ASAN_OPTIONS."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    return {"ASAN_OPTIONS": (asan + ":" if asan else "") + options}


def run_dir(controller_pid):
    """The run directory of a live controller: the one it holds open (a controller
    killed with SIGKILL leaves its directory behind, and pids are reused, so a name
    alone may be an old one's)."""
    patterns = _run_dir_patterns(controller_pid, os.environ)
    for fd in glob.glob("/proc/%d/fd/*" % controller_pid):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if any(fnmatch.fnmatch(target, pattern) for pattern in patterns):
            return target
    raise AssertionError("no run directory open in controller %d" % controller_pid)


# Branches come in groups of four columns, ASCII ("|-- ", "`-- ", "|   ", "    ") or
# box-drawing ones; then an optional L/R, the id (maybe negative), pid, state, depth.
TREE_LINE = re.compile("^(?:[|`\u2502\u251c\u2514 ][-\u2500 ]{2} )*"
                       "(?:([LR]) )?(-?\\d+) pid (\\d+|-) (.*) depth (\\d+)$")


def tree_line(line):
    """One node line of `tree`: (side or None, id, pid, state, depth)."""
    match = TREE_LINE.match(line)
    assert match, "not a tree line: %r" % line
    side, node, pid, state, depth = match.groups()
    return side, int(node), int(pid) if pid != "-" else 0, state, int(depth)


def tcp_listen_ports(pid):
    """The 127.0.0.1 ports a process listens on, from /proc."""
    inodes = set()
    for fd in glob.glob("/proc/%d/fd/*" % pid):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports, others = [], []
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[3] == "0A" and fields[9] in inodes:
                (ports if address == "0100007F" else others).append(int(port, 16))
    assert not others, "listening beyond 127.0.0.1: %s" % others
    return ports


def alive(pid):
    """True while the process exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        # Gone, or gone between the open and the read.
        return False


def exists(pid):
    return os.path.exists("/proc/%d" % pid)


def parent_of(pid):
    with open("/proc/%d/stat" % pid) as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def wait_until(predicate, deadline=LINE_DEADLINE, what="condition"):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if predicate():
            return
        # Polls /proc, which has no event to wait on; the product never does this.
        time.sleep(0.005)
    raise AssertionError("%s not reached within %.0f s" % (what, deadline))


def ids_of(text):
    """The ids of a folded line's set, as positive ids: "1-3,7" -> [1, 2, 3, 7]."""
    ids = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        ids.extend(range(int(first), int(last or first) + 1))
    return ids


def skip(reason):
    """Ends a script none of whose tests can run here: ctest shows it skipped."""
    print("skipped: %s" % reason)
    print("0 passed, 0 failed, 1 skipped")
    sys.exit(SKIP_CODE)


def run(tests):
    """Runs test functions, prints a summary line, exits 1 on failure, else 77
    (skipped) if a test could not run, else 0."""
    failed = skipped = 0
    for test in tests:
        started = time.monotonic()
        try:
            test()
            print("ok   %s (%.2f s)" % (test.__name__, time.monotonic() - started))
        except Skipped as reason:
            skipped += 1
            print("SKIP %s: %s" % (test.__name__, reason))
        except Exception as error:  # noqa: BLE001 - report every failure
            failed += 1
            where = traceback.extract_tb(error.__traceback__)[-1]
            print("FAIL %s: %s (line %d: %s)" % (test.__name__, error, where.lineno,
                                                 where.line))
        sys.stdout.flush()
    print("%d passed, %d failed, %d skipped" % (len(tests) - failed - skipped, failed,
                                               skipped))
    sys.exit(1 if failed else SKIP_CODE if skipped else 0)


def kill(pid, sig=signal.SIGKILL):
    os.kill(pid, sig)


_PTRACE_DETACH, _PTRACE_SEIZE, _PTRACE_INTERRUPT = 17, 0x4206, 0x4207


def freeze(pid):
    """Stops pid with a ptrace interrupt, which (unlike SIGSTOP) its parent's
    waitpid does not see: a node hung invisibly. Raises Skipped if ptrace is
    refused (no CAP_SYS_PTRACE in a container, Yama's ptrace_scope): the test
    cannot run here, and ctest shows it skipped, never passed."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.ptrace(_PTRACE_SEIZE, pid, 0, 0) != 0 or \
            libc.ptrace(_PTRACE_INTERRUPT, pid, 0, 0) != 0:
        raise Skipped("cannot ptrace here (errno %d)" % ctypes.get_errno())
    status = ctypes.c_int()  # wait for its stop, as its tracer (__WALL)
    assert libc.waitpid(pid, ctypes.byref(status), 0x40000000) == pid


def thaw(pid):
    import ctypes
    ctypes.CDLL(None, use_errno=True).ptrace(_PTRACE_DETACH, pid, 0, 0)


def _enter(self):
    return self


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def _left_run_dirs(pid, env):
    """The run directories a controller of this pid left (it cannot remove its own
    after SIGKILL)."""
    return [d for pattern in _run_dir_patterns(pid, env) for d in glob.glob(pattern)
            if os.path.isdir(d) and not os.path.islink(d)]


def _exit(self, *exc):
    # A failed test must not leave a controller behind; its workers follow it.
    if self.proc.poll() is None:
        self.proc.kill()
        self.proc.wait(timeout=LINE_DEADLINE)
    # A controller ended by SIGKILL could not remove its run directory: the test
    # removes it (found by the pid it had, a moment ago).
    if self.proc.returncode == -signal.SIGKILL:
        env = dict(os.environ, **getattr(self, "extra_env", {}))
        for directory in _left_run_dirs(self.proc.pid, env):
            shutil.rmtree(directory, ignore_errors=True)
    # Workers share the controller's stderr: a sanitizer report anywhere fails.
    log = self.log()
    for mark in SANITIZER_MARKS:
        if mark in log and exc[0] is None:
            raise AssertionError("sanitizer report:\n" + log[-4000:])
    return False


Mqtree.__enter__ = _enter
Mqtree.__exit__ = _exit
