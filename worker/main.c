/*  mqtree-worker — one node of an mqtree. Started by its parent node, never by hand:
    parses its options, ties its life to its parent's, and runs the routing loop. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "../common/coverage.h"
#include "../common/limits.h"
#include "../common/log.h"
#include "../common/numbers.h"
#include "../common/process.h"
#include "worker.h"

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: mqtree-worker --id ID --parent ENDPOINT --parent-pid PID\n"
        "                     --run-dir DIR [--transport ipc|tcp] [--topology tree|bst]\n"
        "                     [--log-level error|warn|info|debug] [--max-reply BYTES]\n"
        "Started by mqtree for each node; not meant to be run by hand.\n");
}

int main(int argc, char *argv[])
{
    //  Before anything creates a thread: SIGCHLD is read from a signalfd by the loop.
    int signals[] = {SIGCHLD, 0};
    int signal_fd = process_signalfd(signals);
    signal(SIGPIPE, SIG_IGN);

    static const struct option options[] = {
        {"id", required_argument, NULL, 'i'},
        {"parent", required_argument, NULL, 'p'},
        {"parent-pid", required_argument, NULL, 'P'},
        {"run-dir", required_argument, NULL, 'r'},
        {"transport", required_argument, NULL, 't'},
        {"log-level", required_argument, NULL, 'l'},
        {"topology", required_argument, NULL, 'T'},
        {"max-reply", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    worker_config_t config = {0};
    config.signal_fd = signal_fd;
    config.log_level = LEVEL_WARN;
    bool have_id = false;
    int32_t parent_pid = 0;
    int option;
    while ((option = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (option) {
            case 'i':
                have_id = id_parse(optarg, &config.id) == 0;
                break;
            case 'p':
                config.parent_endpoint = optarg;
                break;
            case 'P':
                if (id_parse(optarg, &parent_pid) != 0 || parent_pid <= 0)
                    parent_pid = 0;
                break;
            case 'r':
                config.run_dir = optarg;
                break;
            case 't':
                config.tcp = strcmp(optarg, "tcp") == 0;
                break;
            case 'T':
                config.bst = strcmp(optarg, "bst") == 0;
                break;
            case 'l':
                if (log_level_parse(optarg, &config.log_level) != 0)
                    config.log_level = LEVEL_WARN;
                break;
            case 'R':
                //  Left at 0 (the default cap) if malformed: the parent checked it.
                if (size_parse(optarg, &config.max_reply) != 0)
                    config.max_reply = 0;
                break;
            case 'h':
                s_usage(stdout);
                return 0;
            default:
                s_usage(stderr);
                return 2;
        }
    }
    if (!have_id || !config.parent_endpoint || !parent_pid || !config.run_dir ||
        signal_fd < 0) {
        s_usage(stderr);
        return 2;
    }
    config.parent_pid = parent_pid;
    char tag[32];
    snprintf(tag, sizeof tag, "mqtree-worker[%d]", config.id);
    log_set_tag(tag);
    log_set_level(config.log_level);
    if (process_die_with_parent(config.parent_pid) != 0) {
        log_info("parent is gone before start");
        return 1;
    }
    config.parent_fd = process_parent_fd(config.parent_pid);
    if (config.parent_fd < 0 && errno == ESRCH) {
        log_info("parent is gone before start");
        return 1;
    }
    //  Signals belong to the loop, not to czmq's default handlers.
    zsys_handler_set(NULL);
    //  Before the first socket: a node meets its limits with error replies, as the
    //  controller does, instead of libzmq aborting it and its subtree.
    size_t fds = limits_raise_fds();
    zsys_set_max_sockets(limits_sockets_max(fds));
    config.children_max = limits_children_max(fds);
    worker_t *worker = worker_new(&config);
    if (!worker)
        return 1;
    worker_run(worker);
    //  The parent is gone. Our children follow us through their parent-death signal;
    //  the op thread may be inside a long sleep op, so do not wait for it.
    log_info("exiting");
    coverage_flush();
    _exit(0);
}
