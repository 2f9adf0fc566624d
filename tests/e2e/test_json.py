"""--json: every result line is one JSON object, for every command kind; the default
output is untouched."""
import json
import os
import signal

from harness import Mqtree, run, wait_until


def objects(m, count):
    return [json.loads(m.line()) for _ in range(count)]


def test_every_command_kind():
    with Mqtree("--json", "--ordered") as m:
        m.send("create 1", "create 2 1", "create 1", "create 5 9", "create x",
               "exec 2 sum 3 1 2 3", "exec 2 set X 5", "exec 9 sum 1 1", "exec 2 frob",
               "ping 2", "ping 9", "pingall", "heartbeat 300", "tree 1", "help ping",
               "bogus", "remove 2", "remove 2")
        got = objects(m, 18)
        pid1 = int(got[0]["result"])
        expected = [
            {"cmd": "create", "id": 1, "ok": True},
            {"cmd": "create", "id": 2, "ok": True},
            {"cmd": "create", "id": 1, "ok": False, "error": "Already exists"},
            {"cmd": "create", "id": 5, "ok": False, "error": "Parent not found"},
            {"cmd": None, "ok": False, "error": "Invalid id 'x'"},
            {"cmd": "exec", "id": 2, "ok": True, "result": "6"},
            {"cmd": "exec", "id": 2, "ok": True},
            {"cmd": "exec", "id": 9, "ok": False, "error": "Not found"},
            {"cmd": "exec", "id": 2, "ok": False, "error": "Unknown op 'frob'"},
            {"cmd": "ping", "id": 2, "ok": True, "result": "1"},
            {"cmd": "ping", "id": 9, "ok": False, "error": "Not found"},
            {"cmd": "pingall", "ok": True, "result": "-1"},
            {"cmd": "heartbeat", "ok": True},
            {"cmd": "tree", "id": 1, "ok": True},
            {"cmd": "help", "ok": True},
            {"cmd": None, "ok": False, "error": "Unknown command 'bogus' (try help)"},
            {"cmd": "remove", "id": 2, "ok": True},
            {"cmd": "remove", "id": 2, "ok": False, "error": "Not found"},
        ]
        tree_lines = got[13].get("lines")
        for index, (one, want) in enumerate(zip(got, expected)):
            assert isinstance(one.pop("ms"), (int, float)), one
            lines = one.pop("lines", None)
            result = one.get("result")
            if index < 2:
                assert result.isdigit(), one
                one.pop("result")
            assert one == want, (index, one, want)
            if want["cmd"] in ("tree", "help"):
                assert lines and isinstance(lines, list), one
        assert tree_lines[0] == "1 pid %d up depth 1" % pid1, tree_lines
        assert tree_lines[-1].startswith("2 nodes: "), tree_lines
        # Asynchronous lines are objects too.
        m.send("create 3 1")
        pid3 = int(objects(m, 1)[0]["result"])
        os.kill(pid3, signal.SIGKILL)
        event = objects(m, 1)[0]
        assert event == {"event": "heartbeat", "id": 3, "state": "unavailable"}, event
        assert m.close() == 0


run([test_every_command_kind])
