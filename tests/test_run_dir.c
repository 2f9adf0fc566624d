/*  Unit test: which parents are safe for the run directory, the fallback to /tmp
    when the environment names an unsafe one, and removal that never follows a link. */
#define _GNU_SOURCE
#include "../common/run_dir.h"
#include "check.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static bool s_safe(const char *path, const char *expected_why)
{
    const char *why = NULL;
    int rc = run_dir_check_parent(path, &why);
    if (rc == 0)
        return expected_why == NULL;
    if (!expected_why || strcmp(why, expected_why)) {
        fprintf(stderr, "%s: refused because %s\n", path, why);
        return false;
    }
    return true;
}

static void s_touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    close(fd);
}

int main(void)
{
    char base[] = "/tmp/mqtree-test-run-dir-XXXXXX";
    CHECK(mkdtemp(base) != NULL);
    char inner[128], link[128], victim[128], planted[128];
    snprintf(inner, sizeof inner, "%s/inner", base);
    snprintf(link, sizeof link, "%s-link", base);
    snprintf(victim, sizeof victim, "%s-victim", base);
    CHECK(mkdir(inner, 0700) == 0);
    CHECK(symlink(base, link) == 0);

    CHECK(s_safe("/tmp", NULL)); //  root's, sticky
    CHECK(s_safe(base, NULL));   //  ours, 0700
    CHECK(s_safe("/nonexistent-mqtree", "does not exist"));
    CHECK(chmod(base, 0777) == 0);
    CHECK(s_safe(base, "writable by others and not sticky"));
    CHECK(s_safe(inner, "writable by others and not sticky")); //  a parent above
    CHECK(s_safe(link, "writable by others and not sticky"));  //  through a link
    CHECK(chmod(base, 0770) == 0);
    CHECK(s_safe(base, "writable by others and not sticky")); //  the group too
    CHECK(chmod(base, 01777) == 0);
    CHECK(s_safe(base, NULL)); //  sticky: nobody renames our entries
    CHECK(s_safe(inner, NULL));
    if (geteuid() == 0) {
        CHECK(chown(inner, 65534, 65534) == 0);
        CHECK(s_safe(inner, "owned by another user"));
        CHECK(chown(inner, 0, 0) == 0);
    }

    //  The environment names an unsafe place: the directory goes to /tmp instead.
    CHECK(chmod(base, 0777) == 0);
    setenv("TMPDIR", base, 1);
    setenv("XDG_RUNTIME_DIR", base, 1);
    run_dir_t *run_dir = run_dir_new();
    CHECK(run_dir != NULL);
    if (run_dir) {
        const char *path = run_dir_path(run_dir);
        CHECK(strncmp(path, "/tmp/mqtree-", 12) == 0);
        struct stat status;
        CHECK(lstat(path, &status) == 0 && S_ISDIR(status.st_mode) &&
              (status.st_mode & 07777) == 0700 && status.st_uid == geteuid());
        //  Links planted inside are removed, their targets kept.
        s_touch(victim);
        snprintf(planted, sizeof planted, "%s/7.sock", path);
        CHECK(symlink(victim, planted) == 0);
        CHECK(run_dir_unlink(run_dir, "7.sock") == 0);
        CHECK(access(victim, F_OK) == 0);
        snprintf(planted, sizeof planted, "%s/evil", path);
        CHECK(symlink(victim, planted) == 0);
        snprintf(planted, sizeof planted, "%s/evil-dir", path);
        CHECK(symlink(base, planted) == 0);
        char *kept = strdup(path);
        run_dir_destroy(&run_dir);
        CHECK(run_dir == NULL);
        CHECK(access(victim, F_OK) == 0);
        CHECK(access(inner, F_OK) == 0);
        CHECK(lstat(kept, &status) != 0);
        free(kept);
    }
    run_dir_destroy(&run_dir); //  NULL-safe

    unlink(victim);
    unlink(link);
    rmdir(inner);
    rmdir(base);
    return check_report("run_dir");
}
