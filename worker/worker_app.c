/*  worker_app — mqtree-worker's option table and its run (see worker_app.h). */
#include "worker_app.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <czmq.h>

#include "../common/coverage.h"
#include "../common/limits.h"
#include "../common/log.h"
#include "../common/process.h"

#define FIELD(member) OPTION_FIELD(worker_config_t, member)

//  Every value comes from the parent (node/children.c), which checked it: the
//  table is lenient, and a malformed value leaves the default (a malformed id, parent
//  pid, endpoint or run directory leaves the worker without it, and it refuses to
//  start).
static const option_t s_options[] = {
    {.name = "id",
     .kind = OPTION_INT,
     .arg = "ID",
     .min = INT32_MIN,
     FIELD(id),
     .required = true,
     .help = "this node's id, its routing id at its parent"},
    {.name = "parent",
     .kind = OPTION_STRING,
     .arg = "ENDPOINT",
     FIELD(parent_endpoint),
     .required = true,
     .help = "the parent's ROUTER, to connect to"},
    {.name = "parent-pid",
     .kind = OPTION_INT,
     .arg = "PID",
     .min = 1,
     FIELD(parent_pid),
     .required = true,
     .help = "the parent's pid: the node exits when it is gone"},
    {.name = "run-dir",
     .kind = OPTION_STRING,
     .arg = "DIR",
     FIELD(run_dir),
     .required = true,
     .help = "the private run directory, for ipc endpoints"},
    {.name = "transport",
     .kind = OPTION_ENUM,
     .values = "ipc|tcp",
     FIELD(tree.transport),
     .help = "ipc (default) or tcp, as the controller's",
     .manual = "The controller's transport: Unix sockets in the run directory\n"
               "(default), or TCP on 127.0.0.1."},
    {.name = "topology",
     .kind = OPTION_ENUM,
     .values = "tree|bst",
     FIELD(tree.bst),
     .help = "tree (default), or bst: route requests by key",
     .manual = "With bst, requests are routed by key: to the left child for a smaller\n"
               "id, to the right one for a greater. With tree (default) they follow the\n"
               "path the controller put in them."},
    {.name = "log-level",
     .kind = OPTION_ENUM,
     .values = LOG_LEVEL_WORDS,
     FIELD(tree.log_level),
     .help = "diagnostics on stderr (default warn)"},
    {.name = "max-reply",
     .kind = OPTION_BYTES,
     .arg = "BYTES",
     .min = 1,
     FIELD(tree.max_reply),
     .help = "the longest result an op may build (default 16M)",
     .manual = "The longest result an op may build (default 16M); a longer one is\n"
               "answered\n"
               ".Li Reply too large .\n"
               "Passed on to the node's children."},
    OPTION_HELP_ROW,
    {.name = NULL},
};

static const worker_config_t s_defaults = {
    .tree = {.log_level = LEVEL_WARN},
    .signal_fd = -1,
    .parent_fd = -1,
};

const options_spec_t worker_app_options = {
    .program = "mqtree-worker",
    .options = s_options,
    .defaults = &s_defaults,
    .config_size = sizeof s_defaults,
    .notes = "Started by mqtree for each node; not meant to be run by hand.\n",
    .lenient = true,
};

int worker_app_run(worker_config_t *config)
{
    //  Before anything creates a thread: SIGCHLD is read from a signalfd by the loop.
    int signals[] = {SIGCHLD, 0};
    config->signal_fd = process_signalfd(signals);
    signal(SIGPIPE, SIG_IGN);
    if (config->signal_fd < 0) {
        options_usage(&worker_app_options, stderr, false);
        return 2;
    }
    char tag[32];
    snprintf(tag, sizeof tag, "mqtree-worker[%d]", config->id);
    log_set_tag(tag);
    log_set_level(config->tree.log_level);
    if (process_die_with_parent(config->parent_pid) != 0) {
        log_info("parent is gone before start");
        return 1;
    }
    config->parent_fd = process_parent_fd(config->parent_pid);
    if (config->parent_fd < 0 && errno == ESRCH) {
        log_info("parent is gone before start");
        return 1;
    }
    //  Signals belong to the loop, not to czmq's default handlers.
    zsys_handler_set(NULL);
    //  Before the first socket: a node meets its limits with error replies, as the
    //  controller does, instead of libzmq aborting it and its subtree.
    size_t fds = limits_raise_fds();
    zsys_set_max_sockets(limits_sockets_max(fds));
    config->tree.children_max = limits_children_max(fds);
    worker_t *worker = worker_new(config);
    if (!worker)
        return 1;
    worker_run(worker);
    //  The parent is gone. Our children follow us through their parent-death signal;
    //  the op thread may be inside a long sleep op, so do not wait for it.
    log_info("exiting");
    coverage_flush();
    _exit(0);
}
