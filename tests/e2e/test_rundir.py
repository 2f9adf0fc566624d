"""The run directory: private, never made where others can swap its entries, and
removed at exit without ever following a symbolic link (README, Failures:
Endpoints). The test runs as root, so it can play the other user who wins every
race: it swaps and plants links wherever the directories allow it."""
import glob
import os
import shutil
import stat
import tempfile

from harness import Mqtree, run


class MqtreeIn(Mqtree):
    """mqtree with its temporary-directory variables pointing at base."""

    def __init__(self, base, *args):
        self.extra_env = {"TMPDIR": base, "XDG_RUNTIME_DIR": base}
        super().__init__(*args)


def victims():
    """A directory of files the test owns, named like a run directory's entries."""
    directory = tempfile.mkdtemp(prefix="mqtree-victim-")
    for name in ("-1.sock", "1.sock", "2.sock", "precious"):
        with open(os.path.join(directory, name), "w") as out:
            out.write("keep me\n")
    return directory


def intact(directory):
    return sorted(os.listdir(directory)) == ["-1.sock", "1.sock", "2.sock", "precious"]


def runs_of(pid, base):
    return glob.glob(os.path.join(base, "mqtree-%d-*" % pid))


def test_private_and_owned():
    with Mqtree() as m:
        m.create(1)
        [directory] = runs_of(m.proc.pid, os.environ.get("TMPDIR") or "/tmp")
        status = os.lstat(directory)
        assert stat.S_ISDIR(status.st_mode), oct(status.st_mode)
        assert stat.S_IMODE(status.st_mode) == 0o700, oct(status.st_mode)
        assert status.st_uid == os.geteuid(), status.st_uid
        assert m.close() == 0
        assert not os.path.exists(directory)


def test_unsafe_parent_is_not_used():
    unsafe = tempfile.mkdtemp(prefix="mqtree-unsafe-")
    os.chmod(unsafe, 0o777)  # writable by everyone, not sticky
    victim = victims()
    try:
        with MqtreeIn(unsafe) as m:
            m.create(1)
            m.create(2, 1)
            made_there = runs_of(m.proc.pid, unsafe)
            # The other user's move: rename the run directory away and put a link
            # to the victims in its place, so a cleanup by path deletes them.
            for directory in made_there:
                os.rename(directory, directory + ".moved")
                os.symlink(victim, directory)
            m.expect("exec 2 sum 1 2", "Ok:2: 2")
            assert m.close() == 0
            log = m.log()
        assert intact(victim), os.listdir(victim)
        assert not made_there, "run directory made under an unsafe parent"
        for variable in ("$TMPDIR", "$XDG_RUNTIME_DIR"):
            assert "not using %s=%s for the run directory: %s is writable by others " \
                "and not sticky" % (variable, unsafe, unsafe) in log, log
        assert not runs_of(m.proc.pid, "/tmp"), "run directory left behind"
    finally:
        shutil.rmtree(unsafe)
        shutil.rmtree(victim)


def test_planted_links_are_removed_not_followed():
    victim = victims()
    try:
        with Mqtree() as m:
            m.create(1)
            m.create(2, 1)
            [directory] = runs_of(m.proc.pid, os.environ.get("TMPDIR") or "/tmp")
            # A link in place of a node's socket file, and one more entry.
            os.unlink(os.path.join(directory, "2.sock"))
            os.symlink(os.path.join(victim, "2.sock"), os.path.join(directory, "2.sock"))
            os.symlink(os.path.join(victim, "precious"), os.path.join(directory, "evil"))
            os.symlink(victim, os.path.join(directory, "evil-dir"))
            m.expect("remove 2", "Ok")
            assert not os.path.lexists(os.path.join(directory, "2.sock"))
            assert m.close() == 0
        assert intact(victim), os.listdir(victim)
        assert not os.path.lexists(directory)
    finally:
        shutil.rmtree(victim)


run([test_private_and_owned, test_unsafe_parent_is_not_used,
     test_planted_links_are_removed_not_followed])
