"""Network namespaces as hosts: an isolated virtual network for the multi-host tests.

    with Hosts(4) as hosts:
        with Controller(hosts, "--transport", "tcp", ...) as m:   # runs inside h0
            m.ask("create 1 -1 @" + hosts.name(1))

One bridge namespace holds a Linux bridge; each host namespace h0..h(N-1) has one
veth, `eth0`, with address 127.100.0.(i+1)/24, whose peer sits in the bridge namespace
on the bridge. In each host namespace `lo` is narrowed to 127.0.0.1/32 and
route_localnet is on, so 127.100.0.x really travels over the veth (without, the
kernel answers it on lo); there is no default route. Names are unique per run
(`mqt<6 hex>-...`).

Nothing here touches the root namespace's interfaces, routes, sysctls or firewall:
both ends of every veth are made inside namespaces. Teardown SIGKILLs, by pid, every
process in our namespaces (processes this run started there) and deletes the
namespaces; it runs on context exit, at exit and on SIGTERM/SIGINT, and twice is
harmless.

Namespaces that cannot be made (not root, no `ip`, EPERM) raise NetnsError: the test
fails with that message, it is never skipped.
"""
import atexit
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import queue
import time

import harness

SUBNET = "127.100.0"
BRIDGE = "br0"
# Every `ip` call is bounded: a hung call fails the setup instead of the run hanging.
IP_DEADLINE = 20.0


class NetnsError(RuntimeError):
    """The virtual network could not be made or driven: a setup problem, and a
    failure (never a skip) of the test that needs it."""


def _tool(name, package):
    path = shutil.which(name) or next(
        (p for p in ("/usr/sbin/" + name, "/sbin/" + name, "/usr/bin/" + name)
         if os.access(p, os.X_OK)), None)
    if path is None:
        raise NetnsError("`%s` not found: install the %s package (the multi-host tests "
                         "need it)" % (name, package))
    return path


def _run(argv, deadline=IP_DEADLINE):
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=deadline)
    except subprocess.TimeoutExpired:
        raise NetnsError("%s: did not finish within %.0f s" % (" ".join(argv), deadline))
    except OSError as error:
        raise NetnsError("%s: %s" % (" ".join(argv), error))
    if done.returncode != 0:
        raise NetnsError("%s: exit %d: %s" % (" ".join(argv), done.returncode,
                                               done.stderr.decode(errors="replace").strip()))
    return done.stdout.decode(errors="replace")


# Each run records its namespaces here with its own pid and start time, so a later
# run can clean up after one that was SIGKILLed (ctest's timeout), which no handler
# sees. Root-only tmpfs, emptied at boot.
REGISTRY = "/run/mqtree-netns"

_live = []             # Hosts not yet torn down, for atexit and the signal handlers
_handlers_set = False
_lock = threading.Lock()


def _teardown_all():
    for hosts in list(_live):
        hosts.teardown()


def _on_signal(signum, frame):
    _teardown_all()
    # Then die of the signal as we would have without the handler.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _start_time(pid):
    """The start time of a live pid (None if gone or a zombie): with the pid, it
    names one process, whatever pid reuse does."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return None if fields[0] in ("Z", "X") else fields[19]
    except (OSError, IndexError):
        return None


def _owner_alive(owner):
    pid, started = owner.split()
    return _start_time(int(pid)) == started


def clean_stale(ip):
    """Tears down the namespaces of runs whose process is gone (killed by SIGKILL):
    kills, by pid, the processes left in them (ones such a run started there) and
    deletes them. Bounded: one pass over the registry."""
    try:
        entries = sorted(os.listdir(REGISTRY))[:1000]
    except OSError:
        return
    for entry in entries:
        path = os.path.join(REGISTRY, entry)
        try:
            with open(path) as record:
                owner, *names = record.read().split("\n")
            if _owner_alive(owner):
                continue
        except (OSError, ValueError):
            continue
        stale = Hosts.__new__(Hosts)
        stale._ip, stale._made, stale._torn, stale._dir = ip, [n for n in names if n], \
            False, None
        stale.tag = entry
        stale._registry = path
        stale.teardown()


def _install_handlers():
    global _handlers_set
    with _lock:
        if _handlers_set:
            return
        _handlers_set = True
    atexit.register(_teardown_all)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, _on_signal)


class Hosts:
    def __init__(self, count, prefix=None, clock_offsets=None):
        """clock_offsets: seconds per host added to CLOCK_MONOTONIC and
        CLOCK_BOOTTIME of the processes started there (time namespaces, `unshare
        --time`), so hosts' clocks disagree; None: one clock for all."""
        assert 1 <= count <= 200, count
        assert clock_offsets is None or len(clock_offsets) == count, clock_offsets
        self.count = count
        self.clock_offsets = clock_offsets
        self._dir = None
        self.tag = prefix or "mqt" + secrets.token_hex(3)
        self.bridge_ns = self.tag + "-br"
        self.names = ["%s-h%d" % (self.tag, i) for i in range(count)]
        self.launcher = "ip netns exec {host}"
        self._made = []          # namespaces created so far, for teardown
        self._torn = False
        self._ip = None

    # -- the interface the tests use ---------------------------------------------

    def address(self, i):
        return "%s.%d" % (SUBNET, i + 1)

    def name(self, i):
        return self.names[i]

    def partition(self, i):
        """Cuts host i off: the bridge-side end of its veth goes down. The host keeps
        its address; packets to and from it are dropped until heal(i)."""
        self._ipn(self.bridge_ns, "link", "set", self._port(i), "down")

    def heal(self, i):
        self._ipn(self.bridge_ns, "link", "set", self._port(i), "up")

    def pids(self, i):
        return self._pids(self.names[i])

    def all_pids(self):
        return {pid for name in self._made for pid in self._pids(name)}

    def exec_argv(self, i, argv):
        """argv run inside host i (and its clock, if hosts have their own)."""
        if self.clock_offsets is not None:
            offset = str(int(self.clock_offsets[i]))
            argv = [self._unshare, "--time", "--monotonic", offset, "--boottime", offset,
                    *argv]
        return [self._ip, "netns", "exec", self.names[i], *argv]

    def popen(self, i, argv, **kwargs):
        """Starts argv inside host i (stdin from /dev/null unless told)."""
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.Popen(self.exec_argv(i, argv), **kwargs)

    def host_of(self, pid):
        """The name of the namespace pid runs in (`ip netns identify`), '' if none."""
        try:
            return _run([self._ip, "netns", "identify", str(pid)]).strip()
        except NetnsError:
            return ""

    # -- setup and teardown ------------------------------------------------------

    def __enter__(self):
        self.setup()
        return self

    def __exit__(self, *exc):
        self.teardown()
        return False

    def setup(self):
        self._ip = _tool("ip", "iproute2")
        sysctl = _tool("sysctl", "procps")
        if self.clock_offsets is not None:
            self._unshare = _tool("unshare", "util-linux")
        if os.geteuid() != 0:
            raise NetnsError("the multi-host tests make network namespaces and must run "
                             "as root (euid is %d)" % os.geteuid())
        _install_handlers()
        _live.append(self)
        clean_stale(self._ip)
        os.makedirs(REGISTRY, mode=0o700, exist_ok=True)
        self._registry = os.path.join(REGISTRY, self.tag)
        try:
            self._add_ns(self.bridge_ns)
            ipb = lambda *a: self._ipn(self.bridge_ns, *a)  # noqa: E731
            ipb("link", "set", "lo", "up")
            ipb("link", "add", BRIDGE, "type", "bridge")
            ipb("link", "set", BRIDGE, "up")
            for i, host in enumerate(self.names):
                self._add_ns(host)
                # Both ends are born inside namespaces: the root namespace never
                # sees the pair.
                ipb("link", "add", self._port(i), "type", "veth", "peer", "name", "eth0",
                    "netns", host)
                ipb("link", "set", self._port(i), "master", BRIDGE)
                ipb("link", "set", self._port(i), "up")
                iph = lambda *a: self._ipn(host, *a)  # noqa: E731
                iph("link", "set", "lo", "up")
                iph("addr", "del", "127.0.0.1/8", "dev", "lo")
                iph("addr", "add", "127.0.0.1/32", "dev", "lo")
                for conf in ("all", "default", "eth0"):
                    _run([self._ip, "netns", "exec", host, sysctl, "-q", "-w",
                          "net.ipv4.conf.%s.route_localnet=1" % conf])
                iph("addr", "add", "%s/24" % self.address(i), "dev", "eth0")
                iph("link", "set", "eth0", "up")
            if self.clock_offsets is not None:
                self._write_launcher()
        except NetnsError as error:
            self.teardown()
            raise NetnsError("cannot make the virtual network of %d hosts (network "
                             "namespaces need root with CAP_SYS_ADMIN and CAP_NET_ADMIN): "
                             "%s" % (self.count, error)) from None
        except BaseException:
            self.teardown()
            raise
        return self

    def teardown(self):
        """SIGKILLs every process in our namespaces (by pid), then deletes them.
        Idempotent; every loop is bounded."""
        if self._torn:
            return
        self._torn = True
        if self in _live:
            _live.remove(self)
        me = os.getpid()
        for name in reversed(self._made):
            # Killed processes may have forked meanwhile: a few rounds, bounded.
            end = time.monotonic() + 5.0
            for _ in range(100):
                pids = [pid for pid in self._pids(name) if pid != me]
                if not pids or time.monotonic() > end:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.01)
        for name in reversed(self._made):
            if not os.path.exists(os.path.join("/run/netns", name)):
                continue  # never made (setup failed there) or already gone
            try:
                _run([self._ip, "netns", "del", name])
            except NetnsError as error:
                print("netns teardown: %s" % error, file=sys.stderr)
        self._made = []
        registry = getattr(self, "_registry", None)
        if registry:
            try:
                os.unlink(registry)
            except OSError:
                pass
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    # -- helpers -----------------------------------------------------------------

    def _write_launcher(self):
        """With clocks of their own, {host} alone cannot name the offset: the
        launcher is a script that looks it up (`SCRIPT {host}`)."""
        self._dir = tempfile.mkdtemp(prefix=self.tag + "-")
        path = os.path.join(self._dir, "launch")
        cases = "".join("    %s) set -- %s \"$@\" ;;\n" % (
            name, " ".join(self.exec_argv(i, []))) for i, name in enumerate(self.names))
        with open(path, "w") as script:
            script.write('#!/bin/sh\n# mqtree test launcher: SCRIPT HOST COMMAND...\n'
                         'host=$1\nshift\ncase "$host" in\n%s'
                         '    *) echo "no such test host: $host" >&2; exit 127 ;;\n'
                         'esac\nexec "$@"\n' % cases)
        os.chmod(path, 0o755)
        os.chmod(self._dir, 0o755)
        try:
            _run([path, self.names[-1], "true"])
        except NetnsError as error:
            raise NetnsError("time namespaces (unshare --time): %s" % error)
        self.launcher = path + " {host}"

    def _port(self, i):
        return "v%d" % i  # the bridge-side end, inside the bridge namespace

    def _add_ns(self, name):
        # Recorded before it exists: a run killed in between leaves a name that
        # `ip netns del` refuses, harmless.
        self._made.append(name)
        with open(self._registry + ".new", "w") as record:
            record.write("%d %s\n%s\n" % (os.getpid(), _start_time(os.getpid()),
                                           "\n".join(self._made)))
        os.replace(self._registry + ".new", self._registry)
        _run([self._ip, "netns", "add", name])

    def _ipn(self, ns, *args):
        return _run([self._ip, "-n", ns, *args])

    def _pids(self, name):
        try:
            out = _run([self._ip, "netns", "pids", name])
        except NetnsError:
            return []
        return [int(word) for word in out.split() if word.isdigit()]


class Controller(harness.Mqtree):
    """The mqtree shell run inside host 0 (`ip netns exec <h0> mqtree ARGS...`).
    `ip netns exec` execs the command in place, so proc.pid is the controller's
    pid. Valgrind mode is not supported here."""

    def __init__(self, hosts, *args, host=0):
        self.hosts, self.host = hosts, host
        super().__init__(*args)

    def command(self, args):
        return self.hosts.exec_argv(self.host, [os.path.abspath(harness.BIN), *args])

    def line(self, deadline=harness.LINE_DEADLINE):
        try:
            return super().line(deadline)
        except AssertionError as error:
            # Say why: a controller that refused its options, or died.
            tail = self.log().strip()[-600:]
            raise AssertionError("%s%s" % (error, " (its stderr: %r)" % tail if tail
                                           else "")) from None

    def create_at(self, node, parent, host):
        """create NODE PARENT @<name of host `host`>; returns the pid."""
        command = "create %d %d @%s" % (node, parent, self.hosts.name(host))
        reply = self.ask(command)
        # A failed create says why in the controller's log (a launcher that could
        # not start, a HELLO that came late).
        assert reply.startswith("Ok: "), "%r -> %r (its stderr: %r)" % (
            command, reply, self.log().strip()[-1200:])
        pid = int(reply[4:])
        self.pids[node] = pid
        return pid


def worker_bin():
    return os.path.join(os.path.dirname(os.path.abspath(harness.BIN)), "mqtree-worker")
