/*  app — mqtree's option table and its run (see app.h): owns the options, the
    process set-up around the controller core and the shell, and the way out. */
#include "app.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <czmq.h>

#include "../common/curve.h"
#include "../common/limits.h"
#include "../common/log.h"
#include "../common/process.h"
#include "../common/run_dir.h"
#include "commands.h"

#define MQTREE_VERSION "0.1.0"

//  The smallest --max-reply: every error text fits in it (a quoted word is cut to 40
//  characters).
#define MAX_REPLY_MIN 256

#define FIELD(member) OPTION_FIELD(app_config_t, member)

static const option_t s_options[] = {
    {.name = "topology",
     .kind = OPTION_ENUM,
     .values = "tree|bst",
     FIELD(controller.tree.bst),
     .invalid = "topology",
     .help = "a general tree (default) or a binary search tree",
     .manual = "A general tree (default), or a binary search tree keyed by id, where\n"
               ".Ic create\n"
               "ignores the parent and requests are routed by key."},
    {.name = "exec",
     .kind = OPTION_ENUM,
     .values = "any|" EXEC_SYNTAX_BARE,
     FIELD(shell.syntax),
     .invalid = "exec syntax",
     .help = "exec with an op word (default) or the bare forms",
     .manual = "The syntax of\n"
               ".Ic exec :\n"
               "with an op word (default), or the bare forms of the classic lab."},
    {.name = "timeout",
     .kind = OPTION_INT,
     .arg = "MS",
     .min = 1,
     FIELD(controller.timeout_ms),
     .invalid = "timeout",
     .help = "how long one request may take (default 2000)",
     .manual = "How long one request may take before its node is reported unavailable\n"
               "(default 2000)."},
    {.name = "ordered",
     .kind = OPTION_FLAG,
     FIELD(shell.ordered),
     .help = "print replies in the order the commands were read"},
    {.name = "transport",
     .kind = OPTION_ENUM,
     .values = "ipc|tcp",
     FIELD(controller.tree.transport),
     .invalid = "transport",
     .help = "Unix sockets (default) or TCP, with CURVE",
     .manual = "Unix sockets in a private run directory (default), or TCP: on\n"
               "127.0.0.1 unless\n"
               ".Fl -bind\n"
               "says otherwise, every link authenticated and encrypted with CURVE unless\n"
               ".Fl -insecure ."},
    {.name = "bind",
     .kind = OPTION_STRING,
     .arg = "ADDR",
     FIELD(controller.tree.bind),
     .help = "tcp: the address nodes connect to (default 127.0.0.1)",
     .manual = "tcp: the address the controller listens on for its children, and nodes\n"
               "started on this host for theirs (default 127.0.0.1). Nodes on other hosts\n"
               ".Pq Ic create Ar id parent Li @ Ns Ar host\n"
               "need one they can reach."},
    {.name = "advertise",
     .kind = OPTION_STRING,
     .arg = "ADDR",
     FIELD(controller.tree.advertise),
     .help = "tcp: the address children are told (default: --bind's)"},
    {.name = "launcher",
     .kind = OPTION_STRING,
     .arg = "TEMPLATE",
     FIELD(controller.tree.launcher),
     .help = "how a node on another host is started (default ssh)",
     .manual = "How\n"
               ".Ic create Ar id parent Li @ Ns Ar host\n"
               "starts the node's worker: the template's words, with\n"
               ".Li {host}\n"
               "replaced, followed by the worker's command line (default\n"
               ".Li ssh -o BatchMode=yes {host} ) ."},
    {.name = "cert",
     .kind = OPTION_STRING,
     .arg = "FILE",
     FIELD(cert_path),
     .help = "tcp: the tree's certificate (default: a new one)",
     .manual = "tcp: the tree's CURVE certificate, as written by\n"
               ".Fl -keygen\n"
               "(mode 0600). Without it, a new one is made for this run; workers joining\n"
               "by hand need the file."},
    {.name = "insecure",
     .kind = OPTION_FLAG,
     FIELD(insecure),
     .help = "tcp without CURVE: links neither authenticated nor encrypted"},
    {.name = "allow-run",
     .kind = OPTION_FLAG,
     FIELD(controller.tree.allow_run),
     .help = "let exec ... run PROGRAM start programs on the nodes' hosts",
     .manual = "Let\n"
               ".Ic exec Ar id|set Cm run Ar program Op Ar args ...\n"
               "start programs on the nodes' hosts (off by default; refused with\n"
               ".Fl -insecure ) ."},
    {.name = "listen",
     .kind = OPTION_STRING,
     .arg = "ENDPOINT",
     FIELD(controller.listen),
     .help = "tcp: where workers join (mqtree-worker --join)",
     .manual = "tcp: an endpoint such as\n"
               ".Li tcp://10.0.0.1:7000\n"
               "where workers started by someone else join the tree\n"
               ".Pq Nm mqtree-worker Fl -join ."},
    {.name = "keygen",
     .kind = OPTION_STRING,
     .arg = "FILE",
     FIELD(keygen_path),
     .help = "write a new tree certificate to FILE and exit",
     .manual = "Write a new tree certificate to\n"
               ".Ar FILE\n"
               "(zcert format, mode 0600, never over an existing file) and exit."},
    {.name = "log-level",
     .kind = OPTION_ENUM,
     .values = LOG_LEVEL_WORDS,
     FIELD(controller.tree.log_level),
     .invalid = "log level",
     .help = "diagnostics on stderr (default warn)",
     .manual = "Diagnostics on standard error (default warn)."},
    {.name = "ascii",
     .kind = OPTION_FLAG,
     FIELD(ascii),
     .help = "draw tree with ASCII branches",
     .manual = "Draw\n"
               ".Ic tree\n"
               "with ASCII branches even in a UTF-8 locale."},
    {.name = "json",
     .kind = OPTION_FLAG,
     FIELD(shell.json),
     .help = "print one JSON object per result line",
     .manual = "Print every result as one JSON object per line:\n"
               ".Li cmd , id , ok , result\n"
               "or\n"
               ".Li error\n"
               ".Po\n"
               ".Li lines\n"
               "for\n"
               ".Ic tree\n"
               "and\n"
               ".Ic help\n"
               ".Pc\n"
               "and\n"
               ".Li ms ;\n"
               "and every Heartbit line as\n"
               ".Li {\"event\":\"heartbeat\",\"id\": Ns Ar X Ns Li ,\"state\":"
               "\"unavailable\"} ."},
    //  The largest error text is about 200 bytes: a smaller cap would cut errors.
    {.name = "max-reply",
     .kind = OPTION_BYTES,
     .arg = "BYTES",
     .min = MAX_REPLY_MIN,
     FIELD(controller.tree.max_reply),
     .invalid = "max reply (at least 256 bytes)",
     .help = "the longest result a node sends (default 16M)",
     .manual = "The longest result a node may send (default 16M).\n"
               "A longer one is never built: the node answers\n"
               ".Li Error: Ns Ar id Ns Li : Reply too large .\n"
               "The texts of a tree-wide command's distinct answers hold at most as\n"
               "much at every node; the nodes whose answers do not fit are listed as\n"
               ".Li Error: Ns Ar ids Ns Li : Reply too large .\n"
               "Passed down to every node.\n"
               ".Ar bytes\n"
               "is a positive number, or one followed by\n"
               ".Cm K , M\n"
               "or\n"
               ".Cm G\n"
               "(powers of 1024); at least 256."},
    {.name = "max-line",
     .kind = OPTION_BYTES,
     .arg = "BYTES",
     .min = 1,
     FIELD(shell.max_line),
     .invalid = "max line",
     .help = "the longest command line (default 1G)",
     .manual = "The longest command line (default 1G, so a sum of 10^8 numbers passes).\n"
               "A longer line, comments included, is answered\n"
               ".Li Error: Line too long (limit Ar N Li bytes)\n"
               "as soon as more of it than the limit has arrived; the rest of it up to "
               "its newline\n"
               "is dropped and the next line is read normally."},
    OPTION_HELP_ROW,
    OPTION_VERSION_ROW,
    {.name = NULL},
};

static const app_config_t s_defaults = {
    .controller = {.timeout_ms = 2000,
                   .tree = {.log_level = LEVEL_WARN, .max_reply = LIMITS_REPLY_MAX}},
    .shell = {.syntax = EXEC_ANY, .signal_fd = -1, .max_line = SHELL_LINE_MAX},
};

const options_spec_t app_options = {
    .program = "mqtree",
    .version = MQTREE_VERSION,
    .options = s_options,
    .defaults = &s_defaults,
    .config_size = sizeof s_defaults,
    .manual_sections = commands_roff,
    .notes = "BYTES: a number, or with K, M or G (1024-based): 16M, 1G.\n"
             "Reads commands on stdin; type help for the list. Manual: man mqtree\n"
             "(in the source tree: man -l doc/mqtree.1).\n",
};

//  The controller core and the shell over one loop, run until the shell is done.
static int s_serve(app_config_t *config)
{
    zsys_handler_set(NULL);
    //  Before the first socket. More children or nodes than these get an error
    //  reply (README, Limits); without them libzmq aborted the controller at about
    //  1,010 children under the usual soft limit of 1024 descriptors.
    size_t fds = limits_fds_for("mqtree");
    if (!fds)
        return 1;
    zsys_set_max_sockets(limits_sockets_max(fds));
    config->controller.tree.children_max = limits_children_max(fds);
    config->controller.nodes_max = limits_nodes_max();
    log_info("%zu descriptors: at most %zu children per node, %zu nodes", fds,
             config->controller.tree.children_max, config->controller.nodes_max);
    loop_t *loop = loop_new();
    shell_t *shell = shell_new(&config->shell, loop);
    controller_t *controller =
        controller_new(&config->controller, loop, shell_sink, shell);
    int exit_code = 1;
    if (controller)
        exit_code = shell_run(shell, controller);
    else
        fprintf(stderr, "mqtree: cannot bind the controller's endpoint\n");
    controller_destroy(&controller);
    shell_destroy(&shell);
    loop_destroy(&loop);
    return exit_code;
}

static curve_keys_t s_keys;

//  --keygen: a certificate, and nothing else.
static int s_keygen(const char *path)
{
    curve_keys_t keys;
    char error[512];
    if (curve_keys_new(&keys) != 0) {
        fprintf(stderr, "mqtree: this libzmq has no CURVE\n");
        return 1;
    }
    if (curve_keys_save(&keys, path, error, sizeof error) != 0) {
        fprintf(stderr, "mqtree: %s\n", error);
        return 1;
    }
    fprintf(stderr, "mqtree: wrote a new tree certificate to %s\n", path);
    return 0;
}

//  tcp: the tree's keys, read or made; or none, said loudly. Returns -1 if refused.
static int s_security(app_config_t *config)
{
    tree_settings_t *tree = &config->controller.tree;
    if (tree->transport != TRANSPORT_TCP) {
        if (config->cert_path || config->insecure || config->controller.listen)
            fprintf(stderr, "mqtree: --cert, --insecure and --listen need --transport tcp\n");
        return config->cert_path || config->insecure || config->controller.listen ? -1 : 0;
    }
    if (config->insecure) {
        if (config->cert_path) {
            fprintf(stderr, "mqtree: --insecure and --cert contradict each other\n");
            return -1;
        }
        if (tree->allow_run) {
            fprintf(stderr, "mqtree: --allow-run is refused with --insecure: anyone who "
                            "reaches an endpoint could run programs on the nodes\n");
            return -1;
        }
        fprintf(stderr, "mqtree: --insecure: tcp links are neither authenticated nor "
                        "encrypted; anyone who reaches an endpoint can join the tree\n");
        return 0;
    }
    char error[512];
    if (config->cert_path) {
        if (curve_keys_load(&s_keys, config->cert_path, error, sizeof error) != 0) {
            fprintf(stderr, "mqtree: %s\n", error);
            return -1;
        }
    } else if (curve_keys_new(&s_keys) != 0) {
        fprintf(stderr, "mqtree: this libzmq has no CURVE; use --insecure to go without\n");
        return -1;
    }
    tree->keys = &s_keys;
    return 0;
}

int app_run(app_config_t *config)
{
    //  A closed stdin reads as an empty script; a closed stdout would lose every reply.
    int closed = process_open_std_fds();
    if (closed < 0 || closed & (1 << STDOUT_FILENO)) {
        fprintf(stderr, "mqtree: %s\n",
                closed < 0 ? "cannot open /dev/null for a closed standard descriptor"
                           : "standard output is closed: the replies would be lost");
        return 2;
    }
    if (config->keygen_path)
        return s_keygen(config->keygen_path);
    if (s_security(config) != 0)
        return 2;
    //  Before any thread exists, so ZeroMQ's threads inherit the mask: these signals
    //  are read from a signalfd by the loop, never by an asynchronous handler.
    int signals[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP, 0};
    int signal_fd = process_signalfd(signals);
    signal(SIGPIPE, SIG_IGN);
    log_set_tag("mqtree");
    log_set_level(config->controller.tree.log_level);
    int exit_code = 1;
    char *worker_path = NULL;
    run_dir_t *run_dir = NULL;
    if (signal_fd < 0) {
        fprintf(stderr, "mqtree: cannot set up signals\n");
        goto done;
    }
    //  Orphaned descendants are reparented to us, so none can outlive the controller
    //  unseen, and we reap them.
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    worker_path = process_worker_path();
    if (!worker_path) {
        fprintf(stderr, "mqtree: cannot find mqtree-worker next to this binary\n");
        goto done;
    }
    run_dir = run_dir_new();
    if (!run_dir) {
        fprintf(stderr,
                "mqtree: cannot create a private run directory under "
                "$XDG_RUNTIME_DIR, $TMPDIR or /tmp (--log-level info says why)\n");
        goto done;
    }
    config->controller.tree_style =
        tree_view_style(config->ascii, config->controller.tree.bst, isatty(STDOUT_FILENO));
    config->controller.worker_path = worker_path;
    config->controller.run_dir = run_dir;
    config->shell.signal_fd = signal_fd;
    exit_code = s_serve(config);
done:
    run_dir_destroy(&run_dir);
    free(worker_path);
    if (signal_fd >= 0)
        close(signal_fd);
    zsys_shutdown();
    return exit_code;
}
