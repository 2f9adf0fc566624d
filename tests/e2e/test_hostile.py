"""Foreign processes on a node's endpoint: garbage, lying frames, wrong versions, a
flood, a connect storm, an impersonator. The node logs and drops, keeps serving its
parent and children, does not grow without bound, and never crashes."""
import os
import stat
import subprocess

from harness import Mqtree, alive, asan_env, run, run_dir, tcp_listen_ports

PEER = os.environ.get("HOSTILE_PEER") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "release", "tests", "hostile_peer")
MODES = ("garbage", "lying", "version", "flood", "storm", "impersonate")


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


def still_serving(m):
    m.expect("exec 3 sum 1 3", "Ok:3: 3")
    m.expect("exec 2 sum 1 2", "Ok:2: 2")
    m.expect("pingall", "Ok: -1")


class Quarantined(Mqtree):
    """Under ASan its quarantine keeps 256 MB of freed memory by default: the RSS
    would reach its plateau only once that much had been freed, which takes more
    floods the less each message allocates. A small quarantine changes only ASan's
    bookkeeping, not what the program keeps."""
    extra_env = asan_env("quarantine_size_mb=8")


def attack(m, endpoint, target_pid, refused=False):
    for mode in MODES:
        run = subprocess.run([PEER, endpoint, mode], check=True, timeout=120,
                             stdout=subprocess.PIPE, text=True)
        # A CURVE endpoint never lets a peer without the tree's key send a byte.
        assert ("no connection" in run.stdout) == refused, (mode, run.stdout)
        still_serving(m)
        assert alive(target_pid), mode
    # Floods do not add up: what is read is dropped, not kept, and each connection
    # may queue only so much. (The first floods grow the heap, and under ASan its
    # quarantine, to a plateau.)
    subprocess.run([PEER, endpoint, "flood"], check=True, timeout=120)
    still_serving(m)
    plateau = rss_mb(target_pid)
    for _ in range(5):
        subprocess.run([PEER, endpoint, "flood"], check=True, timeout=120)
        still_serving(m)
    assert rss_mb(target_pid) - plateau < 32, (plateau, rss_mb(target_pid))


def test_ipc_endpoints():
    with Quarantined() as m:
        m.create(1)
        m.create(2, 1)
        m.create(3, 2)
        directory = run_dir(m.proc.pid)
        info = os.stat(directory)
        assert stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.getuid()
        attack(m, "ipc://%s/2.sock" % directory, m.pids[2])
        attack(m, "ipc://%s/-1.sock" % directory, m.proc.pid)
        assert m.close() == 0
        log = m.log()
        assert "dropped" in log
        # A flood is summed up, not logged line by line.
        assert log.count("dropped") < 2000, log.count("dropped")
        assert not os.path.exists(directory)


def test_tcp_endpoints_insecure():
    """Without CURVE a foreign peer's bytes reach the node: it drops them."""
    with Quarantined("--transport", "tcp", "--insecure") as m:
        m.create(1)
        m.create(2, 1)
        m.create(3, 2)
        ports = tcp_listen_ports(m.pids[2])
        assert len(ports) == 1, ports
        attack(m, "tcp://127.0.0.1:%d" % ports[0], m.pids[2])
        assert m.close() == 0
        assert "neither authenticated nor encrypted" in m.log()


def test_tcp_endpoints_curve():
    """With CURVE (tcp's default) a peer without the tree's key gets no connection,
    sends nothing, and breaks nothing; the refusals are counted, not logged each."""
    with Mqtree("--transport", "tcp") as m:
        m.create(1)
        m.create(2, 1)
        m.create(3, 2)
        ports = tcp_listen_ports(m.pids[2])
        assert len(ports) == 1, ports
        attack(m, "tcp://127.0.0.1:%d" % ports[0], m.pids[2], refused=True)
        ports = tcp_listen_ports(m.proc.pid)
        attack(m, "tcp://127.0.0.1:%d" % ports[0], m.proc.pid, refused=True)
        assert m.close() == 0


run([test_ipc_endpoints, test_tcp_endpoints_insecure, test_tcp_endpoints_curve])
