"""No safe place for the run directory: mqtree says so and exits 1, making nothing.
/tmp itself is made unsafe in a mount namespace of the test's own (a world-writable,
non-sticky directory bound over it), so it needs root and unshare: else skipped."""
import os
import shutil
import subprocess
import tempfile

from harness import BIN, LINE_DEADLINE, Skipped, run


def test_no_safe_place_exits_1():
    if os.geteuid() != 0 or not shutil.which("unshare"):
        raise Skipped("needs root and unshare(1)")
    # The binaries are run from /mnt, their directory bound there first: a checkout in
    # /tmp (a CI's clone) is hidden with /tmp. (The mounts are the namespace's own.)
    if not os.path.isdir("/mnt"):
        raise Skipped("no /mnt to bind the binaries' directory to")
    unsafe = tempfile.mkdtemp(prefix="mqtree-unsafe-")
    os.chmod(unsafe, 0o777)
    binaries = os.path.dirname(os.path.realpath(BIN))
    try:
        script = 'mount --bind "$2" /mnt && mount --bind "$1" /tmp && exec /mnt/"$3"'
        env = dict(os.environ, TMPDIR="/tmp", XDG_RUNTIME_DIR="/tmp")
        done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh",
                               "-c", script, "sh", unsafe, binaries,
                               os.path.basename(os.path.realpath(BIN))],
                              input=b"create 1\n", capture_output=True, env=env,
                              timeout=LINE_DEADLINE)
        if b"mount" in done.stderr and done.returncode != 1:
            raise Skipped("cannot bind-mount here: %r" % done.stderr[-200:])
        assert done.returncode == 1, (done.returncode, done.stderr)
        assert done.stdout == b"", done.stdout
        log = done.stderr.decode()
        assert "not using $TMPDIR=/tmp for the run directory: /tmp is writable by " \
            "others and not sticky" in log, log
        assert "mqtree: cannot create a private run directory" in log, log
        assert os.listdir(unsafe) == [], os.listdir(unsafe)
    finally:
        shutil.rmtree(unsafe)


run([test_no_safe_place_exits_1])
