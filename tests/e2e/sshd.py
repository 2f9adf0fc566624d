"""A throwaway sshd on 127.0.0.1 for the tests of the remote launcher (--launcher).

    with Sshd() as server:
        Mqtree("--transport", "tcp", "--launcher", server.launcher())

Runs /usr/sbin/sshd as a child of the test, in the foreground (-D -e), on a free
port of 127.0.0.1, from a private temp directory (mode 0700) that holds its own host
key, a new user key, the authorized_keys file and the sshd_config: nothing of the
machine's ssh setup is read or changed, except that /run/sshd (sshd's privilege
separation directory) is made if it is missing. Logins are by that key only, as the
user running the test (root: PermitRootLogin prohibit-password).

At exit (every path: the with block, atexit, SIGTERM, the test's death through
PR_SET_PDEATHSIG) the sshd and every process below it (its sessions, their shells and
whatever they started) are stopped, then killed by pid: no sshd of ours remains.

Where sshd or ssh is missing, the fixture raises AssertionError naming the package
(scripts/setup installs both): the test fails, it is never skipped silently.
"""
import atexit
import ctypes
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin",
                               "/usr/local/sbin"])
# sshd's privilege separation directory on Debian: it refuses to start without it.
PRIVSEP_DIR = "/run/sshd"
START_DEADLINE = 20.0  # seconds; sshd starts in milliseconds, a loaded machine aside
STOP_DEADLINE = 10.0
_PR_SET_PDEATHSIG = 1


def find(program, package):
    """The path of program, or an AssertionError that names the package to install."""
    path = shutil.which(program, path=SEARCH_PATH)
    if not path:
        raise AssertionError("%s not found: install %s (scripts/setup installs it)"
                             % (program, package))
    return path


def ssh_binary():
    return find("ssh", "openssh-client")


def free_port():
    """A port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launcher(port, key):
    """The --launcher template that logs into 127.0.0.1:port with key, no questions.
    mqtree splits a template at blanks, without quoting: no path here may have one."""
    ssh = ssh_binary()
    for path in (ssh, key):
        assert path.split() == [path], "a blank in %r" % path
    return ("%s -p %d -i %s -o BatchMode=yes -o StrictHostKeyChecking=no "
            "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR {host}" % (ssh, port, key))


def _children_map():
    """{ppid: [pid, ...]} of every process now."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(pid):
    """Every process below pid now (children, grandchildren...)."""
    children, found, todo = _children_map(), [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def ancestors(pid):
    """pid's parent, grandparent... up to init."""
    chain = []
    while pid > 1:
        try:
            with open("/proc/%d/stat" % pid) as stat:
                pid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
        chain.append(pid)
    return chain


def _signal(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _gone(pid):
    """True once pid has exited (a zombie counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _pdeathsig():
    """Runs in the sshd child before exec: it gets SIGKILL if the test dies."""
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


_live = set()  # the Sshd instances not stopped yet, for atexit and SIGTERM


def _stop_all():
    for server in list(_live):
        server.stop()


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)  # unwinds with blocks, then atexit runs


atexit.register(_stop_all)
if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
    signal.signal(signal.SIGTERM, _on_sigterm)


class Sshd:
    """The context manager: a running sshd in __enter__, nothing left after stop()."""

    def __init__(self):
        self.proc = None
        self.dir = None
        self.port = None

    # -- start --------------------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        sshd = find("sshd", "openssh-server")
        keygen = find("ssh-keygen", "openssh-client")
        ssh_binary()
        self._privsep_dir()
        self.dir = tempfile.mkdtemp(prefix="mqtree-sshd-")  # mode 0700
        os.chmod(self.dir, 0o700)
        _live.add(self)
        self.host_key = os.path.join(self.dir, "host_ed25519")
        self.key = os.path.join(self.dir, "user_ed25519")
        self.authorized = os.path.join(self.dir, "authorized_keys")
        self.config = os.path.join(self.dir, "sshd_config")
        self.log_path = os.path.join(self.dir, "sshd.log")
        for path, comment in ((self.host_key, "mqtree test host"),
                              (self.key, "mqtree test user")):
            subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", comment,
                            "-f", path], check=True, stdin=subprocess.DEVNULL,
                           timeout=START_DEADLINE)
        shutil.copyfile(self.key + ".pub", self.authorized)
        os.chmod(self.authorized, 0o600)
        # The port is free when probed, not necessarily when sshd binds it: another
        # process may take it in between. Then sshd exits, and a new port is tried.
        failures = []
        for _ in range(5):
            self.port = free_port()
            self._write_config(sshd)
            if self._run(sshd):
                return
            failures.append(self._log_tail())
        raise AssertionError("sshd did not start on 127.0.0.1 (5 tries); last log:\n%s"
                             % failures[-1])

    @staticmethod
    def _privsep_dir():
        if os.path.isdir(PRIVSEP_DIR):
            return
        if os.geteuid() != 0:
            raise AssertionError("%s is missing and only root can make it: run the ssh "
                                 "tests as root" % PRIVSEP_DIR)
        try:
            os.makedirs(PRIVSEP_DIR, mode=0o755)
        except FileExistsError:
            pass  # made by someone else meanwhile
        os.chmod(PRIVSEP_DIR, 0o755)

    def _write_config(self, sshd):
        lines = [
            "ListenAddress 127.0.0.1",
            "Port %d" % self.port,
            "HostKey %s" % self.host_key,
            "AuthorizedKeysFile %s" % self.authorized,
            "PidFile %s" % os.path.join(self.dir, "sshd.pid"),
            "PubkeyAuthentication yes",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "HostbasedAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "UseDNS no",
            "PrintMotd no",
            "PrintLastLog no",
            "X11Forwarding no",
            "LogLevel INFO",
            # Trees start many workers at once: no unauthenticated connection may be
            # dropped early (the default is 10:30:100).
            "MaxStartups 200",
            "LoginGraceTime 60",
        ]
        # Newer sshd (9.8+) penalizes a source whose sessions fail, as the tests make
        # them do; older ones do not know the option and refuse a config with it.
        with open(self.config, "w") as config:
            config.write("\n".join(lines + ["PerSourcePenalties no"]) + "\n")
        if subprocess.run([sshd, "-t", "-f", self.config], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          timeout=START_DEADLINE).returncode != 0:
            with open(self.config, "w") as config:
                config.write("\n".join(lines) + "\n")

    def _run(self, sshd):
        """Starts sshd; True once its port answers with an SSH banner, False if it
        exited (the port was taken)."""
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen([sshd, "-D", "-e", "-f", self.config],
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, preexec_fn=_pdeathsig)
        finally:
            log.close()
        end = time.monotonic() + START_DEADLINE
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                self.proc = None
                return False
            if self._banner():
                return True
            time.sleep(0.01)
        raise AssertionError("sshd did not accept on 127.0.0.1:%d within %.0f s; log:\n%s"
                             % (self.port, START_DEADLINE, self._log_tail()))

    def _banner(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
                return conn.recv(4).startswith(b"SSH-")
        except OSError:
            return False

    def _log_tail(self):
        try:
            with open(self.log_path, "rb") as log:
                return log.read()[-4000:].decode("utf-8", "replace")
        except OSError:
            return "(no log)"

    # -- use ------------------------------------------------------------------------

    @property
    def pid(self):
        return self.proc.pid

    def launcher(self):
        """The --launcher template for this server ({host} is 127.0.0.1 here)."""
        return launcher(self.port, self.key)

    def ssh(self, *command, timeout=START_DEADLINE):
        """Runs command on 127.0.0.1 through this server: CompletedProcess."""
        argv = shlex.split(self.launcher().replace("{host}", "127.0.0.1"))
        return subprocess.run(argv + list(command), stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=timeout)

    def log(self):
        return self._log_tail()

    def sessions(self):
        """The processes below the listening sshd: sessions and what they run."""
        return descendants(self.proc.pid) if self.proc else []

    # -- stop -----------------------------------------------------------------------

    def stop(self):
        """Kills sshd and everything below it, by pid; removes the temp directory.
        Safe to call more than once."""
        if self.proc is not None:
            # Freeze the whole subtree first, so that nothing in it can start a new
            # process or be reparented away while we collect it, then kill it all.
            frozen = set()
            _signal([self.proc.pid], signal.SIGSTOP)
            for _ in range(100):
                below = [pid for pid in descendants(self.proc.pid) if pid not in frozen]
                if not below:
                    break
                _signal(below, signal.SIGSTOP)
                frozen.update(below)
            _signal([self.proc.pid] + sorted(frozen), signal.SIGKILL)
            try:
                self.proc.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                pass
            end = time.monotonic() + STOP_DEADLINE
            while time.monotonic() < end and not all(_gone(pid) for pid in frozen):
                time.sleep(0.01)
            self.proc = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        _live.discard(self)


if __name__ == "__main__":
    # A check of the fixture by itself: python3 tests/e2e/sshd.py
    with Sshd() as server:
        done = server.ssh("echo", "hi")
        assert done.returncode == 0 and done.stdout == b"hi\n", (done, server.log())
        print("ok: ssh to 127.0.0.1:%d ran echo hi (sshd pid %d)" % (server.port,
                                                                   server.pid))
        # A session still running at exit: it and its command go with the sshd.
        argv = shlex.split(server.launcher().replace("{host}", "127.0.0.1"))
        client = subprocess.Popen(argv + ["exec sleep 300"], stdin=subprocess.DEVNULL)
        end = time.monotonic() + START_DEADLINE
        def comm(pid):
            try:
                with open("/proc/%d/comm" % pid) as name:
                    return name.read().strip()
            except OSError:
                return None  # gone meanwhile (the session of echo hi ending)
        while time.monotonic() < end and "sleep" not in map(comm, server.sessions()):
            time.sleep(0.01)
        ours = [server.pid] + server.sessions()
        assert len(ours) >= 3, ours
    client.wait(timeout=STOP_DEADLINE)
    left = [pid for pid in ours if not _gone(pid)]
    assert not left, "processes of our sshd left: %s" % left
    print("ok: nothing of our sshd left (%d processes ended)" % len(ours))
