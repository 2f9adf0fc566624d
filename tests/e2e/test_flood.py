"""Junk connections on a tcp endpoint: a thousand that never finish the ZMTP
handshake (silent, or sending garbage), with CURVE and without, and a connect storm.
The node accepts them, closes each one the handshake interval (5 s) has not seen
through even while the peer holds it open, so its descriptors come back to their
baseline; it spends little CPU on them; and the tree keeps answering throughout."""
import errno
import os
import random
import select
import socket
import threading
import time

from harness import Mqtree, alive, run, slack, tcp_listen_ports


def tcp_listen_port(pid):
    """The one 127.0.0.1 port a node listens on."""
    ports = tcp_listen_ports(pid)
    assert len(ports) == 1, ports
    return ports[0]


JUNK = 1000
STORM = 5000
HANDSHAKE = 5.0  # node/children.c TCP_HANDSHAKE_MS: set by libzmq's timer, not our code
TICK = os.sysconf("SC_CLK_TCK")
# Share of one core a node may spend on a flood (accept, greeting, close): under a
# sanitizer every call costs more.
CPU_MAX = 0.20 * min(slack(1), 2)
# Descriptors that come and go on their own (a pipe, an op thread's socket).
FD_NOISE = 8


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def cpu_seconds(pid):
    """utime + stime of every thread of pid so far."""
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class CpuMeter:
    """CPU share of one core each pid used since start()."""

    def __init__(self, pids):
        self.pids = pids
        self.start()

    def start(self):
        self.wall = time.monotonic()
        self.used = {pid: cpu_seconds(pid) for pid in self.pids}

    def shares(self):
        elapsed = time.monotonic() - self.wall
        return {pid: (cpu_seconds(pid) - self.used[pid]) / elapsed for pid in self.pids}


class FdPeak(threading.Thread):
    """Samples each pid's descriptor count until stopped; keeps the highest."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.peak = {pid: fds(pid) for pid in pids}
        self.done = threading.Event()
        self.start()

    def run(self):
        while not self.done.is_set():
            for pid in self.peak:
                try:
                    self.peak[pid] = max(self.peak[pid], fds(pid))
                except OSError:
                    pass
            self.done.wait(0.01)

    def stop(self):
        self.done.set()
        self.join(timeout=5)
        return self.peak


def open_junk(port, count, payload=None):
    """count non-blocking connections to 127.0.0.1:port, all established (bounded
    wait), each then sent payload if any; never closed here."""
    socks = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        code = sock.connect_ex(("127.0.0.1", port))
        assert code in (0, errno.EINPROGRESS), os.strerror(code)
        socks.append(sock)
    pending = {sock.fileno(): sock for sock in socks}
    poller = select.poll()
    for fd in pending:
        poller.register(fd, select.POLLOUT)
    end = time.monotonic() + slack(10)
    while pending:
        left = end - time.monotonic()
        assert left > 0, "%d of %d connections not established" % (len(pending), count)
        for fd, _ in poller.poll(left * 1000):
            sock = pending.pop(fd)
            poller.unregister(fd)
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            assert error == 0, "connect: %s" % os.strerror(error)
            if payload:
                sock.send(payload(), socket.MSG_DONTWAIT)
    return socks


def serves(m):
    m.expect("exec 2 sum 1 2", "Ok:2: 2")
    m.expect("pingall", "Ok: -1")


def tree(*options):
    m = Mqtree("--transport", "tcp", *options)
    m.create(1)
    m.create(2, 1)
    serves(m)
    return m


def server_side(port):
    """Established connections whose local end is port: accepted by the node or
    waiting in its accept queue (the node's real links included)."""
    count = 0
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
                count += 1
    return count


def wait_back(pids, base_fds, ports, base_links, deadline, what):
    """Until each pid's descriptors and established connections on its port are
    back to their baseline."""
    end = time.monotonic() + deadline
    for pid in pids:
        while fds(pid) > base_fds[pid] + FD_NOISE or \
                server_side(ports[pid]) > base_links[pid]:
            assert time.monotonic() < end, \
                "%s: pid %d has %d fds (baseline %d) and %d connections on its port " \
                "(baseline %d) %.0f s after %s" % (
                    what, pid, fds(pid), base_fds[pid], server_side(ports[pid]),
                    base_links[pid], deadline, what)
            time.sleep(0.02)


def flood(m, payload=None, label=""):
    targets = {"node 2": m.pids[2], "controller": m.proc.pid}
    pids = list(targets.values())
    ports = {pid: tcp_listen_port(pid) for pid in pids}
    # Idle baseline, in the same tree.
    base_fds = {pid: fds(pid) for pid in pids}
    base_links = {pid: server_side(ports[pid]) for pid in pids}
    meter = CpuMeter(pids)
    time.sleep(2)
    idle = meter.shares()

    peaks = FdPeak(pids)
    meter.start()
    started = time.monotonic()
    junk = {}
    try:
        for pid in pids:
            junk[pid] = open_junk(ports[pid], JUNK, payload)
        established = time.monotonic()
        serves(m)
        # The handshake interval closes every connection the node accepted while the
        # test holds them all (garbage ones it closes at once). Those the listen
        # backlog turned away (accept queue full: the kernel's SYN cookies leave no
        # state on the node's side) never reach the node while silent; bytes sent on
        # one get it admitted when the queue has room, if the client's retransmits
        # have not backed off too far by then, so some garbage ones stay out too.
        wait_back(pids, base_fds, ports, base_links, HANDSHAKE + slack(3),
                  "the last connect")
        fell = time.monotonic() - established
        peak = peaks.stop()
        during = meter.shares()
        # Still held, already closed by the node: nothing left to spin on.
        meter.start()
        time.sleep(2)
        serves(m)
        held = meter.shares()
        closed = {pid: sum(1 for sock in junk[pid] if s_eof(sock)) for pid in pids}
        # Nothing held on the node's side, late admissions included: one admitted
        # from the backlog during the 2 s above is closed by the handshake interval
        # at the latest (an ASan CI run found 22 still open at this point once).
        wait_back(pids, base_fds, ports, base_links, HANDSHAKE + slack(3),
                  "the late admissions")
    finally:
        for socks in junk.values():
            for sock in socks:
                sock.close()
    serves(m)
    # Closing the turned-away ones sends a FIN the kernel admits through its cookie:
    # the node accepts them late and closes them at once.
    peaks = FdPeak(pids)
    wait_back(pids, base_fds, ports, base_links, HANDSHAKE + slack(3), "closing")
    late = peaks.stop()
    serves(m)
    for name, pid in targets.items():
        print("  %-8s %-10s fds %d -> peak %d -> %d within %.1f s of the last connect; "
              "%d closed by the node while held, %d turned away by the backlog; "
              "CPU idle %.1f %%, flood %.1f %% over %.1f s, held after %.1f %%; "
              "test closes: peak %d -> %d"
              % (label, name, base_fds[pid], peak[pid], fds(pid), fell, closed[pid],
                 JUNK - closed[pid], 100 * idle[pid], 100 * during[pid],
                 established - started + fell, 100 * held[pid], late[pid], fds(pid)))
    for name, pid in targets.items():
        assert alive(pid), name
        # At most one descriptor per junk connection.
        assert peak[pid] - base_fds[pid] <= JUNK + FD_NOISE, (name, base_fds, peak)
        assert late[pid] - base_fds[pid] <= JUNK + FD_NOISE, (name, base_fds, late)
        # It took in more than its backlog's worth.
        assert closed[pid] > 128, (name, closed[pid])
        assert during[pid] < CPU_MAX and held[pid] < CPU_MAX, \
            "%s: %.0f %% / %.0f %% of a core" % (name, 100 * during[pid], 100 * held[pid])


def s_eof(sock):
    """True if the peer closed sock (EOF or reset), without waiting."""
    try:
        return sock.recv(65536, socket.MSG_DONTWAIT) == b"" or s_drain(sock)
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def s_drain(sock):
    """The node's greeting came first: read on until EOF or nothing more."""
    while True:
        data = sock.recv(65536, socket.MSG_DONTWAIT)
        if not data:
            return True


def garbage():
    return bytes(random.getrandbits(8) for _ in range(100))


def finish(m):
    assert m.close() == 0
    log = m.log()
    print("  log: %d lines" % log.count("\n"))
    # Junk is summed up, not logged line by line.
    assert log.count("\n") < 100, log[-2000:]


def test_silent_curve():
    with tree() as m:
        flood(m, None, "silent")
        finish(m)


def test_garbage_curve():
    with tree() as m:
        flood(m, garbage, "garbage")
        finish(m)


def test_silent_insecure():
    with tree("--insecure") as m:
        flood(m, None, "insecure")
        finish(m)


def test_connect_storm():
    with tree() as m:
        pid = m.pids[2]
        port = tcp_listen_port(pid)
        base = fds(pid)
        meter = CpuMeter([pid, m.proc.pid])
        done = threading.Event()
        cycles = [0]

        def storm():
            try:
                for _ in range(STORM):
                    with socket.create_connection(("127.0.0.1", port), timeout=slack(5)):
                        pass
                    cycles[0] += 1
            finally:
                done.set()

        peaks = FdPeak([pid])
        started = time.monotonic()
        threading.Thread(target=storm, daemon=True).start()
        answered = 0
        while not done.is_set():
            serves(m)
            answered += 1
        took = time.monotonic() - started
        shares = meter.shares()
        assert cycles[0] == STORM, "storm stopped after %d cycles" % cycles[0]
        serves(m)
        end = time.monotonic() + HANDSHAKE + slack(3)
        while fds(pid) > base + FD_NOISE:
            assert time.monotonic() < end, "node 2: %d fds, baseline %d" % (fds(pid),
                                                                             base)
            time.sleep(0.02)
        peak = peaks.stop()[pid]
        meter.start()
        time.sleep(1)
        after = meter.shares()
        print("  storm     %d connect+close in %.1f s, %d exec+pingall answered meanwhile;"
              " node 2 fds %d -> peak %d -> %d; CPU node 2 %.1f %%, controller %.1f %% "
              "(commands included), after %.1f %%"
              % (STORM, took, answered, base, peak, fds(pid), 100 * shares[pid],
                 100 * shares[m.proc.pid], 100 * after[pid]))
        assert after[pid] < CPU_MAX
        assert answered >= 1
        assert alive(pid)
        finish(m)


run([test_silent_curve, test_garbage_curve, test_silent_insecure, test_connect_storm])
