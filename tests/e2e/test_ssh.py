"""The remote launcher over real ssh: `create ID PARENT @HOST` with --transport tcp
starts the node's worker through `--launcher TEMPLATE`, here ssh into a throwaway
sshd on 127.0.0.1 (tests/e2e/sshd.py). Where sshd or ssh is missing the tests fail,
naming openssh-server/openssh-client (scripts/setup installs them)."""
import contextlib
import os
import signal
import time
import traceback

from harness import (TIME_SCALE, Mqtree, alive, kill, parent_of, run, slack,
                     wait_until)
from sshd import Sshd, ancestors, descendants, free_port, launcher, ssh_binary

HOST = "127.0.0.1"
# Long, so that "promptly" below cannot be an accident of the timeout, and so that a
# create through ssh fits in it, under load and the sanitizers too: here one takes
# 0.8-1.4 s on an idle machine (most of it root's ~/.bashrc, which sshd's bash
# reads), 2.3-2.9 s at load 3.5, and once over 3 s.
TIMEOUT_MS = int(10000 * TIME_SCALE)
PROMPT = min(slack(4.0), TIMEOUT_MS / 2000)  # seconds; well under the timeout
# A create through ssh logs in first: key exchange and a session, under load.
CREATE_DEADLINE = slack(20.0) + TIMEOUT_MS / 1000
# How long workers may outlive their controller (its exit, or its SIGKILL) once it
# is gone: a few seconds, as the remote ones learn it over the network.
GONE = slack(5.0)


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as name:
            return name.read().strip()
    except OSError:
        return None


def remote(m, server, node, parent=-1):
    """create node parent @127.0.0.1: the worker runs under our sshd, not under the
    controller. Returns its pid."""
    command = "create %d %d @%s" % (node, parent, HOST)
    reply = m.ask(command, CREATE_DEADLINE)
    assert reply.startswith("Ok: "), "%r -> %r" % (command, reply)
    pid = int(reply[4:])
    m.pids[node] = pid
    assert comm(pid) == "mqtree-worker", "pid %d of node %d is %r" % (pid, node,
                                                                      comm(pid))
    chain = ancestors(pid)
    assert parent_of(pid) != m.proc.pid, "node %d is the controller's child" % node
    assert m.proc.pid not in chain, "node %d runs below the controller" % node
    assert server.pid in chain, "node %d (pid %d) is not below our sshd %d: %s" % (
        node, pid, server.pid, chain)
    return pid


def ssh_clients(m):
    """The ssh clients the controller started (directly or through a shell)."""
    return [pid for pid in descendants(m.proc.pid) if comm(pid) == "ssh"]


@contextlib.contextmanager
def mqtree(server_or_template, *args):
    """A tcp controller whose launcher is the template (or the server's). A failed
    check shows the tail of the controller's stderr (its workers', ssh's); whatever
    the test, no worker it started is left."""
    template = server_or_template if isinstance(server_or_template, str) \
        else server_or_template.launcher()
    with Mqtree("--transport", "tcp", "--launcher", template, *args) as m:
        try:
            yield m
        except AssertionError as error:
            # The line of this file that failed, not the harness's inside it.
            where = [frame for frame in traceback.extract_tb(error.__traceback__)
                     if frame.filename == __file__][-1]
            raise AssertionError("%s (line %d: %s)\n--- controller's stderr, tail:\n%s"
                                 % (error, where.lineno, where.line,
                                    m.log()[-3000:])) from None
        finally:
            clean_up(list(m.pids.values()))


def clean_up(pids):
    """After the checks: a worker a failed test left behind goes now, by its pid
    (and only if that pid still is a worker), so that the next test starts clean."""
    for pid in pids:
        if alive(pid) and comm(pid) == "mqtree-worker":
            try:
                kill(pid)
            except ProcessLookupError:
                pass


def wait_gone(pids, what):
    try:
        wait_until(lambda: not [pid for pid in pids if alive(pid)], GONE, what + " gone")
    except AssertionError as error:
        left = ["%d (%s)" % (pid, comm(pid)) for pid in pids if alive(pid)]
        raise AssertionError("%s; left: %s" % (error, ", ".join(left))) from None


def test_remote_node_works_and_dies_cleanly():
    with Sshd() as server, mqtree(server, "--timeout", str(TIMEOUT_MS)) as m:
        one = remote(m, server, 1)
        m.expect("exec 1 sum 3 1 2 3", "Ok:1: 6")
        # A child without @host runs on its parent's host: node 1 starts it.
        two = m.create(2, 1)
        assert parent_of(two) == one, "node 2's parent is %d, not node 1 (%d)" % (
            parent_of(two), one)
        assert comm(two) == "mqtree-worker"
        m.expect("exec 2 sum 2 20 22", "Ok:2: 42")
        m.expect("exec 1 set Var 7", "Ok:1")
        m.expect("exec 1 get Var", "Ok:1: 7")
        m.expect("ping 1", "Ok: 1")
        m.expect("ping 2", "Ok: 1")
        m.expect("pingall", "Ok: -1")
        # A local node beside the remote one.
        m.create(3)
        m.expect("exec 3 sum 1 5", "Ok:3: 5")
        clients = ssh_clients(m)
        assert clients, "no ssh client below the controller"

        # kill -9 of the remote worker: once its ssh session ends (its command
        # ended), the controller knows it dead and says so well before the timeout.
        started = time.monotonic()
        kill(one)
        reply = m.ask("exec 1 sum 3 1 2 3", TIMEOUT_MS / 1000 + slack(10))
        took = time.monotonic() - started
        assert reply == "Error:1: Node is unavailable", reply
        assert took < PROMPT, "unavailable after %.2f s (timeout %d ms)" % (
            took, TIMEOUT_MS)
        # Its child cannot be reached any more: it ends on its own.
        wait_until(lambda: not alive(two), GONE, "node 2 (pid %d) gone" % two)
        wait_gone(clients, "the ssh client of node 1")
        for command, expected in (("exec 2 sum 1 1", "Error:2: Node is unavailable"),
                                  ("ping 1", "Ok: 0"),
                                  ("pingall", "Ok: 1;2"),
                                  ("exec 3 sum 1 3", "Ok:3: 3")):
            started = time.monotonic()
            m.expect(command, expected)
            assert time.monotonic() - started < PROMPT, command
        # The dead node goes, and its id can be used again, remotely.
        m.expect("remove 1", "Ok")
        remote(m, server, 1)
        m.expect("exec 1 sum 2 2 2", "Ok:1: 4")
        m.expect("pingall", "Ok: -1")
        assert m.close() == 0
        wait_gone(list(m.pids.values()), "the workers after exit")


def build(m, server):
    """Remote 1 -> 2 -> 3, remote 4 -> 5, local 6: every worker's pid."""
    remote(m, server, 1)
    m.create(2, 1)
    m.create(3, 2)
    remote(m, server, 4)
    m.create(5, 4)
    m.create(6)
    m.expect("pingall", "Ok: -1")
    return list(m.pids.values())


def test_exit_leaves_no_worker():
    with Sshd() as server, mqtree(server, "--timeout", str(TIMEOUT_MS)) as m:
        workers = build(m, server)
        clients = ssh_clients(m)
        m.send("exit")
        assert m.proc.wait(timeout=slack(20)) == 0
        wait_gone(workers, "the workers after exit")
        wait_gone(clients, "the ssh clients after exit")


def test_sigkill_of_controller_leaves_no_worker():
    with Sshd() as server, mqtree(server, "--timeout", str(TIMEOUT_MS)) as m:
        workers = build(m, server)
        clients = ssh_clients(m)
        m.proc.send_signal(signal.SIGKILL)
        m.proc.wait(timeout=slack(5))
        wait_gone(workers, "the workers after SIGKILL of the controller")
        wait_gone(clients, "the ssh clients after SIGKILL of the controller")


def test_sigterm_and_sigint_of_controller_leave_no_worker():
    for sig in (signal.SIGTERM, signal.SIGINT):
        with Sshd() as server, mqtree(server, "--timeout", str(TIMEOUT_MS)) as m:
            workers = build(m, server)
            clients = ssh_clients(m)
            m.proc.send_signal(sig)
            m.proc.wait(timeout=slack(20))
            wait_gone(workers, "the workers after %s of the controller" % sig.name)
            wait_gone(clients, "the ssh clients after %s of the controller" % sig.name)


def test_remote_under_remote_and_remove():
    """A remote node starts a remote child through the same launcher (its own ssh
    client); remove ends a remote subtree; kill -9 of a remote interior node ends
    what is below it, across the second ssh hop too."""
    with Sshd() as server, mqtree(server, "--timeout", str(TIMEOUT_MS)) as m:
        one = remote(m, server, 1)
        two = remote(m, server, 2, 1)
        assert parent_of(two) != one, "node 2 is node 1's own child, not remote"
        hop = [pid for pid in descendants(one) if comm(pid) == "ssh"]
        assert hop, "no ssh client below node 1"
        three = m.create(3, 2)
        assert parent_of(three) == two
        m.expect("exec 3 sum 2 1 1", "Ok:3: 2")
        m.expect("pingall", "Ok: -1")
        # remove: the subtree below 2 ends, across the hop; 1 keeps working.
        m.expect("remove 2", "Ok")
        wait_gone([two, three], "nodes 2 and 3 after remove 2")
        wait_gone(hop, "node 1's ssh client of node 2")
        m.expect("exec 1 sum 1 8", "Ok:1: 8")
        m.expect("exec 2 sum 1 8", "Error:2: Not found")
        # Again, and now kill -9 of node 1: 2 and 3 end on their own.
        two = remote(m, server, 2, 1)
        three = m.create(3, 2)
        m.expect("pingall", "Ok: -1")
        kill(one)
        wait_gone([two, three], "nodes 2 and 3 after kill -9 of node 1")
        m.expect("exec 3 sum 1 1", "Error:3: Node is unavailable")
        m.expect("pingall", "Ok: 1;2;3")
        assert m.close() == 0


def test_stop_and_continue_of_a_remote_worker():
    """kill -STOP of a remote worker: its subtree answers unavailable by the timeout
    (the controller cannot see the stop through waitpid: the ssh client runs on);
    after kill -CONT it works again, its child too."""
    timeout_ms = TIMEOUT_MS
    with Sshd() as server, mqtree(server, "--timeout", str(timeout_ms)) as m:
        one = remote(m, server, 1)
        two = m.create(2, 1)
        m.expect("pingall", "Ok: -1")
        kill(one, signal.SIGSTOP)
        try:
            # Sent together, so that they wait out one timeout, not three.
            started = time.monotonic()
            m.send("exec 1 sum 1 1", "exec 2 sum 1 1", "pingall")
            got = sorted(m.line(timeout_ms / 1000 + slack(10)) for _ in range(3))
            assert got == ["Error:1: Node is unavailable", "Error:2: Node is unavailable",
                           "Ok: 1;2"], got
            assert time.monotonic() - started < timeout_ms / 1000 + slack(5)
            assert alive(two), "node 2 ended while its parent was stopped"
        finally:
            kill(one, signal.SIGCONT)

        def works(node):
            def answered():
                got = m.ask("exec %d sum 2 %d 1" % (node, node),
                            timeout_ms / 1000 + slack(10))
                assert got in ("Ok:%d: %d" % (node, node + 1),
                               "Error:%d: Node is unavailable" % node), got
                return got.startswith("Ok")
            wait_until(answered, timeout_ms / 1000 * 3 + slack(10),
                       "node %d answers after SIGCONT" % node)
        works(1)
        works(2)
        m.expect("pingall", "Ok: -1")
        assert m.close() == 0
        wait_gone([one, two], "the workers after exit")


def test_launcher_that_cannot_work():
    """ssh to a port nothing listens on: one Error line, no node left, the shell goes
    on (locally, and the id is free for another try)."""
    template = launcher(free_port(), "/dev/null")
    with mqtree(template, "--timeout", "2000") as m:
        for _ in range(2):
            started = time.monotonic()
            reply = m.ask("create 1 -1 @%s" % HOST, slack(20) + 2)
            assert reply.startswith("Error"), reply
            assert time.monotonic() - started < slack(20) + 2
        # Exactly one line each: the next command's reply is the next line.
        m.expect("ping 1", "Error: Not found")
        m.expect("pingall", "Ok: -1")
        m.create(2)
        m.expect("exec 2 sum 2 1 2", "Ok:2: 3")
        m.expect("pingall", "Ok: -1")
        assert m.close() == 0


def test_late_remote_worker_is_not_taken():
    """A remote create that times out is failed for good: the worker that comes up
    after it (here the remote shell sleeps past the timeout before starting it) is
    not taken into the tree, does not stay, and the id can be created again."""
    timeout_ms = TIMEOUT_MS
    delay = timeout_ms / 1000 + 2  # seconds the remote shell sleeps first
    with Sshd() as server:
        slow = os.path.join(server.dir, "slow")
        # mqtree appends the worker's words; ssh joins all into one remote command:
        # "test -e SLOW && sleep D; /path/mqtree-worker --id 1 ..."
        template = "%s test -e %s && sleep %.1f;" % (server.launcher(), slow, delay)
        with mqtree(template, "--timeout", str(timeout_ms)) as m:
            open(slow, "w").close()
            started = time.monotonic()
            m.send("create 1 -1 @%s" % HOST)

            def sleeping():
                return [pid for pid in server.sessions() if comm(pid) == "sleep"]
            wait_until(sleeping, CREATE_DEADLINE, "the remote sleep before the worker")
            sleep = sleeping()[0]
            shell = parent_of(sleep)  # it goes on to the worker after the sleep
            m.pids["late"] = shell
            clients = ssh_clients(m)
            reply = m.line(timeout_ms / 1000 + slack(10))
            assert reply.startswith("Error"), reply
            assert time.monotonic() - started < delay, "answered after the worker started"
            os.remove(slow)
            m.expect("ping 1", "Error: Not found")
            # The shell sleeps on (or went with its session); then the late worker
            # starts, finds its create failed, and ends: the shell, or the worker it
            # became (exec), is gone.
            wait_until(lambda: not alive(shell), delay + GONE,
                       "the late worker's shell %d gone (comm %r)" % (shell, comm(shell)))
            wait_gone(clients, "the ssh client of the failed create")
            m.expect("pingall", "Ok: -1")
            # The id is free, and a new node 1 is a new process.
            one = remote(m, server, 1)
            assert one != shell
            m.expect("exec 1 sum 2 3 4", "Ok:1: 7")
            m.expect("pingall", "Ok: -1")
            assert m.close() == 0
            wait_gone([one], "node 1 after exit")


def test_ssh_is_there():
    """The client these tests need; sshd is checked by every Sshd()."""
    assert os.access(ssh_binary(), os.X_OK)


if __name__ == "__main__":
    run([test_ssh_is_there, test_remote_node_works_and_dies_cleanly,
         test_exit_leaves_no_worker, test_sigkill_of_controller_leaves_no_worker,
         test_sigterm_and_sigint_of_controller_leave_no_worker,
         test_remote_under_remote_and_remove, test_stop_and_continue_of_a_remote_worker,
         test_launcher_that_cannot_work,
         test_late_remote_worker_is_not_taken])
