/*  worker_app — mqtree-worker's option table and its run (see worker_app.h): owns
    the options its parent passes, and the process set-up before the routing loop. */
#include "worker_app.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <czmq.h>

#include "../common/coverage.h"
#include "../common/curve.h"
#include "../common/limits.h"
#include "../common/log.h"
#include "../common/process.h"
#include "join.h"

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
    {.name = "connect",
     .kind = OPTION_STRING,
     .arg = "ENDPOINT",
     FIELD(parent_endpoint),
     .help = "the parent's ROUTER, to connect to"},
    {.name = "route",
     .kind = OPTION_STRING,
     .arg = "ID.N",
     FIELD(route),
     .help = "its routing id at the parent (default: the id)"},
    {.name = "parent-pid",
     .kind = OPTION_INT,
     .arg = "PID",
     .min = 1,
     FIELD(parent_pid),
     .help = "the parent's pid: the node exits when it is gone",
     .manual = "The parent's pid: the node exits when it is gone. Without it, the\n"
               "process that started the worker (a launcher's, on another host)."},
    {.name = "run-dir",
     .kind = OPTION_STRING,
     .arg = "DIR",
     FIELD(run_dir),
     .help = "the private run directory, for ipc endpoints"},
    {.name = "transport",
     .kind = OPTION_ENUM,
     .values = "ipc|tcp",
     FIELD(tree.transport),
     .help = "ipc (default) or tcp, as the controller's",
     .manual = "The controller's transport: Unix sockets in the run directory\n"
               "(default), or TCP."},
    {.name = "bind",
     .kind = OPTION_STRING,
     .arg = "ADDR",
     FIELD(tree.bind),
     .help = "tcp: the address children connect to (default 127.0.0.1)",
     .manual = "tcp: the address the node listens on for its children (default\n"
               "127.0.0.1; 0.0.0.0: all of this host's)."},
    {.name = "advertise",
     .kind = OPTION_STRING,
     .arg = "ADDR",
     FIELD(tree.advertise),
     .help = "tcp: the address children are told",
     .manual = "tcp: the address the node's children are told to connect to. By\n"
               "default the bound one, or when bound to all, this host's address on\n"
               "the route to the parent."},
    {.name = "stdin-link",
     .kind = OPTION_FLAG,
     FIELD(stdin_link),
     .help = "read the tree's keys on stdin; exit when it closes"},
    {.name = "join",
     .kind = OPTION_STRING,
     .arg = "ENDPOINT",
     FIELD(join),
     .help = "join a tree through its controller's --listen endpoint",
     .manual = "Join a running tree through its controller's\n"
               ".Fl -listen\n"
               "endpoint, as node\n"
               ".Ar ID\n"
               "under\n"
               ".Fl -parent\n"
               "(default -1; in a binary search tree, by its id). Needs\n"
               ".Fl -cert\n"
               "unless the tree is insecure. A refusal (wrong certificate, id taken,\n"
               "no such parent) is said on stderr, with exit status 1."},
    {.name = "cert",
     .kind = OPTION_STRING,
     .arg = "FILE",
     FIELD(cert_path),
     .help = "with --join: the tree's certificate (mqtree --keygen)"},
    {.name = "parent",
     .kind = OPTION_INT,
     .arg = "ID",
     .min = INT32_MIN,
     FIELD(join_parent),
     .help = "with --join: the node to join under (default -1)"},
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
    {.name = "allow-run",
     .kind = OPTION_FLAG,
     FIELD(tree.allow_run),
     .help = "the run op may start programs here (never on insecure tcp)",
     .manual = "The\n"
               ".Ic run\n"
               "op may start programs on this host; refused on tcp without CURVE.\n"
               "Passed on to the node's children."},
    OPTION_HELP_ROW,
    {.name = NULL},
};

static const worker_config_t s_defaults = {
    .tree = {.log_level = LEVEL_WARN},
    .join_parent = -1,
    .signal_fd = -1,
    .parent_fd = -1,
};

const options_spec_t worker_app_options = {
    .program = "mqtree-worker",
    .options = s_options,
    .defaults = &s_defaults,
    .config_size = sizeof s_defaults,
    .notes = "Started by mqtree for each node; by hand or by a batch scheduler only\n"
             "with --join (mqtree-worker --join tcp://ADDR:PORT --cert FILE --id N).\n",
    .lenient = true,
};

//  What the parent says first on a link pipe: the tree's keys and the launcher.
#define LINK_TEXT_MAX 4096
//  It is written at spawn: through a launcher (ssh) it still comes within seconds.
#define LINK_WAIT_MS 30000

static curve_keys_t s_keys;
static char s_launcher[LINK_TEXT_MAX];

//  Reads the link's first lines (node/children.c s_link_text), up to the empty one.
static int s_read_link(worker_config_t *config)
{
    char text[LINK_TEXT_MAX];
    size_t size = 0;
    int64_t deadline = zclock_mono() + LINK_WAIT_MS;
    while (size < 2 || text[size - 1] != '\n' || text[size - 2] != '\n') {
        if (size + 1 >= sizeof text)
            return -1;
        struct pollfd item = {STDIN_FILENO, POLLIN, 0};
        int64_t left = deadline - zclock_mono();
        if (left <= 0 || poll(&item, 1, (int)left) <= 0)
            return -1;
        ssize_t got = read(STDIN_FILENO, text + size, 1);
        if (got <= 0)
            return -1;
        size++;
    }
    text[size] = '\0';
    char *launcher = strstr(text, "\nlauncher ");
    char *keys_end = strchr(text, '\n');
    char keys_line[CURVE_LINE_MAX];
    if (!keys_end || (size_t)(keys_end - text) + 2 > sizeof keys_line)
        return -1;
    memcpy(keys_line, text, (size_t)(keys_end - text) + 1);
    keys_line[keys_end - text + 1] = '\0';
    int keys = curve_line_parse(keys_line, &s_keys);
    if (keys < 0)
        return -1;
    config->tree.keys = keys ? &s_keys : NULL;
    if (launcher) {
        launcher += strlen("\nlauncher ");
        size_t length = strcspn(launcher, "\n");
        memcpy(s_launcher, launcher, length);
        s_launcher[length] = '\0';
        config->tree.launcher = s_launcher;
    }
    return 0;
}

static int s_join(worker_config_t *config);
static int s_run(worker_config_t *config);

int worker_app_run(worker_config_t *config)
{
    if (process_open_std_fds() < 0)
        return 1;
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
    const char *missing = !config->parent_endpoint && !config->join ? "--connect or --join"
                          : !config->join && config->tree.transport == TRANSPORT_IPC &&
                                  !config->run_dir
                              ? "--run-dir (with ipc)"
                              : NULL;
    if (missing) {
        fprintf(stderr, "mqtree-worker: %s is needed\n", missing);
        options_usage(&worker_app_options, stderr, false);
        return 2;
    }
    if (config->stdin_link && s_read_link(config) != 0) {
        log_error("no keys from the parent on stdin");
        return 1;
    }
    //  Signals belong to the loop, not to czmq's default handlers.
    zsys_handler_set(NULL);
    //  Before the first socket: a node meets its limits with error replies, as the
    //  controller does, instead of libzmq aborting it and its subtree.
    size_t fds = limits_fds_for("mqtree-worker");
    if (!fds)
        return 1;
    zsys_set_max_sockets(limits_sockets_max(fds));
    config->tree.children_max = limits_children_max(fds);
    if (config->join)
        return s_join(config);
    //  Started by a launcher: its process is the one to follow.
    if (!config->parent_pid)
        config->parent_pid = getppid();
    if (process_die_with_parent(config->parent_pid) != 0) {
        log_info("parent is gone before start");
        return 1;
    }
    config->parent_fd = process_parent_fd(config->parent_pid);
    if (config->parent_fd < 0 && errno == ESRCH) {
        log_info("parent is gone before start");
        return 1;
    }
    return s_run(config);
}

//  A worker started by someone else: no parent process to follow. It asks for its
//  place, then lives while its link to the tree does (worker.c, join.h).
static int s_join(worker_config_t *config)
{
    char error[512];
    if (config->cert_path &&
        curve_keys_load(&s_keys, config->cert_path, error, sizeof error) != 0) {
        fprintf(stderr, "mqtree-worker: %s\n", error);
        return 1;
    }
    config->tree.transport = TRANSPORT_TCP;
    config->tree.keys = config->cert_path ? &s_keys : NULL;
    if (!config->tree.bind)
        config->tree.bind = "0.0.0.0";
    char *route = NULL, *endpoint = NULL;
    if (join_ask(config, config->tree.keys, &route, &endpoint) != 0)
        return 1;
    config->route = route;
    config->parent_endpoint = endpoint;
    config->parent_pid = 0;
    config->joined = true;
    return s_run(config);
}

static int s_run(worker_config_t *config)
{
    if (config->tree.allow_run && config->tree.transport == TRANSPORT_TCP &&
        !config->tree.keys) {
        //  Anyone who reaches an insecure endpoint could run programs here.
        log_warn("the run op stays off: the tree's tcp links have no CURVE");
        config->tree.allow_run = false;
    }
    worker_t *worker = worker_new(config);
    if (!worker)
        return 1;
    int code = worker_run(worker);
    //  The parent is gone. Our children follow us through their parent-death signal;
    //  the op thread may be inside a long sleep op, so do not wait for it.
    log_info("exiting");
    coverage_flush();
    _exit(code);
}
