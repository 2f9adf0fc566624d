/*  mqtree — the controller shell. Parses options, sets up signals, the run directory
    and the controller core, runs the shell's loop, and ends every worker on the way
    out. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <czmq.h>

#include "../common/limits.h"
#include "../common/log.h"
#include "../common/numbers.h"
#include "../common/process.h"
#include "../common/run_dir.h"
#include "controller.h"
#include "shell.h"

#define MQTREE_VERSION "0.1.0"

//  The smallest --max-reply: every error text fits in it.
#define MAX_REPLY_MIN 256

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: mqtree [--topology tree|bst] [--exec any|sum|find|dict|timer]\n"
            "              [--timeout MS] [--ordered] [--transport ipc|tcp]\n"
            "              [--log-level error|warn|info|debug] [--ascii] [--json]\n"
            "              [--max-reply BYTES] [--max-line BYTES] [--help] [--version]\n"
            "BYTES: a number, or with K, M or G (1024-based): 16M, 1G.\n"
            "Reads commands on stdin; type help for the list. Manual: man mqtree\n"
            "(in the source tree: man -l doc/mqtree.1).\n");
}

static int s_bad(const char *what, const char *value)
{
    fprintf(stderr, "mqtree: invalid %s '%s'\n", what, value);
    s_usage(stderr);
    return 2;
}

int main(int argc, char *argv[])
{
    //  Before any thread exists, so ZeroMQ's threads inherit the mask: these signals
    //  are read from a signalfd by the loop, never by an asynchronous handler.
    int signals[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP, 0};
    int signal_fd = process_signalfd(signals);
    signal(SIGPIPE, SIG_IGN);

    static const struct option options[] = {
        {"topology", required_argument, NULL, 'T'},
        {"exec", required_argument, NULL, 'e'},
        {"timeout", required_argument, NULL, 't'},
        {"ordered", no_argument, NULL, 'o'},
        {"transport", required_argument, NULL, 'x'},
        {"log-level", required_argument, NULL, 'l'},
        {"ascii", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"max-reply", required_argument, NULL, 'R'},
        {"max-line", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    controller_config_t config = {.timeout_ms = 2000, .log_level = LEVEL_WARN};
    config.max_reply = LIMITS_REPLY_MAX;
    shell_config_t shell_config = {EXEC_ANY, false, false, signal_fd, SHELL_LINE_MAX};
    bool ascii = false;
    int option;
    while ((option = getopt_long(argc, argv, "hV", options, NULL)) != -1) {
        switch (option) {
            case 'T':
                if (strcmp(optarg, "tree") && strcmp(optarg, "bst"))
                    return s_bad("topology", optarg);
                config.bst = strcmp(optarg, "bst") == 0;
                break;
            case 'e':
                if (parser_exec_syntax(optarg, &shell_config.syntax) != 0)
                    return s_bad("exec syntax", optarg);
                break;
            case 't': {
                int32_t timeout;
                if (id_parse(optarg, &timeout) != 0 || timeout <= 0)
                    return s_bad("timeout", optarg);
                config.timeout_ms = timeout;
                break;
            }
            case 'o':
                shell_config.ordered = true;
                break;
            case 'a':
                ascii = true;
                break;
            case 'j':
                shell_config.json = true;
                break;
            case 'x':
                if (strcmp(optarg, "ipc") && strcmp(optarg, "tcp"))
                    return s_bad("transport", optarg);
                config.tcp = strcmp(optarg, "tcp") == 0;
                break;
            case 'l':
                if (log_level_parse(optarg, &config.log_level) != 0)
                    return s_bad("log level", optarg);
                break;
            case 'R':
                //  Room for any error text (a quoted word is cut to 40 characters).
                if (size_parse(optarg, &config.max_reply) != 0 ||
                    config.max_reply < MAX_REPLY_MIN)
                    return s_bad("max reply (at least 256 bytes)", optarg);
                break;
            case 'L':
                if (size_parse(optarg, &shell_config.max_line) != 0)
                    return s_bad("max line", optarg);
                break;
            case 'h':
                s_usage(stdout);
                return 0;
            case 'V':
                printf("mqtree %s\n", MQTREE_VERSION);
                return 0;
            default:
                s_usage(stderr);
                return 2;
        }
    }
    if (optind < argc)
        return s_bad("argument", argv[optind]);
    log_set_tag("mqtree");
    log_set_level(config.log_level);
    if (signal_fd < 0) {
        fprintf(stderr, "mqtree: cannot set up signals\n");
        return 1;
    }
    //  Orphaned descendants are reparented to us, so none can outlive the controller
    //  unseen, and we reap them.
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    char *worker_path = process_worker_path();
    if (!worker_path) {
        fprintf(stderr, "mqtree: cannot find mqtree-worker next to this binary\n");
        return 1;
    }
    run_dir_t *run_dir = run_dir_new();
    if (!run_dir) {
        fprintf(stderr,
                "mqtree: cannot create a private run directory under "
                "$XDG_RUNTIME_DIR, $TMPDIR or /tmp (--log-level info says why)\n");
        free(worker_path);
        return 1;
    }
    config.tree_style = tree_view_style(ascii, config.bst, isatty(STDOUT_FILENO));
    config.worker_path = worker_path;
    config.run_dir = run_dir;
    zsys_handler_set(NULL);
    //  Before the first socket. More children or nodes than these get an error
    //  reply (SPEC "Limits"); without them libzmq aborted the controller at about
    //  1,010 children under the usual soft limit of 1024 descriptors.
    size_t fds = limits_raise_fds();
    zsys_set_max_sockets(limits_sockets_max(fds));
    config.children_max = limits_children_max(fds);
    config.nodes_max = limits_nodes_max();
    log_info("%zu descriptors: at most %zu children per node, %zu nodes", fds,
             config.children_max, config.nodes_max);
    zloop_t *loop = zloop_new();
    zloop_set_nonstop(loop, true);
    if (getenv("MQTREE_ZLOOP_VERBOSE"))
        zloop_set_verbose(loop, true);
    shell_t *shell = shell_new(&shell_config, loop);
    controller_t *controller = controller_new(&config, loop, shell_sink, shell);
    int exit_code = 1;
    if (controller)
        exit_code = shell_run(shell, controller);
    else
        fprintf(stderr, "mqtree: cannot bind the controller's endpoint\n");
    controller_destroy(&controller);
    shell_destroy(&shell);
    zloop_destroy(&loop);
    run_dir_destroy(&run_dir);
    free(worker_path);
    close(signal_fd);
    zsys_shutdown();
    return exit_code;
}
