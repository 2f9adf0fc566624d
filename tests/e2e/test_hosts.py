"""Many hosts (README, "Many hosts", "Failures"): trees over TCP spanning network
namespaces that stand for machines (netns.py), launched with `ip netns exec {host}`.

Needs root (it makes network namespaces); without it every test fails with the reason,
it is never skipped. The controller runs inside h0, bound to 127.100.0.1; host i is
127.100.0.(i+1).
"""
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

from harness import BIN, TIME_SCALE, alive, exists, run, slack, tree_line, wait_until
from netns import Controller, Hosts, worker_bin

TIMEOUT_MS = int(2000 * TIME_SCALE)
LISTEN_PORT = 29000  # below the ephemeral range: nothing else in h0 takes it


def start(hosts, *extra):
    return Controller(hosts, "--transport", "tcp", "--bind", hosts.address(0),
                      "--launcher", hosts.launcher, "--timeout", str(TIMEOUT_MS), *extra)


def listen_endpoint(hosts):
    return "tcp://%s:%d" % (hosts.address(0), LISTEN_PORT)


def keygen(directory, name="tree.cert"):
    path = os.path.join(directory, name)
    done = subprocess.run([BIN, "--keygen", path], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=slack(20))
    assert done.returncode == 0, "mqtree --keygen: exit %d: %r" % (done.returncode,
                                                                   done.stderr)
    mode = os.stat(path).st_mode & 0o777
    assert mode == 0o600, "certificate %s has mode %o, not 600" % (path, mode)
    return path


def wait_pingall(m, expected, deadline=10):
    wait_until(lambda: m.ask("pingall") == expected, slack(deadline), "pingall %s" % expected)


def no_worker_left(hosts, deadline=None):
    """Every namespace empties (the controller has been reaped already)."""
    deadline = deadline or slack(5)
    wait_until(lambda: not hosts.all_pids(), deadline,
               "no process left in any host namespace (left: %s)" % sorted(hosts.all_pids()))


def on_host(hosts, pid, i):
    got = hosts.host_of(pid)
    assert got == hosts.name(i), "pid %d runs in %r, not %r" % (pid, got, hosts.name(i))


TREE_PREFIX = "^(?:[|`\u2502\u251c\u2514 ][-\u2500 ]{2} )*(?:[LR] )?(-?\\d+) "
ENDPOINT = re.compile(r"tcp://(\d+\.\d+\.\d+\.\d+):(\d+)")
SUMMARY = re.compile(r"^\d+ nodes?: ")


def tree_lines(m, command):
    """The node lines `command` (a form of tree) prints, up to its summary."""
    m.send(command)
    for _ in range(100000):
        line = m.line()
        if SUMMARY.match(line):
            return
        yield line
    raise AssertionError("%s never ended" % command)


def endpoints(m):
    """`tree --endpoints` as {id: (address, port)} (the controller's line may name an
    endpoint or not)."""
    found = {}
    for line in tree_lines(m, "tree --endpoints"):
        node = re.match(TREE_PREFIX, line)
        assert node, "not a tree line: %r" % line
        endpoint = ENDPOINT.search(line)
        if node.group(1) != "-1":
            assert endpoint, "no tcp:// endpoint on %r" % line
            found[int(node.group(1))] = (endpoint.group(1), int(endpoint.group(2)))
    return found


def tree_states(m):
    """`tree` as {id: state}, without the host a state may name."""
    states = {}
    for line in tree_lines(m, "tree"):
        if not line.startswith("-1 controller"):
            _, node, _, state, _ = tree_line(line)
            states[node] = state.split(" on ")[0]
    return states


def check_endpoints(m, hosts, where):
    """where: {id: host index}; each node advertises its host's address."""
    found = endpoints(m)
    assert sorted(found) == sorted(where), (found, where)
    for node, i in where.items():
        assert found[node][0] == hosts.address(i), \
            "node %d on h%d advertises %s" % (node, i, found[node][0])
    return found


# -- the virtual network itself -------------------------------------------------------

SERVER = r'''
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 7777))
s.listen(8)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b"hello\n")
    c.close()
'''

CLIENT = r'''
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], 7777), timeout=float(sys.argv[2]))
    c.settimeout(float(sys.argv[2]))
    print(c.recv(100).decode().strip())
except OSError as error:
    print("failed: %s" % error)
'''


def root_state():
    commands = (["ip", "-o", "link"], ["ip", "-o", "addr"], ["ip", "route", "show", "table",
                "all"], ["ip", "-6", "route", "show", "table", "all"],
                ["sysctl", "net.ipv4.conf.all.route_localnet",
                 "net.ipv4.conf.default.route_localnet", "net.ipv4.conf.lo.route_localnet"])
    return [subprocess.run(c, capture_output=True, text=True, timeout=20).stdout
            for c in commands]


def test_virtual_network():
    """The harness alone: h0 reaches a listener in h1 over the bridge, a partition
    stops it, heal restores it; teardown leaves nothing, the root namespace is as it
    was."""
    before = root_state()
    with Hosts(3) as hosts:
        server = hosts.popen(1, [sys.executable, "-c", SERVER, hosts.address(1)],
                             stdout=subprocess.PIPE)

        def connect(i, seconds=slack(3.0)):
            return subprocess.run(hosts.exec_argv(i, [sys.executable, "-c", CLIENT,
                                                      hosts.address(1), str(seconds)]),
                                  capture_output=True, text=True,
                                  timeout=seconds + slack(20)).stdout.strip()
        assert server.stdout.readline() == b"ready\n"
        assert connect(0) == "hello"
        assert connect(2) == "hello"
        hosts.partition(1)
        assert connect(0, 1.0).startswith("failed"), "the cut let a connection through"
        hosts.heal(1)
        wait_until(lambda: connect(0) == "hello", slack(10), "h1 reachable after heal")
        assert hosts.pids(1) == [server.pid], hosts.pids(1)
        assert hosts.host_of(server.pid) == hosts.name(1)
        names = hosts.names + [hosts.bridge_ns]
    # Teardown killed the listener (by pid) and deleted the namespaces.
    assert server.wait(timeout=slack(5)) == -signal.SIGKILL
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not any(name in listed for name in names), listed
    assert root_state() == before, "the root namespace changed"


# -- the multi-host tree -----------------------------------------------------------------

def test_chain_over_three_hosts():
    with Hosts(4) as hosts, start(hosts) as m:
        m.create_at(1, -1, 1)
        # Once it has answered (before, `ip netns exec` may not have entered h0).
        on_host(hosts, m.proc.pid, 0)
        m.create_at(2, 1, 2)
        m.create_at(3, 2, 3)
        for node in (1, 2, 3):
            assert exists(m.pids[node])
            on_host(hosts, m.pids[node], node)
        # Without @host a node runs on its parent's host.
        m.create(4, 3)
        on_host(hosts, m.pids[4], 3)
        m.create(5, -1)
        on_host(hosts, m.pids[5], 0)
        m.expect("exec 3 sum 3 1 2 3", "Ok:3: 6")
        m.expect("exec 1 find abracadabra abra", "Ok:1: 0;7")
        m.expect("exec 2 set x 5", "Ok:2")
        m.expect("exec 2 get x", "Ok:2: 5")
        m.expect("exec 4 sum 2 -1 1", "Ok:4: 0")
        for node in (1, 2, 3, 4, 5):
            m.expect("ping %d" % node, "Ok: 1")
        m.expect("pingall", "Ok: -1")
        check_endpoints(m, hosts, {1: 1, 2: 2, 3: 3, 4: 3, 5: 0})
        assert m.close() == 0
        no_worker_left(hosts)


def test_fifteen_nodes_over_four_hosts():
    with Hosts(4) as hosts, start(hosts) as m:
        where = {}
        for node in range(1, 16):
            parent = node // 2 if node > 1 else -1
            where[node] = node % 4
            m.create_at(node, parent, node % 4)
        for node, i in where.items():
            on_host(hosts, m.pids[node], i)
        # All at once: replies in any order, one per command.
        m.send(*["exec %d sum 2 %d 1000" % (node, node) for node in where])
        replies = {m.line() for _ in where}
        assert replies == {"Ok:%d: %d" % (node, node + 1000) for node in where}, replies
        m.expect("pingall", "Ok: -1")
        check_endpoints(m, hosts, where)
        # The subtree of 2 (2, 4, 5, 8-11) spans all four hosts.
        subtree = [2, 4, 5, 8, 9, 10, 11]
        m.expect("remove 2", "Ok")
        for node in subtree:
            wait_until(lambda: not alive(m.pids[node]), slack(5), "node %d gone" % node)
            m.expect("ping %d" % node, "Error: Not found")
        m.expect("pingall", "Ok: -1")
        m.create_at(2, 1, 3)  # the id can be used again, anywhere
        m.expect("exec 2 sum 1 2", "Ok:2: 2")
        assert m.close() == 0
        no_worker_left(hosts)


def test_sets_over_four_hosts():
    """Tree-wide commands across hosts (README, Tree-wide commands): run folds the
    same output of the nodes of one host into one line, reductions cross hosts, and
    a dead remote subtree is one line."""
    with Hosts(4) as hosts, start(hosts, "--allow-run") as m:
        for node in range(1, 16):
            m.create_at(node, node // 2 if node > 1 else -1, node % 4)
        m.send("exec all run cat /proc/net/fib_trie")
        lines = [m.line() for _ in range(4)]
        for i in range(4):
            # The nodes on host i, and what its network namespace says of itself.
            ids = ",".join(str(node) for node in range(1, 16) if node % 4 == i)
            # (a newline in the output reads \n: one reply, one line)
            group = [line for line in lines if "-- 127.100.0.%d\\n" % (i + 1) in line]
            assert len(group) == 1, (i, lines)
            assert re.fullmatch(r"Ok:[0-9,-]+: 0: .*", group[0]), group[0]
            got = group[0].split(":")[1]
            expanded = []
            for part in got.split(","):
                first, _, last = part.partition("-")
                expanded += range(int(first), int(last or first) + 1)
            assert ",".join(map(str, expanded)) == ids, (i, got, ids)
        m.expect("exec all sum 2 1 1 --reduce sum", "Ok:1-15: 30")
        # Node 2's subtree (2, 4, 5, 8-11) spans the four hosts: one line.
        os.kill(m.pids[2], signal.SIGKILL)
        wait_until(lambda: m.ask("ping 2") == "Ok: 0", slack(10), "node 2 known dead")
        m.send("exec all sum 1 1")
        assert [m.line(), m.line()] == ["Ok:1,3,6-7,12-15: 1",
                                        "Error:2,4-5,8-11: Node is unavailable"]
        assert m.close() == 0
        no_worker_left(hosts)


def test_create_on_a_host_that_does_not_exist():
    with Hosts(2) as hosts, start(hosts) as m:
        reply = m.ask("create 9 -1 @%s-nosuchhost" % hosts.tag,
                      TIMEOUT_MS / 1000 + slack(20))
        assert reply.startswith("Error"), reply
        m.expect("ping 9", "Error: Not found")
        m.create_at(9, -1, 1)
        m.expect("exec 9 sum 1 9", "Ok:9: 9")
        assert m.close() == 0
        no_worker_left(hosts)


def test_create_behind_a_cut():
    """The launcher starts the worker, but it cannot reach its parent: the create
    fails at the timeout, and when the link returns the late worker is ended, not
    adopted."""
    with Hosts(3) as hosts, start(hosts) as m:
        m.create_at(1, -1, 2)
        hosts.partition(1)
        started = time.monotonic()
        reply = m.ask("create 5 -1 @%s" % hosts.name(1), TIMEOUT_MS / 1000 + slack(20))
        assert reply.startswith("Error"), reply
        assert time.monotonic() - started < TIMEOUT_MS / 1000 + slack(2.0), reply
        m.expect("ping 5", "Error: Not found")
        hosts.heal(1)
        no_late = lambda: not hosts.pids(1)  # noqa: E731
        wait_until(no_late, slack(10), "the late worker on h1 ended (left: %s)"
                   % hosts.pids(1))
        m.create_at(5, -1, 1)
        m.expect("exec 5 sum 1 5", "Ok:5: 5")
        m.expect("pingall", "Ok: -1")
        assert m.close() == 0
        no_worker_left(hosts)


# -- CURVE, joining ---------------------------------------------------------------------

# A ZMTP 3.0 peer with the NULL mechanism (no pyzmq here): greeting, READY as a
# DEALER, one message. Prints what came back and whether the peer closed.
PROBE = r'''
import json, socket, sys, time
address, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def command(name, body):
    payload = bytes([len(name)]) + name + body
    return bytes([0x04, len(payload)]) + payload
greeting = (b"\xff" + b"\0" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\0")
            + b"\0" + b"\0" * 31)
ready = command(b"READY", bytes([11]) + b"Socket-Type" + (6).to_bytes(4, "big")
                + b"DEALER")
message = bytes([0x00, 5]) + b"hello"
got, closed, sent = b"", False, False
s = socket.create_connection((address, port), timeout=5)
s.sendall(greeting if mode == "zmtp" else bytes(range(256)) * 4)
end = time.monotonic() + float(sys.argv[4])
while time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        break
    except OSError:
        closed = True
        break
    if not chunk:
        closed = True
        break
    got += chunk
    if mode == "zmtp" and len(got) >= 64 and not sent:
        sent = True
        try:
            s.sendall(ready + message)
        except OSError:
            closed = True
            break
print(json.dumps({"got": got.hex(), "closed": closed}))
'''


def probe(hosts, i, address, port, mode, seconds=2.0):
    import json
    done = subprocess.run(hosts.exec_argv(i, [sys.executable, "-c", PROBE, address,
                                              str(port), mode, str(seconds)]),
                          capture_output=True, text=True, timeout=seconds + slack(20))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    return bytes.fromhex(result["got"]), result["closed"]


def check_refused_probe(got, what):
    """At most a ZMTP greeting came back, and it asked for CURVE; never a READY,
    never a message."""
    assert len(got) <= 64, "%s: %d bytes came back past the greeting: %r" % (
        what, len(got), got[:200])
    if len(got) == 64:
        mechanism = got[12:32].rstrip(b"\0")
        assert mechanism == b"CURVE", "%s: the endpoint speaks %r" % (what, mechanism)


def join(hosts, i, cert, node, parent=None, endpoint=None):
    argv = [worker_bin(), "--join", endpoint or listen_endpoint(hosts), "--cert", cert,
            "--id", str(node)]
    if parent is not None:
        argv += ["--parent", str(parent)]
    return hosts.popen(i, argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def refused(m, worker, what):
    """The joiner exits non-zero with a message on its stderr; the tree says
    nothing (the next line is pingall's) and is untouched."""
    try:
        _, err = worker.communicate(timeout=TIMEOUT_MS / 1000 + slack(20))
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        raise AssertionError("%s: the joiner was never refused" % what)
    assert worker.returncode != 0, "%s: the joiner exited 0" % what
    assert err.strip(), "%s: no message on the joiner's stderr" % what
    m.expect("pingall", "Ok: -1")
    err = err.decode(errors="replace")
    print("    %s: refused, exit %d: %s" % (what, worker.returncode,
                                            err.strip().splitlines()[-1][:200]))
    return err


JOINED = re.compile(r"^Joined: node (-?\d+) \(pid (\d+) on (.+)\)$")


def joined(m, worker, node):
    """The Joined line for node; its pid. On failure, says what the joiner said."""
    end = time.monotonic() + TIMEOUT_MS / 1000 + slack(20)
    line = None
    while line is None and time.monotonic() < end and worker.poll() is None:
        try:
            line = m.lines.get(timeout=0.05)
        except queue.Empty:
            pass
    if line is None:
        if worker.poll() is None:
            worker.kill()
        _, err = worker.communicate(timeout=slack(10))
        # (A joiner that exits 0 unheard was most likely ended as late: the
        # controller's log says when its join failed.)
        raise AssertionError("no Joined line for node %d; the joiner exited %s: %r; "
                             "the controller's stderr: %r"
                             % (node, worker.returncode, err[-400:],
                                m.log().strip()[-1200:]))
    assert line is not None, "mqtree ended its output"
    match = JOINED.match(line)
    assert match and int(match.group(1)) == node, "not a Joined line for %d: %r" % (
        node, line)
    print("    %s" % line)
    return int(match.group(2))


def test_curve_keeps_strangers_out():
    with tempfile.TemporaryDirectory() as directory, Hosts(3) as hosts, \
            start(hosts, "--cert", keygen(directory),
                  "--listen", listen_endpoint(hosts)) as m:
        wrong = keygen(directory, "other.cert")
        assert open(wrong, "rb").read() != open(os.path.join(directory, "tree.cert"),
                                               "rb").read()
        m.create_at(1, -1, 1)
        m.create_at(2, 1, 2)
        found = check_endpoints(m, hosts, {1: 1, 2: 2})
        targets = [found[1], found[2], (hosts.address(0), LISTEN_PORT)]
        for address, port in targets:
            for mode in ("zmtp", "garbage"):
                got, _ = probe(hosts, 2, address, port, mode)
                check_refused_probe(got, "%s probe of %s:%d" % (mode, address, port))
                m.expect("exec 2 sum 2 %d 1" % port, "Ok:2: %d" % (port + 1))
        # A libzmq peer without the key (NULL mechanism): garbage, forged replies
        # with a live child's routing id, a connect storm. None gets through.
        peer = os.environ.get("HOSTILE_PEER") or os.path.join(
            os.path.dirname(os.path.abspath(BIN)), "tests", "hostile_peer")
        assert os.access(peer, os.X_OK), "no hostile_peer at %s" % peer
        for mode in (["garbage", "200"], ["impersonate"], ["storm", "50"]):
            for address, port in targets[:2]:
                done = subprocess.run(hosts.exec_argv(2, [peer, "tcp://%s:%d" % (
                    address, port), *mode]), capture_output=True, timeout=slack(30))
                assert done.returncode == 0, (mode, done.stderr)
            m.expect("exec 2 sum 1 2", "Ok:2: 2")
        m.expect("pingall", "Ok: -1")
        # A joiner with another tree's certificate is refused.
        refused(m, join(hosts, 2, wrong, 50, 1), "wrong key")
        m.expect("ping 50", "Error: Not found")
        m.expect("exec 1 sum 1 1", "Ok:1: 1")
        assert m.close() == 0
        no_worker_left(hosts)


def test_join_by_hand():
    with tempfile.TemporaryDirectory() as directory, Hosts(4) as hosts:
        cert = keygen(directory)
        with start(hosts, "--cert", cert, "--listen", listen_endpoint(hosts)) as m:
            m.create_at(1, -1, 1)
            joiner = join(hosts, 2, cert, 7, 1)
            on_host(hosts, joined(m, joiner, 7), 2)
            m.expect("exec 7 sum 3 1 2 4", "Ok:7: 7")
            m.expect("ping 7", "Ok: 1")
            # Without --parent it joins under the controller.
            other = join(hosts, 3, cert, 8)
            on_host(hosts, joined(m, other, 8), 3)
            m.expect("exec 8 set a 1", "Ok:8")
            m.expect("exec 8 get a", "Ok:8: 1")
            m.expect("pingall", "Ok: -1")
            check_endpoints(m, hosts, {1: 1, 7: 2, 8: 3})
            # Nodes can be created under a joined one, on its host by default.
            m.create(9, 7)
            on_host(hosts, m.pids[9], 2)
            m.expect("exec 9 sum 1 9", "Ok:9: 9")
            # Refused: the id is taken, the parent does not exist.
            refused(m, join(hosts, 3, cert, 7, 1), "id taken")
            refused(m, join(hosts, 3, cert, 20, 99), "missing parent")
            m.expect("ping 20", "Error: Not found")
            m.expect("exec 7 sum 1 7", "Ok:7: 7")
            assert m.close() == 0
            for worker in (joiner, other):
                worker.communicate(timeout=slack(10))
            no_worker_left(hosts)


def connected_to(pid, address, port):
    """Whether process pid's host has a TCP connection to address:port (any state)."""
    want = "%08X:%04X" % (int.from_bytes(socket.inet_aton(address), "little"), port)
    try:
        with open("/proc/%d/net/tcp" % pid) as table:
            return any(line.split()[2] == want for line in list(table)[1:])
    except OSError:
        return False


def test_late_join_leaves_no_worker():
    """A join reported failed (its parent's answer held up past the deadline, here by
    a stopped node above the parent) ends the worker when that answer comes after
    all: it must not live on as a node the controller forgot, nor its id have two
    live processes."""
    timeout_ms = int(6000 * TIME_SCALE)  # room for TCP's retransmissions after a cut
    with tempfile.TemporaryDirectory() as directory, Hosts(4) as hosts:
        cert = keygen(directory)
        with start(hosts, "--cert", cert, "--listen", listen_endpoint(hosts),
                   "--timeout", str(timeout_ms)) as m:
            m.create_at(1, -1, 1)
            m.create_at(2, 1, 2)
            address, port = endpoints(m)[2]
            # Node 2's host cut off: the ADOPT waits in the link, and the joiner, told
            # to connect to node 2, cannot reach it yet.
            hosts.partition(2)
            joiner = join(hosts, 3, cert, 7, 2)
            try:
                wait_until(lambda: connected_to(joiner.pid, address, port), slack(10),
                           "the joiner connecting to node 2")
                time.sleep(0.2)  # the ADOPT, sent before the joiner's answer, past node 1
                os.kill(m.pids[1], signal.SIGSTOP)
                # Node 2 takes the joiner in; its answer waits in stopped node 1
                # until the join's deadline has passed.
                hosts.heal(2)
                time.sleep(timeout_ms / 1000 + 0.5)
            finally:
                hosts.heal(2)
                os.kill(m.pids[1], signal.SIGCONT)
            try:
                joiner.communicate(timeout=slack(10))
            except subprocess.TimeoutExpired:
                joiner.kill()
                joiner.communicate()
                raise AssertionError("the joiner reported failed lives on")
            m.expect("ping 7", "Error: Not found")
            m.expect("pingall", "Ok: -1")
            again = join(hosts, 3, cert, 7, 2)
            on_host(hosts, joined(m, again, 7), 3)
            m.expect("exec 7 sum 1 7", "Ok:7: 7")
            assert m.close() == 0
            again.communicate(timeout=slack(10))
            no_worker_left(hosts)


def test_remove_under_a_stopped_parent():
    """remove of a node whose parent is stopped answers Ok at once; its processes on
    other hosts (which the controller cannot signal) end as soon as the parent can
    act, and the id can be created again."""
    with Hosts(4) as hosts, start(hosts) as m:
        m.create_at(1, -1, 1)
        m.create_at(2, 1, 2)
        m.create(3, 2)
        os.kill(m.pids[1], signal.SIGSTOP)
        try:
            wait_until(lambda: m.ask("ping 1") == "Ok: 0", slack(10), "node 1 seen stopped")
            m.expect("remove 2", "Ok")
            m.expect("ping 2", "Error: Not found")
        finally:
            os.kill(m.pids[1], signal.SIGCONT)
        for node in (2, 3):
            wait_until(lambda: not alive(m.pids[node]), slack(10), "node %d ended" % node)
        m.expect("pingall", "Ok: -1")
        m.create_at(2, 1, 3)
        m.expect("exec 2 sum 1 2", "Ok:2: 2")
        assert m.close() == 0
        no_worker_left(hosts)


# -- failures across hosts ---------------------------------------------------------------

def test_kill_a_remote_worker():
    with Hosts(4) as hosts, start(hosts) as m:
        m.create_at(1, -1, 1)
        m.create_at(2, 1, 2)
        m.create_at(3, 2, 3)
        m.create_at(4, 1, 3)
        m.create_at(5, -1, 2)
        m.expect("pingall", "Ok: -1")
        os.kill(m.pids[2], signal.SIGKILL)
        wait_pingall(m, "Ok: 2;3")
        for node in (2, 3):
            started = time.monotonic()
            m.expect("exec %d sum 1 1" % node, "Error:%d: Node is unavailable" % node)
            # Known dead: answered at once, not at the timeout.
            assert time.monotonic() - started < min(slack(1.0), TIMEOUT_MS / 2000)
            m.expect("ping %d" % node, "Ok: 0")
        for node in (1, 4, 5):
            m.expect("exec %d sum 1 %d" % (node, node), "Ok:%d: %d" % (node, node))
        # Its descendant on another host exits on its own.
        wait_until(lambda: not alive(m.pids[3]), slack(5), "node 3 gone")
        m.expect("remove 2", "Ok")
        m.expect("pingall", "Ok: -1")
        assert m.close() == 0
        no_worker_left(hosts)


def partition_and_heal(clock_offsets=None, cut_s=None):
    """Distinct sets stream to a node while its link is cut for longer than the
    timeout (1.5 timeouts unless told), then healed: a set reported failed never
    took effect (what was queued during the cut arrives late and must be
    dropped)."""
    cut_s = cut_s or TIMEOUT_MS / 1000 * 1.5
    with Hosts(2, clock_offsets=clock_offsets) as hosts, start(hosts, "--ordered") as m:
        m.create_at(1, -1, 1)
        commands, replies = [], []

        def receive(count):
            got = [m.line(TIMEOUT_MS / 1000 + slack(20)) for _ in range(count)]
            replies.extend(got)
            return got
        for index in range(10):
            commands.append(index)
            m.send("exec 1 set k%d %d" % (index, 1000 + index))
        assert receive(10) == ["Ok:1"] * 10, replies
        hosts.partition(1)
        cut = time.monotonic()
        during = 40
        for index in range(10, 10 + during):
            commands.append(index)
            m.send("exec 1 set k%d %d" % (index, 1000 + index))
            time.sleep(0.05)
        # Cut for longer than the timeout: the first sets of the cut expire in queues.
        time.sleep(max(0.0, cut + cut_s - time.monotonic()))
        hosts.heal(1)
        got = receive(during)
        for reply in got:
            assert reply == "Ok:1" or reply.startswith("Error:1: "), got
        failed = [i for i, reply in zip(commands, replies) if reply != "Ok:1"]
        assert failed, "no set failed: the cut did not bite"
        wait_until(lambda: m.ask("ping 1") == "Ok: 1", slack(15), "node 1 back")
        for index in range(10 + during, 20 + during):
            commands.append(index)
            m.send("exec 1 set k%d %d" % (index, 1000 + index))
        assert receive(10) == ["Ok:1"] * 10, replies[-10:]
        # Every set is answered or expired: one queued during the cut that still
        # arrives (TCP retransmits with backoff) must be dropped. Give such a late
        # delivery time to happen, wrongly, before reading the state.
        time.sleep(1.0)
        wrong = []
        for index, reply in zip(commands, replies):
            got = m.ask("exec 1 get k%d" % index)
            if reply == "Ok:1" and got != "Ok:1: %d" % (1000 + index):
                wrong.append((index, reply, got))
            if reply != "Ok:1" and got != "Ok:1: 'k%d' not found" % index:
                wrong.append((index, reply, got))
        assert not wrong, "set reported vs state: %s" % wrong
        print("    %d of %d sets failed during the cut" % (len(failed), len(commands)))
        assert m.close() == 0
        no_worker_left(hosts)


def test_partition_and_heal_at_most_once():
    partition_and_heal()


def test_partition_long_cut_at_most_once():
    """A cut longer than the links' own keepalive (ZMTP heartbeats, 5 s): the
    connection is dropped and made again; whatever was queued for the old one must
    not take effect if it was reported failed, and the node works again."""
    partition_and_heal(cut_s=8.0)


def test_partition_and_heal_clock_behind():
    """The node's clock is a day behind the controller's: a deadline read as a
    time of the sender's clock would keep expired work alive there."""
    partition_and_heal([86400, 0])


def test_partition_and_heal_clock_ahead():
    """The node's clock is a day ahead: a deadline read as a time of the sender's
    clock would make every request look expired."""
    partition_and_heal([0, 86400])


def test_clocks_disagree():
    """Every host has its own CLOCK_MONOTONIC (days apart): the tree works, and
    beats are not misjudged."""
    interval = 300
    with Hosts(4, clock_offsets=[3600, 86400, 0, 7 * 86400]) as hosts, \
            start(hosts) as m:
        m.create_at(1, -1, 1)
        m.create_at(2, 1, 2)
        m.create_at(3, 2, 3)
        m.create(4, -1)
        m.expect("exec 3 sum 3 1 2 3", "Ok:3: 6")
        m.expect("exec 2 sleep 300", "Ok:2")
        for node in (1, 2, 3, 4):
            m.expect("ping %d" % node, "Ok: 1")
        m.expect("pingall", "Ok: -1")
        m.expect("heartbeat %d" % interval, "Ok")
        # Nothing to say for 6 intervals: the next lines are the sleeps' replies (two
        # of 0.9 s: one of 1.8 s left 10 % of the 2 s timeout, and a loaded CI run
        # took it, as in the tests below).
        for _ in range(2):
            m.expect("exec 1 sleep %d" % (3 * interval), "Ok:1")
        os.kill(m.pids[3], signal.SIGKILL)
        assert m.line(lost_within(interval)) == "Heartbit: node 3 is unavailable now"
        m.expect("exec 3 sum 1 1", "Error:3: Node is unavailable")
        m.expect("exec 2 sum 1 2", "Ok:2: 2")
        m.expect("heartbeat 0", "Ok")
        assert m.close() == 0
        no_worker_left(hosts)


def lines_within(m, count, seconds):
    started = time.monotonic()
    return [m.line(max(0.0, started + seconds - time.monotonic())) for _ in range(count)]


def lost_within(interval):
    """A bound on when a cut node is said unavailable, only so that a test fails
    instead of hanging: quiet, it takes 4 intervals (1.2 s at 300 ms; scripts/bench
    measures it), but a parent whose own tick comes 2 intervals late forgives its
    children and counts again (node/heartbeat.c), and a loaded CI run (next to
    test_limits_many's 1,100 spawns) once took more than 2.2 s."""
    return 10 * interval / 1000 + slack(3.0)


def test_heartbeat_across_a_cut():
    interval = 300
    with Hosts(3) as hosts, start(hosts) as m:
        m.create_at(1, -1, 1)
        m.create_at(2, 1, 2)
        m.create(3, 2)
        m.expect("heartbeat %d" % interval, "Ok")
        # All beat across hosts: nothing to say for 6 intervals, waited for in two
        # execs (one of 1.8 s left 10 % of the 2 s timeout for its answer, and a loaded
        # CI run missed it once, as test_heal_says_each_node_once did before).
        for _ in range(2):
            m.expect("exec 1 sleep %d" % (3 * interval), "Ok:1")
        hosts.partition(2)
        lines = lines_within(m, 2, lost_within(interval))
        assert sorted(lines) == ["Heartbit: node 2 is unavailable now",
                                 "Heartbit: node 3 is unavailable now"], lines
        # tree says it too.
        states = tree_states(m)
        assert states[2] == "silent" and states[3] == "unavailable (behind 2)", states
        assert states[1] == "up", states
        m.expect("exec 1 sum 1 1", "Ok:1: 1")  # its parent, on another host, is fine
        m.expect("exec 2 sum 1 2", "Error:2: Node is unavailable")
        hosts.heal(2)
        lines = lines_within(m, 2, slack(8.0))
        assert sorted(lines) == ["Heartbit: node 2 is available again",
                                 "Heartbit: node 3 is available again"], lines
        wait_until(lambda: m.ask("exec 3 sum 1 3") == "Ok:3: 3", slack(10), "node 3 back")
        m.expect("pingall", "Ok: -1")
        m.expect("heartbeat 0", "Ok")
        assert m.close() == 0
        no_worker_left(hosts)


def test_heal_says_each_node_once():
    """A cut of an interior node's host: when the link returns, that node's old
    report that it lost its child (queued during the cut) comes in the same burst as
    its own beats; each node is said available again once, never back then lost."""
    interval = 300
    with Hosts(3) as hosts, start(hosts) as m:
        m.create_at(1, -1, 1)
        m.create_at(2, 1, 2)
        m.create(3, 2)
        m.expect("heartbeat %d" % interval, "Ok")
        # Six intervals of beating before the cut, waited for on node 2 itself, in two
        # execs: one of 1.8 s left 10 % of the 2 s timeout, and a loaded CI machine
        # took it (Node is unavailable).
        for _ in range(2):
            m.expect("exec 2 sleep %d" % (3 * interval), "Ok:2")
        hosts.partition(1)
        lines = lines_within(m, 3, lost_within(interval))
        assert sorted(lines) == ["Heartbit: node %d is unavailable now" % n
                                 for n in (1, 2, 3)], lines
        # The cut lasts long enough for node 1 to lose node 2 across it too (its
        # report waits in node 1's queue); nothing is said meanwhile.
        m.no_line(6 * interval / 1000)
        hosts.heal(1)
        lines = lines_within(m, 3, slack(8.0))
        assert sorted(lines) == ["Heartbit: node %d is available again" % n
                                 for n in (1, 2, 3)], lines
        # And no node is said lost again after it came back.
        m.no_line(slack(3.0))
        m.expect("pingall", "Ok: -1")
        m.expect("heartbeat 0", "Ok")
        assert m.close() == 0


def test_pingall_and_remove_across_a_cut():
    """A cut host and what hangs below it are listed unavailable within the
    timeout, the rest keeps working without delay; a node removed while cut off
    ends with its subtree when the link returns."""
    with Hosts(4) as hosts, start(hosts) as m:
        m.create_at(1, -1, 1)
        m.create_at(2, 1, 2)
        m.create_at(3, -1, 3)
        m.expect("pingall", "Ok: -1")
        hosts.partition(1)
        started = time.monotonic()
        m.expect("pingall", "Ok: 1;2")
        assert time.monotonic() - started < TIMEOUT_MS / 1000 + slack(1.0)
        started = time.monotonic()
        m.expect("exec 3 sum 1 3", "Ok:3: 3")
        # Not held by the cut: well inside the timeout a held command would cost.
        assert time.monotonic() - started < TIMEOUT_MS / 2000, "node 3 slowed by the cut"
        m.expect("ping 2", "Ok: 0")
        hosts.heal(1)
        wait_pingall(m, "Ok: -1", 15)
        m.expect("exec 2 sum 1 2", "Ok:2: 2")
        hosts.partition(1)
        m.expect("remove 1", "Ok")
        m.expect("pingall", "Ok: -1")
        m.expect("ping 2", "Error: Not found")
        hosts.heal(1)
        wait_until(lambda: not hosts.pids(1) and not hosts.pids(2), slack(15),
                   "the removed nodes on h1 and h2 gone after the heal")
        m.create_at(4, -1, 1)
        m.expect("exec 4 sum 1 4", "Ok:4: 4")
        m.expect("pingall", "Ok: -1")
        assert m.close() == 0
        no_worker_left(hosts)


def test_id_of_a_node_removed_behind_a_cut_is_free():
    """remove forgets a node, so its id can be created again at once, elsewhere,
    while its old host is still cut off (the old connection, which nothing closes
    until the link returns or its keepalive gives up, must not stand in the way)."""
    with Hosts(3) as hosts, start(hosts) as m:
        m.create_at(1, -1, 1)
        hosts.partition(1)
        m.expect("remove 1", "Ok")
        wait_until(lambda: not hosts.pids(1), slack(5), "the removed node's process gone")
        reply = m.ask("create 1 -1 @%s" % hosts.name(2), TIMEOUT_MS / 1000 + slack(20))
        assert reply.startswith("Ok: "), "re-create of a removed id: %r" % reply
        m.expect("exec 1 sum 1 1", "Ok:1: 1")
        hosts.heal(1)
        m.expect("pingall", "Ok: -1")
        assert m.close() == 0
        no_worker_left(hosts)


def test_controller_sigkill_leaves_no_worker():
    with Hosts(4) as hosts, start(hosts) as m:
        m.create_at(1, -1, 1)
        m.create_at(2, 1, 2)
        m.create_at(3, 2, 3)
        m.create_at(4, -1, 3)
        m.create(5, 4)
        m.create(6, -1)
        m.expect("pingall", "Ok: -1")
        workers = list(m.pids.values())
        m.proc.kill()
        m.proc.wait(timeout=slack(5))
        started = time.monotonic()
        left = lambda: [pid for pid in workers if alive(pid)]  # noqa: E731
        wait_until(lambda: not left(), slack(10), "every worker gone")
        elapsed = time.monotonic() - started
        assert elapsed < 1.0 + slack(0.5), "workers outlived the controller by %.1f s" % elapsed
        no_worker_left(hosts)


def test_controller_sigkill_ends_joined_workers():
    with tempfile.TemporaryDirectory() as directory, Hosts(3) as hosts:
        cert = keygen(directory)
        with start(hosts, "--cert", cert, "--listen", listen_endpoint(hosts)) as m:
            m.create_at(1, -1, 1)
            joiner = join(hosts, 2, cert, 7, 1)
            joined(m, joiner, 7)
            m.expect("pingall", "Ok: -1")
            m.proc.kill()
            m.proc.wait(timeout=slack(5))
            started = time.monotonic()
            try:
                joiner.communicate(timeout=slack(10))
            except subprocess.TimeoutExpired:
                raise AssertionError("the joined worker outlived the controller")
            elapsed = time.monotonic() - started
            assert elapsed < 1.0 + slack(0.5), \
                "the joined worker outlived the controller by %.1f s" % elapsed
            no_worker_left(hosts)


def test_joiner_whose_parent_died_before_it_came_leaves():
    """The controller told a joiner where its parent is, then died (SIGKILL) before
    the joiner reached it: the joiner leaves as soon as that endpoint refuses it, not
    after its 10 s wait for a welcome (no process outlives the controller)."""
    with tempfile.TemporaryDirectory() as directory, Hosts(3) as hosts:
        cert = keygen(directory)
        with start(hosts, "--cert", cert, "--listen", listen_endpoint(hosts)) as m:
            m.create_at(1, -1, 1)
            address, port = endpoints(m)[1]
            hosts.partition(1)  # the joiner's connect to node 1 hangs
            joiner = join(hosts, 2, cert, 7, 1)
            try:
                wait_until(lambda: connected_to(joiner.pid, address, port), slack(10),
                           "the joiner connecting to node 1")
                m.proc.kill()
                m.proc.wait(timeout=slack(5))
                wait_until(lambda: not alive(m.pids[1]), slack(5), "node 1 ended")
            finally:
                hosts.heal(1)
            started = time.monotonic()
            try:
                _, err = joiner.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                joiner.kill()
                joiner.communicate()
                raise AssertionError("the joiner outlived its parent and the controller")
            elapsed = time.monotonic() - started
            # TCP resends its SYN 1 s after the first, and is then refused.
            assert elapsed < 5.0, "the joiner outlived the controller by %.1f s" % elapsed
            assert joiner.returncode == 1 and b"gone" in err, (joiner.returncode, err)
            no_worker_left(hosts)


TESTS = [test_virtual_network, test_chain_over_three_hosts, test_fifteen_nodes_over_four_hosts,
     test_sets_over_four_hosts,
     test_create_on_a_host_that_does_not_exist, test_create_behind_a_cut,
     test_curve_keeps_strangers_out, test_join_by_hand, test_late_join_leaves_no_worker,
     test_remove_under_a_stopped_parent, test_kill_a_remote_worker,
     test_partition_and_heal_at_most_once, test_partition_long_cut_at_most_once,
     test_partition_and_heal_clock_behind,
     test_partition_and_heal_clock_ahead, test_clocks_disagree, test_heartbeat_across_a_cut,
     test_heal_says_each_node_once,
     test_pingall_and_remove_across_a_cut, test_id_of_a_node_removed_behind_a_cut_is_free,
     test_controller_sigkill_leaves_no_worker,
     test_controller_sigkill_ends_joined_workers,
     test_joiner_whose_parent_died_before_it_came_leaves]
# Names on the command line run only those tests (for debugging).
run([test for test in TESTS if not sys.argv[1:] or test.__name__ in sys.argv[1:]])
