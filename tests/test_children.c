/*  Unit test: the children table — a child reaped while its id is re-spawned from
    the reap handler (as a create waiting for a remove does), and a process replaced
    by a newer one of its id. The "workers" are /bin/true and /bin/sleep: the table
    spawns, tracks and reaps processes, whatever they run. No sleeps: SIGCHLD is
    waited for with a deadline. */
#define _GNU_SOURCE
#include "../node/children.h"
#include "check.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static children_t *s_children;
static int s_reported;           //  exits the handler saw
static pid_t s_reported_pids[8]; //  their pids
static pid_t s_respawned_pid;    //  spawned from inside the handler (0: none yet)
static bool s_respawn_on;

//  The children's reports: an end is reported as not-started (it never said HELLO).
static void s_respawn(void *arg, child_t *child, child_report_t report)
{
    (void)arg;
    if (report != CHILD_SAYS_NOT_STARTED)
        return;
    CHECK(child->state == CHILD_GONE);
    if (s_reported < 8)
        s_reported_pids[s_reported] = child->pid;
    s_reported++;
    //  The entry has left the table: the id is free for a new process.
    CHECK(children_find(s_children, child->id) == NULL);
    if (s_respawn_on && !s_respawned_pid) {
        child_t *again = children_spawn(s_children, child->id, NULL);
        CHECK(again && children_find(s_children, child->id) == again);
        s_respawned_pid = again ? again->pid : -1;
    }
}

//  Reaps until the handler has seen `count` exits, waiting for SIGCHLD at most a
//  generous while each time.
static void s_reap_until(int count)
{
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    for (int round = 0; round < 100 && s_reported < count; round++) {
        children_reap(s_children, NULL, NULL);
        if (s_reported >= count)
            break;
        struct timespec wait = {0, 100 * 1000 * 1000};
        sigtimedwait(&chld, NULL, &wait);
    }
}

int main(void)
{
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    char run_dir[] = "/tmp/mqtree-test-children-XXXXXX";
    CHECK(mkdtemp(run_dir) != NULL);
    children_config_t config = {.self_id = -1,
                                .worker_path = "/bin/true",
                                .run_dir = run_dir,
                                .tree = {.log_level = LEVEL_ERROR}};
    s_children = children_new(&config, s_respawn, NULL);
    CHECK(s_children != NULL);

    //  Node 3's process ends; the handler spawns node 3 again at once, and that
    //  process is tracked and reported when it ends in turn (the old code freed its
    //  entry, then deleted it from the table: its end went unseen).
    s_respawn_on = true;
    child_t *first = children_spawn(s_children, 3, NULL);
    CHECK(first && children_find(s_children, 3) == first);
    pid_t first_pid = first->pid;
    s_reap_until(2);
    CHECK(s_reported == 2 && s_reported_pids[0] == first_pid);
    CHECK(s_respawned_pid > 0 && s_reported_pids[1] == s_respawned_pid);
    CHECK(children_find(s_children, 3) == NULL);
    s_respawn_on = false;

    //  A process replaced by a newer one of its id is killed and reaped silently:
    //  one id, one live process.
    children_destroy(&s_children);
    children_config_t sleepy = config;
    sleepy.worker_path = "/bin/sleep";
    s_children = children_new(&sleepy, s_respawn, NULL);
    child_t *old = children_spawn(s_children, 4, NULL);
    pid_t old_pid = old->pid;
    child_t *newer = children_spawn(s_children, 4, NULL);
    pid_t newer_pid = newer->pid;
    CHECK(children_find(s_children, 4) == newer && newer_pid != old_pid);
    //  /bin/sleep with a worker's arguments exits at once, with an error.
    s_reported = 0;
    s_reap_until(1);
    CHECK(s_reported == 1 && s_reported_pids[0] == newer_pid);
    //  The killed one is reaped by the table (it may end after the newer one), and
    //  never reported.
    for (int round = 0; round < 100 && !(kill(old_pid, 0) < 0 && errno == ESRCH); round++) {
        children_reap(s_children, NULL, NULL);
        struct timespec wait = {0, 100 * 1000 * 1000};
        sigtimedwait(&chld, NULL, &wait);
    }
    CHECK(waitpid(old_pid, NULL, WNOHANG) < 0); //  already reaped by the table
    CHECK(s_reported == 1);
    children_destroy(&s_children);
    CHECK(s_children == NULL);

    //  At its descriptor budget a node refuses the next child with the limit, and
    //  processes not yet reaped still count (each may still hold its connection).
    children_config_t limited = config;
    limited.tree.children_max = 2;
    s_children = children_new(&limited, s_respawn, NULL);
    CHECK(children_spawn(s_children, 5, NULL) && children_spawn(s_children, 6, NULL));
    CHECK(children_count(s_children) == 2);
    errno = 0;
    CHECK(children_spawn(s_children, 7, NULL) == NULL && errno == EMFILE);
    char *reason = children_spawn_error(s_children, EMFILE);
    CHECK_STR(reason, "Too many children of node -1 (limit 2)");
    free(reason);
    reason = children_spawn_error(s_children, EAGAIN);
    CHECK_STR(reason, "Cannot start a worker: Resource temporarily unavailable");
    free(reason);
    s_reported = 0;
    s_reap_until(2);
    CHECK(children_count(s_children) == 0);
    CHECK(children_spawn(s_children, 7, NULL) != NULL); //  room again once reaped
    children_destroy(&s_children);
    char *socket = children_ipc_path(run_dir, -1);
    unlink(socket);
    free(socket);
    rmdir(run_dir);
    return check_report("children");
}
