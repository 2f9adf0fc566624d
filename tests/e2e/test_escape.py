"""Reply text is data (README, Limits): a result or error that carries control bytes
is printed escaped, so one reply is always one line and nothing reaches the
terminal that it would obey, in text and in --json output. The bytes come from
the user's words echoed back: by a node (Unknown op, Invalid name, Invalid number),
and by the controller itself (Unknown command, Invalid id, No help for)."""
import json

from harness import Mqtree, run

# (line sent, reply expected): the reply's escapes are literal backslashes.
CASES = [
    (b"exec 1 frob\x1b[2J", r"Error:1: Unknown op 'frob\x1b[2J'"),
    (b"exec 1 sum 2 1 \rOk:1: 99", r"Error:1: Invalid number '\rOk:1:'"),
    (b"exec 1 set a\x01b 5", r"Error:1: Invalid name 'a\x01b' (letters and digits only)"),
    (b"exec 1 find a\x0bb a", None),  # a vertical tab is data to find: a result
    (b"exec 1 fr\\nob", r"Error:1: Unknown op 'fr\\nob'"),
    (b"exec 1 frob\xff\xc2\x9b", r"Error:1: Unknown op 'frob\xff\xc2\x9b'"),
    (b"exec 1 caf\xc3\xa9", "Error:1: Unknown op 'caf\u00e9'"),
    (b"bogus\x1b]0;pwned\x07", r"Error: Unknown command 'bogus\x1b]0;pwned\x07' (try help)"),
    (b"create 1\x7f", r"Error: Invalid id '1\x7f'"),
    (b"ping \x08\x08\x081", r"Error: Invalid id '\x08\x08\x081'"),
    (b"help \x1b[31mred", r"Error: No help for '\x1b[31mred' (try help)"),
]


def clean(line):
    """No byte a terminal obeys, no invalid UTF-8 (decoded as U+FFFD)."""
    return not [c for c in line if ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f
                or c == "\ufffd"]


def test_text_replies_are_one_clean_line():
    with Mqtree() as m:
        m.create(1)
        for data, expected in CASES:
            m.send_bytes(data + b"\n")
            # The marker's reply must be the very next line after the one reply.
            m.send("ping 1")
            got = m.line()
            assert clean(got), (data, got)
            if expected:
                assert got == expected, (data, got, expected)
            else:
                assert got == "Ok:1: 0", (data, got)
            assert m.line() == "Ok: 1", data
        assert m.close() == 0


def test_json_results_are_one_clean_object():
    with Mqtree("--json") as m:
        assert json.loads(m.ask("create 1"))["ok"] is True
        for data, expected in CASES:
            m.send_bytes(data + b"\n")
            m.send("ping 1")
            got = m.line()
            assert clean(got), (data, got)
            result = json.loads(got)
            assert "lines" not in result, (data, got)
            if expected:
                error = expected.split(": ", 1)[1]
                assert result["ok"] is False and result.get("error") == error, \
                    (data, got, error)
            else:
                assert result["ok"] is True and result.get("result") == "0", (data, got)
            assert json.loads(m.line())["result"] == "1", data
        assert m.close() == 0


run([test_text_replies_are_one_clean_line, test_json_results_are_one_clean_object])
