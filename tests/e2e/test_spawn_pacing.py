"""Spawns are paced: hundreds of creates piped at once with the default timeout all
succeed (README, How it works, Asynchrony: a piped script gets the replies typed
lines get). Run alone (CMakeLists: RUN_SERIAL): its spawns fill both cores for
seconds, and tests beside it with tight deadlines would miss them."""
from harness import Mqtree, run, slack


def test_hundreds_of_creates_piped_default_timeout():
    # A piped script gets the replies typed lines get. 300 creates
    # (fanout 16, three levels) written at once with the default 2 s timeout: before
    # spawns were paced, hundreds of spawns started together and most creates
    # answered "Parent is unavailable" (252 of 300 here) or "Parent not found".
    count = 300
    with Mqtree("--ordered") as m:
        m.send(*["create %d %d" % (node, -1 if node <= 16 else (node - 1) // 16)
                 for node in range(1, count + 1)])
        m.send("exec %d sum 1 41" % count, "pingall")
        creates = [m.line(deadline=slack(120)) for _ in range(count)]
        failed = [(node, line) for node, line in enumerate(creates, 1)
                  if not line.startswith("Ok: ")]
        assert not failed, failed[:5]
        m.pids.update({node: int(line.split()[1]) for node, line in enumerate(creates, 1)})
        assert m.line() == "Ok:%d: 41" % count
        assert m.line() == "Ok: -1"
        assert m.close() == 0


run([test_hundreds_of_creates_piped_default_timeout])
