/*  children — a node's child processes (see children.h): owns their ROUTER, spawning
    (here or through a launcher), killing, reaping, and routing a message by child id. */
#define _GNU_SOURCE
#include "children.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "../common/idmap.h"
#include "../common/numbers.h"
#include "../common/process.h"
#include "../common/mem.h"

struct _children_t {
    children_config_t config;
    spawner_t spawner;
    child_report_fn *report;
    void *report_arg;
    zsock_t *router;
    char *endpoint;
    size_t limit; //  children at most (each costs its connection, tcp its pipe too)
    size_t adopted; //  entries of workers that joined: in by_id only, no process
    uint32_t incarnations; //  spawned so far: the next child's incarnation is one more
    //  Every process spawned and not yet reaped, current or not: pid -> child_t
    //  (the entries are freed by hand, once out of both tables). A child leaves it only
    //  once waitpid has reported its end, so its pid cannot belong to anyone else while
    //  it is here.
    zhashx_t *by_pid;
    //  The current process of each node id: id -> child_t (not owned). A process
    //  whose id was given to a newer one (it was killed and is not reaped yet) is
    //  in by_pid only: nothing routes to it, and its end touches the newer one not.
    zhashx_t *by_id;
    uint64_t received, sent; //  messages, since the start (stats)
};

static void *s_pid_key(pid_t pid)
{
    return idmap_key((int32_t)pid);
}

extern char **environ;

//  Messages queued per inbound connection before libzmq stops reading it.
#define ROUTER_INBOUND_MAX 10000

char *children_ipc_name(int32_t id)
{
    return process_format("%d.sock", id);
}

char *children_ipc_path(const char *run_dir, int32_t id)
{
    return process_format("%s/%d.sock", run_dir, id);
}

static pid_t s_spawn_worker(void *arg, int32_t id, const char *endpoint,
                            const char *route, const char *host, int *link_fd);

void children_route(char *route, int32_t id, uint32_t incarnation)
{
    snprintf(route, CHILDREN_ROUTE_MAX, "%d.%u", id, incarnation);
}

//  The child a routing id names: its id's current entry, if of that incarnation.
static child_t *s_routed(children_t *self, const char *route)
{
    const char *dot = strchr(route, '.');
    char id_text[16];
    if (!dot || dot == route || (size_t)(dot - route) >= sizeof id_text)
        return NULL;
    memcpy(id_text, route, (size_t)(dot - route));
    id_text[dot - route] = '\0';
    int32_t id;
    char *end = NULL;
    unsigned long incarnation = strtoul(dot + 1, &end, 10);
    if (id_parse(id_text, &id) != 0 || !isdigit((unsigned char)dot[1]) || *end ||
        incarnation > UINT32_MAX)
        return NULL;
    child_t *child = children_find(self, id);
    return child && child->incarnation == (uint32_t)incarnation ? child : NULL;
}

static void s_child_free(child_t *child)
{
    //  Still held only when the node itself ends (or replaces the entry): their
    //  deadlines answer them above.
    zlistx_destroy(&child->held);
    if (child->link_fd >= 0)
        close(child->link_fd);
    free(child->host);
    free(child->endpoint);
    free(child);
}

//  tcp links: a connection that has not finished its handshake (CURVE included) in
//  this long is closed, so junk connections cannot pile up; ZMTP heartbeats close a
//  connection whose peer host went silent (a cut link), which frees what was queued
//  for it; the listen backlog caps connections waiting to be accepted.
#define TCP_HANDSHAKE_MS 5000
#define TCP_HEARTBEAT_MS 1000
#define TCP_HEARTBEAT_TIMEOUT_MS 5000
#define TCP_BACKLOG 128
//  How long a closing node's LEAVE messages to joined children may take to go out.
#define LEAVE_LINGER_MS 200

void children_tcp_options(zsock_t *sock)
{
    zsock_set_handshake_ivl(sock, TCP_HANDSHAKE_MS);
    zsock_set_heartbeat_ivl(sock, TCP_HEARTBEAT_MS);
    zsock_set_heartbeat_ttl(sock, TCP_HEARTBEAT_TIMEOUT_MS);
    zsock_set_heartbeat_timeout(sock, TCP_HEARTBEAT_TIMEOUT_MS);
}

void children_tcp_client(zsock_t *sock, const curve_keys_t *keys)
{
    if (keys) {
        zsock_set_curve_serverkey(sock, keys->public_key);
        zsock_set_curve_publickey(sock, keys->public_key);
        zsock_set_curve_secretkey(sock, keys->secret_key);
    }
    children_tcp_options(sock);
}

//  A joined child (no process of ours) is asked to go.
static void s_tell_leave(children_t *self, child_t *child)
{
    wire_msg_t *leave = wire_msg_new(WIRE_LEAVE);
    leave->node = child->id;
    children_send(self, child, &leave);
}

static bool s_wildcard(const char *address)
{
    return !strcmp(address, "0.0.0.0") || !strcmp(address, "*") || !strcmp(address, "::");
}

//  This host's address on the route to the host of endpoint (tcp://HOST:PORT): a UDP
//  socket connected there sends nothing, but the kernel picks its source address.
static char *s_route_address(const char *endpoint)
{
    if (!endpoint || strncmp(endpoint, "tcp://", 6) != 0)
        return NULL;
    char *host = mem_strdup(endpoint + 6);
    char *colon = strrchr(host, ':');
    char *address = NULL;
    if (colon) {
        *colon = '\0';
        char *name = host;
        if (name[0] == '[' && name[strlen(name) - 1] == ']') {
            name[strlen(name) - 1] = '\0';
            name++;
        }
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
        struct addrinfo *found = NULL;
        if (getaddrinfo(name, colon + 1, &hints, &found) == 0 && found) {
            int fd = socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            struct sockaddr_storage local;
            socklen_t size = sizeof local;
            char text[NI_MAXHOST];
            if (fd >= 0 && connect(fd, found->ai_addr, found->ai_addrlen) == 0 &&
                getsockname(fd, (struct sockaddr *)&local, &size) == 0 &&
                getnameinfo((struct sockaddr *)&local, size, text, sizeof text, NULL, 0,
                            NI_NUMERICHOST) == 0)
                address = local.ss_family == AF_INET6 ? process_format("[%s]", text)
                                                      : mem_strdup(text);
            if (fd >= 0)
                close(fd);
            freeaddrinfo(found);
        }
    }
    free(host);
    return address;
}

//  Binds the ROUTER on tcp, CURVE unless insecure: the endpoint children are told.
static char *s_bind_tcp(children_t *self)
{
    const tree_settings_t *tree = &self->config.tree;
    const char *bind = tree->bind ? tree->bind : "127.0.0.1";
    if (tree->keys) {
        zsock_set_zap_domain(self->router, "mqtree");
        zsock_set_curve_server(self->router, 1);
        zsock_set_curve_secretkey(self->router, tree->keys->secret_key);
    }
    children_tcp_options(self->router);
    zsock_set_backlog(self->router, TCP_BACKLOG);
    int port = zsock_bind(self->router, "tcp://%s:*", s_wildcard(bind) ? "*" : bind);
    if (port < 0)
        return NULL;
    char *address = NULL;
    if (tree->advertise)
        address = mem_strdup(tree->advertise);
    else if (!s_wildcard(bind))
        address = mem_strdup(bind);
    else if (!(address = s_route_address(self->config.parent_endpoint)))
        address = mem_strdup("127.0.0.1");
    char *endpoint = process_format("tcp://%s:%d", address, port);
    free(address);
    return endpoint;
}

static void s_kill_process(void *arg, pid_t pid)
{
    (void)arg;
    kill(pid, SIGKILL);
}

children_t *children_new(const children_config_t *config, child_report_fn *report,
                         void *report_arg)
{
    children_t *self = (children_t *)zmalloc(sizeof(children_t));
    self->config = *config;
    if (!self->config.clock.now_us)
        self->config.clock = clock_monotonic();
    self->spawner = config->spawner ? *config->spawner
                                    : (spawner_t){s_spawn_worker, s_kill_process, self};
    self->report = report;
    self->report_arg = report_arg;
    //  A tcp child holds a pipe here besides its connection.
    self->limit = config->tree.transport == TRANSPORT_TCP ? config->tree.children_max / 2
                                                           : config->tree.children_max;
    self->by_pid = idmap_new();
    self->by_id = idmap_new();
    self->router = zsock_new(ZMQ_ROUTER);
    if (!self->router)
        goto error;
    //  Outbound, unbounded: a full ROUTER queue would silently drop requests.
    //  Mandatory routing makes a send to a vanished child fail at once, so the
    //  request can be answered "unavailable" instead of lost.
    zsock_set_sndhwm(self->router, 0);
    //  Inbound, each connection may queue so many messages here, then libzmq stops
    //  reading it: a child's replies wait in its own unbounded send queue, nothing
    //  is lost, and a foreign process flooding an endpoint cannot grow this one.
    zsock_set_rcvhwm(self->router, ROUTER_INBOUND_MAX);
    zsock_set_linger(self->router, 0);
    //  Read by the loop, never waited on: wire_recv's fast path.
    zsock_set_rcvtimeo(self->router, 0);
    zsock_set_router_mandatory(self->router, 1);
    //  A second connection with a child's routing id is refused, not handed the
    //  child's traffic: a foreign process cannot take a live child's place. (A
    //  child re-created under an id whose old connection is not yet closed is
    //  refused too, and libzmq reconnects it a moment later.)
    zsock_set_router_handover(self->router, 0);
    if (config->tree.transport == TRANSPORT_INPROC) {
        //  Tests: a name no other node of this process has used.
        static _Atomic unsigned long routers = 0;
        self->endpoint = process_format("inproc://node-%d-%lu", config->self_id, ++routers);
        if (zsock_bind(self->router, "%s", self->endpoint) != 0)
            goto error;
    } else if (config->tree.transport == TRANSPORT_TCP) {
        if (!(self->endpoint = s_bind_tcp(self)))
            goto error;
    } else {
        char *path = children_ipc_path(config->run_dir, config->self_id);
        self->endpoint = process_format("ipc://%s", path);
        free(path);
        if (zsock_bind(self->router, "%s", self->endpoint) != 0)
            goto error;
    }
    return self;
error:
    children_destroy(&self);
    return NULL;
}

void children_destroy(children_t **self_p)
{
    children_t *self = *self_p;
    if (!self)
        return;
    if (self->by_id && self->adopted) {
        //  Joined workers have no process of ours: they are told to leave, and the
        //  socket lingers a moment so that it goes out.
        zlist_t *joined = zlist_new();
        for (child_t *child = (child_t *)zhashx_first(self->by_id); child;
             child = (child_t *)zhashx_next(self->by_id))
            if (child->pid == 0)
                zlist_append(joined, child);
        for (child_t *child = (child_t *)zlist_first(joined); child;
             child = (child_t *)zlist_next(joined)) {
            s_tell_leave(self, child);
            s_child_free(child);
        }
        zlist_destroy(&joined);
        zsock_set_linger(self->router, LEAVE_LINGER_MS);
    }
    if (self->by_pid) {
        for (child_t *child = (child_t *)zhashx_first(self->by_pid); child;
             child = (child_t *)zhashx_next(self->by_pid))
            self->spawner.kill(self->spawner.arg, child->pid);
        //  SIGKILL cannot be caught or ignored: every child ends promptly, stopped
        //  or not, so these waits are bounded.
        for (child_t *child = (child_t *)zhashx_first(self->by_pid); child;
             child = (child_t *)zhashx_next(self->by_pid))
            while (!self->config.spawner && waitpid(child->pid, NULL, 0) < 0 &&
                   errno == EINTR)
                ;
        for (child_t *child = (child_t *)zhashx_first(self->by_pid); child;
             child = (child_t *)zhashx_next(self->by_pid))
            s_child_free(child);
    }
    zhashx_destroy(&self->by_id);
    zhashx_destroy(&self->by_pid);
    zsock_destroy(&self->router);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

zsock_t *children_router(children_t *self)
{
    return self->router;
}

const char *children_endpoint(children_t *self)
{
    return self->endpoint;
}

child_t *children_find(children_t *self, int32_t id)
{
    return (child_t *)zhashx_lookup(self->by_id, idmap_key(id));
}

int children_set(children_t *self, child_t *child, child_event_t event)
{
    child_state_t from = child->state;
    if (child_set(child, event, self->report, self->report_arg) == 0)
        return 0;
    log_dropped("child %d: %s is not expected when %s; ignored", child->id,
                child_event_name(event), child_state_name(from));
    return -1;
}

int children_recv(children_t *self, wire_msg_t **msg, child_t **child, char *join_route)
{
    char route[CHILDREN_ROUTE_MAX];
    const char *reason = "not from a child";
    int rc = wire_recv(self->router, route, sizeof route, msg, &reason);
    if (rc < 0)
        return -1;
    self->received++;
    *child = s_routed(self, route);
    if (rc == 1 && !*child && (*msg)->type == WIRE_JOIN && join_route && route[0]) {
        memcpy(join_route, route, sizeof route);
        return 1;
    }
    if (rc == 0 || !*child) {
        log_dropped("dropped a message from below: %s", reason);
        wire_msg_destroy(msg);
        return 0;
    }
    return 1;
}

child_t *children_first(children_t *self)
{
    return (child_t *)zhashx_first(self->by_id);
}

child_t *children_next(children_t *self)
{
    return (child_t *)zhashx_next(self->by_id);
}

size_t children_count(children_t *self)
{
    return zhashx_size(self->by_pid) + self->adopted;
}

int children_listen(children_t *self, const char *endpoint)
{
    return zsock_bind(self->router, "%s", endpoint) < 0 ? -1 : 0;
}

//  One id, one live node: an older entry of id (a process killed at its create's
//  deadline or by a remove and not reaped yet, or a joined worker) is nobody's node
//  any more, silently. A process stays in by_pid until it is reaped; a joined
//  worker is told to leave and forgotten at once.
static void s_replace(children_t *self, int32_t id)
{
    child_t *previous = children_find(self, id);
    if (!previous)
        return;
    zhashx_delete(self->by_id, idmap_key(id));
    if (previous->pid) {
        self->spawner.kill(self->spawner.arg, previous->pid);
        return;
    }
    s_tell_leave(self, previous);
    self->adopted--;
    s_child_free(previous);
}

child_t *children_adopt(children_t *self, int32_t id, uint32_t incarnation,
                        const char *host)
{
    if (self->config.tree.children_max && children_count(self) >= self->limit) {
        errno = EMFILE;
        return NULL;
    }
    s_replace(self, id);
    child_t *child = (child_t *)zmalloc(sizeof(child_t));
    child->id = id;
    child->incarnation = incarnation;
    child->link_fd = -1;
    //  Its pid is its HELLO's, as for any child on another host.
    child->host = mem_strdup(host && *host ? host : "?");
    child->state = CHILD_SPAWNING;
    zhashx_insert(self->by_id, idmap_key(id), child);
    self->adopted++;
    return child;
}

void children_forget(children_t *self, child_t *child)
{
    assert(child->pid == 0);
    zhashx_delete(self->by_id, idmap_key(child->id));
    self->adopted--;
    children_set(self, child, CHILD_EXIT);
    s_child_free(child);
}

char *children_spawn_error(children_t *self, int error)
{
    if (error == EMFILE && self->config.tree.children_max && children_count(self) >= self->limit)
        return process_format("Too many children of node %d (limit %zu)",
                              self->config.self_id, self->limit);
    return process_format("Cannot start a worker: %s", strerror(error));
}

child_t *children_spawn(children_t *self, int32_t id, const char *host)
{
    //  One more child is one more connection accepted by the ROUTER, and libzmq
    //  aborts the whole process when accept() finds no descriptor left.
    if (self->config.tree.children_max && children_count(self) >= self->limit) {
        errno = EMFILE;
        return NULL;
    }
    int link_fd = -1;
    uint32_t incarnation = self->incarnations + 1;
    if (incarnation >= CHILDREN_JOINED)
        incarnation = 1; //  after two billion spawns: the first are long gone
    char route[CHILDREN_ROUTE_MAX];
    children_route(route, id, incarnation);
    pid_t pid = self->spawner.spawn(self->spawner.arg, id, self->endpoint, route,
                                    host && *host ? host : NULL, &link_fd);
    if (pid < 0)
        return NULL;
    self->incarnations = incarnation;
    child_t *child = (child_t *)zmalloc(sizeof(child_t));
    child->id = id;
    child->incarnation = incarnation;
    child->pid = pid;
    child->link_fd = link_fd;
    child->host = host && *host ? mem_strdup(host) : NULL;
    child->state = CHILD_SPAWNING;
    s_replace(self, id);
    zhashx_insert(self->by_pid, s_pid_key(pid), child);
    zhashx_insert(self->by_id, idmap_key(id), child);
    return child;
}

//  An argv under construction: words, and the strings of them it owns.
typedef struct {
    char *words[CHILDREN_LAUNCHER_WORDS + 40];
    size_t count;
    zlist_t *owned;
} argv_t;

static void s_arg(argv_t *argv, const char *word)
{
    if (argv->count + 1 < sizeof argv->words / sizeof argv->words[0])
        argv->words[argv->count++] = (char *)word;
}

static void s_arg_owned(argv_t *argv, char *word)
{
    zlist_append(argv->owned, word);
    s_arg(argv, word);
}

//  Words bound for a remote shell (ssh runs the command line through one): only
//  characters no shell gives a meaning to.
static bool s_shell_safe(const char *word)
{
    for (; *word; word++)
        if (!isalnum((unsigned char)*word) && !strchr("/._+-:[]=,@%", *word))
            return false;
    return true;
}

//  The launcher's words, {host} replaced in each. -1 if there are too many.
static int s_launcher(argv_t *argv, const char *launcher, const char *host)
{
    char *copy = mem_strdup(launcher);
    int rc = 0;
    char *save = NULL;
    for (char *word = strtok_r(copy, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
        if (argv->count >= CHILDREN_LAUNCHER_WORDS) {
            rc = -1;
            break;
        }
        char *mark = strstr(word, "{host}");
        if (mark)
            s_arg_owned(argv, process_format("%.*s%s%s", (int)(mark - word), word, host,
                                             mark + strlen("{host}")));
        else
            s_arg_owned(argv, mem_strdup(word));
    }
    free(copy);
    return rc;
}

//  What a tcp child reads on its stdin before anything else: the tree's keys (or
//  "insecure"), the launcher for children of its own, and an empty line.
static char *s_link_text(children_t *self)
{
    char keys[CURVE_LINE_MAX];
    curve_line(self->config.tree.keys, keys);
    const char *launcher = self->config.tree.launcher;
    return process_format("%slauncher %s\n\n", keys, launcher ? launcher : CHILDREN_LAUNCHER);
}

//  The default spawner: an mqtree-worker process, told everything it passes on.
//  On another host, through the launcher: the worker's command line goes through a
//  remote shell there, so every word of it is checked to mean nothing to one.
static pid_t s_spawn_worker(void *arg, int32_t id, const char *endpoint,
                            const char *route, const char *host, int *link_fd)
{
    children_t *self = (children_t *)arg;
    const tree_settings_t *tree = &self->config.tree;
    bool tcp = tree->transport == TRANSPORT_TCP;
    if (host && !tcp) {
        errno = EPROTONOSUPPORT; //  the tree is on Unix sockets: one host
        return -1;
    }
    argv_t argv = {.owned = zlist_new()};
    int link[2] = {-1, -1};
    pid_t pid = -1;
    int error = EINVAL;
    if (host && s_launcher(&argv, tree->launcher ? tree->launcher : CHILDREN_LAUNCHER,
                           host) != 0)
        goto done;
    size_t worker_word = argv.count;
    s_arg(&argv, self->config.worker_path);
    s_arg(&argv, "--id");
    s_arg_owned(&argv, process_format("%d", id));
    s_arg(&argv, "--connect");
    s_arg(&argv, endpoint);
    s_arg(&argv, "--route");
    s_arg(&argv, route);
    if (!host) {
        //  Here: the worker watches this process, and may use the run directory.
        s_arg(&argv, "--parent-pid");
        s_arg_owned(&argv, process_format("%d", (int)getpid()));
        if (self->config.run_dir) {
            s_arg(&argv, "--run-dir");
            s_arg(&argv, self->config.run_dir);
        }
    }
    s_arg(&argv, "--transport");
    s_arg(&argv, tcp ? "tcp" : "ipc");
    s_arg(&argv, "--topology");
    s_arg(&argv, tree->bst ? "bst" : "tree");
    s_arg(&argv, "--log-level");
    s_arg(&argv, log_level_name(tree->log_level));
    if (tree->max_reply) {
        //  Every node caps the replies it builds, so the option goes down the tree.
        s_arg(&argv, "--max-reply");
        s_arg_owned(&argv, process_format("%zu", tree->max_reply));
    }
    if (tree->allow_run)
        s_arg(&argv, "--allow-run");
    if (tcp) {
        //  A worker on another host listens on all of its addresses and tells its
        //  children the one on the route to us; one here binds as we do.
        s_arg(&argv, "--bind");
        s_arg(&argv, host ? "0.0.0.0" : (tree->bind ? tree->bind : "127.0.0.1"));
        s_arg(&argv, "--stdin-link");
    }
    argv.words[argv.count] = NULL;
    for (size_t word = worker_word; host && word < argv.count; word++)
        if (!s_shell_safe(argv.words[word])) {
            log_warn("cannot start node %d on %s: '%s' is not safe for a remote shell",
                     id, host, argv.words[word]);
            goto done;
        }
    if (tcp && pipe2(link, O_CLOEXEC) != 0) {
        error = errno;
        goto done;
    }
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
    //  The child starts with no blocked signals and default dispositions whatever
    //  this process blocked for its signalfd, in a process group of its own so that
    //  a Ctrl-C typed at the shell reaches the controller only. Its stdout is
    //  /dev/null: results travel on the tree, and a worker must never hold the
    //  controller's stdout open. Its stdin is /dev/null, or on tcp the link pipe:
    //  the keys come on it, and its end tells the worker (wherever it runs) that
    //  its parent is gone.
    sigset_t none, defaults;
    sigemptyset(&none);
    sigfillset(&defaults);
    sigdelset(&defaults, SIGKILL);
    sigdelset(&defaults, SIGSTOP);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);
    if (tcp)
        posix_spawn_file_actions_adddup2(&actions, link[0], STDIN_FILENO);
    else
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    int rc = host ? posix_spawnp(&pid, argv.words[0], &actions, &attr, argv.words, environ)
                  : posix_spawn(&pid, self->config.worker_path, &actions, &attr,
                                argv.words, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        error = rc;
        pid = -1;
        goto done;
    }
    if (tcp) {
        //  A few hundred bytes into an empty pipe: never blocks. If the child is
        //  already gone, its end is reported by waitpid as any other.
        char *text = s_link_text(self);
        ssize_t written = write(link[1], text, strlen(text));
        (void)written;
        free(text);
        *link_fd = link[1];
        link[1] = -1;
    }
done:
    if (link[0] >= 0)
        close(link[0]);
    if (link[1] >= 0)
        close(link[1]);
    for (char *word = (char *)zlist_first(argv.owned); word;
         word = (char *)zlist_next(argv.owned))
        free(word);
    zlist_destroy(&argv.owned);
    if (pid < 0)
        errno = error;
    return pid;
}

int children_send_route(children_t *self, const char *route, wire_msg_t **msg)
{
    (*msg)->stamp_us = self->config.clock.now_us(self->config.clock.arg);
    self->sent++;
    return wire_send(self->router, route, msg);
}

void children_counts(children_t *self, uint64_t *received, uint64_t *sent)
{
    *received = self->received;
    *sent = self->sent;
}

int children_send(children_t *self, child_t *child, wire_msg_t **msg)
{
    //  Stamped on this node's clock, which its deadlines are on.
    (*msg)->stamp_us = self->config.clock.now_us(self->config.clock.arg);
    char route[CHILDREN_ROUTE_MAX];
    children_route(route, child->id, child->incarnation);
    self->sent++;
    return wire_send(self->router, route, msg);
}

void children_hello(children_t *self, child_t *child, const wire_msg_t *hello)
{
    (void)self;
    if (child->host)
        child->worker_pid = (pid_t)hello->pid;
    free(child->endpoint);
    child->endpoint = wire_bytes_strdup(&hello->endpoint);
}

void children_kill(children_t *self, child_t *child)
{
    //  A launcher (ssh) may not pass a signal on: the closed pipe ends the worker.
    if (child->link_fd >= 0) {
        close(child->link_fd);
        child->link_fd = -1;
    }
    if (child->pid == 0)
        s_tell_leave(self, child); //  joined: no process of ours to signal
    else
        self->spawner.kill(self->spawner.arg, child->pid);
    children_set(self, child, CHILD_KILL);
}

void children_kill_pid(children_t *self, pid_t pid)
{
    self->spawner.kill(self->spawner.arg, pid);
}

bool children_status(children_t *self, pid_t pid, int status)
{
    child_t *child = (child_t *)zhashx_lookup(self->by_pid, s_pid_key(pid));
    if (!child)
        return false;
    bool ended = WIFEXITED(status) || WIFSIGNALED(status);
    if (children_find(self, child->id) != child) {
        //  Replaced by a newer process of its id: its status is nobody's news.
        if (ended) {
            zhashx_delete(self->by_pid, s_pid_key(pid));
            s_child_free(child);
        }
        return true;
    }
    child->status = status;
    if (!ended) {
        children_set(self, child, WIFSTOPPED(status) ? CHILD_STOP : CHILD_CONT);
        return true;
    }
    //  Out of the tables before the report: it may spawn a new process with the
    //  same id (a create waiting for this remove), which must find the id free and
    //  must not be dropped when this entry is.
    zhashx_delete(self->by_id, idmap_key(child->id));
    zhashx_delete(self->by_pid, s_pid_key(pid));
    children_set(self, child, CHILD_EXIT);
    s_child_free(child);
    return true;
}

int children_reap(children_t *self, children_other_fn *on_other, void *arg)
{
    int count = 0;
    while (true) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG | WUNTRACED | WCONTINUED);
        if (pid <= 0)
            break;
        count++;
        if (!children_status(self, pid, status) && on_other)
            on_other(arg, pid, status);
    }
    return count;
}
