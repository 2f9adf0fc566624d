/*  Unit test: the controller core, driven in this process as the shell drives it —
    commands in through controller_submit, result lines out through the output
    callback, SIGCHLD from a signalfd — with real workers below it (the
    mqtree-worker of this build). Every wait is for an event (a result line), with a
    deadline, so a test fails instead of hanging; nothing sleeps. */
#define _GNU_SOURCE
#include "../controller/controller.h"
#include "check.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../common/run_dir.h"

//  Generous: a loaded machine under ASan must not fail a test that works.
#define WAIT_MS 20000

static loop_t *s_loop;
static controller_t *s_controller;
static char *s_lines[64]; //  result of command seq, by seq
static int s_wakeup[2];   //  the output callback writes here: the loop stops
static uint64_t s_awaited;
static bool s_looping; //  the loop runs for s_awaited: its result stops it

//  Results are kept as their result lines, the form the checks read.
static void s_output(void *arg, const result_t *result, const event_t *event)
{
    (void)arg;
    if (event)
        return;
    uint64_t seq = result->seq;
    if (seq < 64 && !s_lines[seq])
        s_lines[seq] = output_text.result(result, 0);
    if (s_looping && seq == s_awaited && write(s_wakeup[1], "", 1) != 1)
        abort();
}

static int s_on_wakeup(loop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)arg;
    char byte;
    if (read(item->fd, &byte, 1) != 1)
        abort();
    return -1;
}

static int s_on_sigchld(loop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)arg;
    struct signalfd_siginfo info;
    while (read(item->fd, &info, sizeof info) == sizeof info)
        ;
    controller_on_sigchld(s_controller);
    return 0;
}

static int s_on_give_up(loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    (void)arg;
    return -1;
}

//  Submits one line as command seq and runs the loop until its result line is out
//  (or WAIT_MS passed). Returns the line, or "(none)".
static const char *s_do(uint64_t seq, const char *text)
{
    size_t length = strlen(text);
    char *line = strdup(text);
    command_t *command = NULL;
    parse_error_t error;
    CHECK(parser_parse(line, length, EXEC_ANY, &command, &error) == 1);
    parse_error_clear(&error);
    s_awaited = seq;
    controller_submit(s_controller, &command, seq);
    if (!s_lines[seq]) {
        int timer = loop_timer(s_loop, WAIT_MS, 1, s_on_give_up, NULL);
        s_looping = true;
        loop_start(s_loop);
        s_looping = false;
        loop_timer_end(s_loop, timer);
    }
    return s_lines[seq] ? s_lines[seq] : "(none)";
}

static pid_t s_parent_of(pid_t pid)
{
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "r");
    if (!file)
        return -1;
    size_t size = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[size] = '\0';
    char *end = strrchr(text, ')');
    int parent = -1;
    if (!end || sscanf(end + 1, " %*c %d", &parent) != 1)
        return -1;
    return parent;
}

int main(void)
{
    zsys_init();
    zsys_handler_set(NULL);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, NULL);
    int signal_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    CHECK(signal_fd >= 0 && pipe(s_wakeup) == 0);
    run_dir_t *run_dir = run_dir_new();
    CHECK(run_dir != NULL);
    controller_config_t config = {.timeout_ms = 5000,
                                  .tree = {.log_level = LEVEL_ERROR},
                                  .worker_path = MQTREE_WORKER_BINARY,
                                  .run_dir = run_dir,
                                  .tree_style = tree_view_style(true, false, false)};
    s_loop = loop_new();
    s_controller = controller_new(&config, s_loop, s_output, NULL);
    CHECK(s_controller != NULL);
    zmq_pollitem_t wakeup = {NULL, s_wakeup[0], ZMQ_POLLIN, 0};
    zmq_pollitem_t signals = {NULL, signal_fd, ZMQ_POLLIN, 0};
    loop_poller(s_loop, &wakeup, s_on_wakeup, NULL);
    loop_poller(s_loop, &signals, s_on_sigchld, NULL);

    //  A node's process is the controller's child, and its pid is the reply.
    const char *created = s_do(1, "create 1");
    int pid = 0;
    CHECK(sscanf(created, "Ok: %d", &pid) == 1 && pid > 0);
    CHECK(s_parent_of(pid) == getpid());
    int child_pid = 0;
    CHECK(sscanf(s_do(2, "create 2 1"), "Ok: %d", &child_pid) == 1);
    CHECK(s_parent_of(child_pid) == pid);
    CHECK_STR(s_do(3, "exec 2 sum 2 20 22"), "Ok:2: 42");
    CHECK_STR(s_do(4, "exec 2 set X 5"), "Ok:2");
    CHECK_STR(s_do(5, "exec 2 get X"), "Ok:2: 5");
    CHECK_STR(s_do(6, "create 3 9"), "Error: Parent not found");
    CHECK_STR(s_do(7, "create 1"), "Error: Already exists");
    CHECK_STR(s_do(8, "exec 9 sum 1 1"), "Error:9: Not found");
    CHECK_STR(s_do(9, "ping 2"), "Ok: 1");
    CHECK_STR(s_do(10, "pingall"), "Ok: -1");
    CHECK_STR(s_do(11, "exec -1 sum 1 1"), "Error:-1: Not found");
    size_t count = 0;
    int32_t *ids = controller_ids(s_controller, &count);
    CHECK(count == 2 && ids[0] == 1 && ids[1] == 2);
    free(ids);

    //  A node killed: its parent reports it, and from then on it is unavailable
    //  at once, and listed by pingall.
    kill(child_pid, SIGKILL);
    //  Its parent's report comes in while the loop runs (pings keep it running; a
    //  ping may be answered 0 by the parent before the report).
    bool dead = false;
    for (uint64_t seq = 12; seq < 40 && !dead; seq++) {
        CHECK(!strncmp(s_do(seq, "ping 2"), "Ok: ", 4));
        char *tree = controller_tree(s_controller, 2, false);
        dead = tree && strstr(tree, "dead (signal 9)");
        free(tree);
    }
    CHECK(dead);
    CHECK_STR(s_do(40, "exec 2 sum 1 1"), "Error:2: Node is unavailable");
    CHECK_STR(s_do(41, "pingall"), "Ok: 2");

    //  Removed: forgotten, its id free again.
    CHECK_STR(s_do(42, "remove 2"), "Ok");
    CHECK_STR(s_do(43, "ping 2"), "Error: Not found");
    CHECK(sscanf(s_do(44, "create 2 1"), "Ok: %d", &child_pid) == 1);
    CHECK_STR(s_do(45, "exec 2 get X"), "Ok:2: 'X' not found");
    CHECK_STR(s_do(46, "remove 1"), "Ok");
    CHECK_STR(s_do(47, "pingall"), "Ok: -1");
    CHECK(controller_outstanding(s_controller) == 0);

    //  Destroyed: every process it started is gone and reaped.
    CHECK(sscanf(s_do(48, "create 5"), "Ok: %d", &pid) == 1);
    controller_destroy(&s_controller);
    CHECK(s_controller == NULL);
    CHECK(kill(pid, 0) != 0);

    loop_destroy(&s_loop);
    run_dir_destroy(&run_dir);
    for (size_t i = 0; i < 64; i++)
        free(s_lines[i]);
    close(s_wakeup[0]);
    close(s_wakeup[1]);
    close(signal_fd);
    return check_report("controller");
}
