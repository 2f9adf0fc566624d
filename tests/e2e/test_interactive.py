"""The shell in a real terminal (tmux): line editing, completion, asynchronous lines
above the line being typed, Ctrl-C and Ctrl-D."""
import os
import shutil
import subprocess
import tempfile
import time

from harness import BIN, LINE_DEADLINE, alive, kill, run, skip

SESSION = "mqtree-test-%d" % os.getpid()


def tmux(*args):
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True,
                          timeout=20).stdout


def screen():
    return tmux("capture-pane", "-t", SESSION, "-p")


def keys(*sequence):
    tmux("send-keys", "-t", SESSION, *sequence)


def wait_screen(predicate, what):
    end = time.monotonic() + LINE_DEADLINE
    while time.monotonic() < end:
        text = screen()
        if predicate(text):
            return text
        time.sleep(0.05)  # the terminal has no event to wait on
    raise AssertionError("screen never showed %s:\n%s" % (what, screen()))


def lines(text):
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def test_terminal_session():
    home = tempfile.mkdtemp()
    tmux("new-session", "-d", "-s", SESSION, "-x", "100", "-y", "40",
         "HOME=%s %s; sleep 30" % (home, BIN))
    try:
        wait_screen(lambda text: text.startswith(">"), "the prompt")
        keys("create 1", "Enter")
        text = wait_screen(lambda text: "Ok: " in text, "create's reply")
        pid1 = int([line for line in lines(text) if line.startswith("Ok: ")][0][4:])
        keys("create 12 1", "Enter")
        text = wait_screen(lambda text: text.count("Ok: ") == 2, "the second create")
        pid12 = int([line for line in lines(text) if line.startswith("Ok: ")][-1][4:])
        # A typo, fixed with the arrow keys before Enter.
        keys("exce 1 sum 1 7")
        keys(*["Left"] * 10, "BSpace", "BSpace", "e", "c", "Enter")
        wait_screen(lambda text: "Ok:1: 7" in text, "the fixed command's reply")
        assert "> exec 1 sum 1 7" in screen()
        # History: Up brings the last line back.
        keys("Up", "Enter")
        wait_screen(lambda text: text.count("Ok:1: 7") == 2, "the repeated command")
        # Completion: a command word ("pin" is ping or pingall: to "ping"), then an
        # id among 1 and 12.
        keys("pin", "Tab", " 1", "Tab")
        wait_screen(lambda text: "1  12" in text, "the ids listed")
        keys("2", "Enter")
        wait_screen(lambda text: "Ok: 1" in text.split("1  12")[-1], "ping 12's reply")
        # A Heartbit line arrives while a line is half typed; the line survives.
        keys("heartb", "Tab", "300", "Enter")
        wait_screen(lambda text: lines(text)[-2:] == ["> heartbeat 300", "Ok"] or
                    "> heartbeat 300\nOk" in text, "heartbeat's reply")
        keys("exec 1 sum 1 ")
        wait_screen(lambda text: lines(text)[-1] == "> exec 1 sum 1", "the half line")
        kill(pid12)
        # The line is printed above the half-typed one, which is redrawn once the
        # loop turn's output is out: wait for both, not for the first write alone.
        text = wait_screen(lambda text: "Heartbit: node 12 is unavailable now" in text
                           and lines(text)[-1] == "> exec 1 sum 1",
                           "the Heartbit line, and the half line redrawn below it")
        assert lines(text)[-2] == "Heartbit: node 12 is unavailable now", lines(text)[-3:]
        keys("4", "Enter")
        wait_screen(lambda text: "Ok:1: 4" in text, "the completed line's reply")
        # ^U empties the line being typed (libedit once reported that as the end).
        keys("garbage")
        keys("C-u")
        keys("exec 1 sum 1 6", "Enter")
        wait_screen(lambda text: "Ok:1: 6" in text, "a command after ^U")
        # Ctrl-C drops the line being typed, not the shell.
        keys("ping 1")
        keys("C-c")
        wait_screen(lambda text: "^C" in text, "the cancelled line")
        keys("exec 1 sum 1 5", "Enter")
        wait_screen(lambda text: "Ok:1: 5" in text, "a command after Ctrl-C")
        # Ctrl-D on an empty line leaves like exit: every worker ends.
        workers = [pid1]
        keys("C-d")
        for pid in workers:
            end = time.monotonic() + LINE_DEADLINE
            while alive(int(pid)) and time.monotonic() < end:
                time.sleep(0.05)
            assert not alive(int(pid)), pid
        with open(os.path.join(home, ".mqtree_history")) as history:
            assert "sum" in history.read()
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


if not shutil.which("tmux"):
    skip("tmux is not installed (scripts/setup installs it)")
run([test_terminal_session])
