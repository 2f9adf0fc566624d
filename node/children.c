/*  children — spawn, track and reap a node's child processes (see children.h). */
#define _GNU_SOURCE
#include "children.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "../common/idmap.h"
#include "../common/numbers.h"
#include "../common/process.h"

struct _children_t {
    children_config_t config;
    spawner_t spawner;
    child_report_fn *report;
    void *report_arg;
    zsock_t *router;
    char *endpoint;
    //  Every process spawned and not yet reaped, current or not: pid -> child_t
    //  (the entries are freed by hand, once out of both tables). A child leaves it only
    //  once waitpid has reported its end, so its pid cannot belong to anyone else while
    //  it is here.
    zhashx_t *by_pid;
    //  The current process of each node id: id -> child_t (not owned). A process
    //  whose id was given to a newer one (it was killed and is not reaped yet) is
    //  in by_pid only: nothing routes to it, and its end touches the newer one not.
    zhashx_t *by_id;
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

static pid_t s_spawn_worker(void *arg, int32_t id, const char *endpoint);

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
        int port = zsock_bind(self->router, "tcp://127.0.0.1:*");
        if (port < 0)
            goto error;
        self->endpoint = process_format("tcp://127.0.0.1:%d", port);
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
            free(child);
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

int children_recv(children_t *self, wire_msg_t **msg, child_t **child)
{
    char route[16];
    const char *reason = "not from a child";
    int rc = wire_recv(self->router, route, sizeof route, msg, &reason);
    if (rc < 0)
        return -1;
    int32_t id;
    *child = id_parse(route, &id) == 0 ? children_find(self, id) : NULL;
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
    return zhashx_size(self->by_pid);
}

char *children_spawn_error(children_t *self, int error)
{
    if (error == EMFILE && self->config.tree.children_max &&
        children_count(self) >= self->config.tree.children_max)
        return process_format("Too many children of node %d (limit %zu)",
                              self->config.self_id, self->config.tree.children_max);
    return process_format("Cannot start a worker: %s", strerror(error));
}

child_t *children_spawn(children_t *self, int32_t id)
{
    //  One more child is one more connection accepted by the ROUTER, and libzmq
    //  aborts the whole process when accept() finds no descriptor left.
    if (self->config.tree.children_max && children_count(self) >= self->config.tree.children_max) {
        errno = EMFILE;
        return NULL;
    }
    pid_t pid = self->spawner.spawn(self->spawner.arg, id, self->endpoint);
    if (pid < 0)
        return NULL;
    child_t *child = (child_t *)zmalloc(sizeof(child_t));
    child->id = id;
    child->pid = pid;
    child->state = CHILD_SPAWNING;
    child_t *previous = children_find(self, id);
    if (previous) {
        //  A process of this id not reaped yet (killed at its create's deadline or
        //  by a remove): no two live processes carry one id, and the old one is
        //  nobody's node any more. It stays in by_pid until it is reaped.
        self->spawner.kill(self->spawner.arg, previous->pid);
        zhashx_delete(self->by_id, idmap_key(id));
    }
    zhashx_insert(self->by_pid, s_pid_key(pid), child);
    zhashx_insert(self->by_id, idmap_key(id), child);
    return child;
}

//  The default spawner: an mqtree-worker process, told everything it passes on.
static pid_t s_spawn_worker(void *arg, int32_t id, const char *endpoint)
{
    children_t *self = (children_t *)arg;
    char id_text[16], parent_pid[16], max_reply[24];
    snprintf(id_text, sizeof id_text, "%d", id);
    snprintf(parent_pid, sizeof parent_pid, "%d", (int)getpid());
    snprintf(max_reply, sizeof max_reply, "%zu", self->config.tree.max_reply);
    char *argv[] = {
        (char *)"mqtree-worker",
        (char *)"--id",
        id_text,
        (char *)"--parent",
        (char *)endpoint,
        (char *)"--parent-pid",
        parent_pid,
        (char *)"--run-dir",
        (char *)self->config.run_dir,
        (char *)"--transport",
        (char *)(self->config.tree.transport == TRANSPORT_TCP ? "tcp" : "ipc"),
        (char *)"--topology",
        (char *)(self->config.tree.bst ? "bst" : "tree"),
        (char *)"--log-level",
        (char *)log_level_name(self->config.tree.log_level),
        //  Every node caps the replies it builds, so the option goes down the tree.
        self->config.tree.max_reply ? (char *)"--max-reply" : NULL,
        max_reply,
        NULL,
    };
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
    //  The child starts with no blocked signals and default dispositions whatever
    //  this process blocked for its signalfd, in a process group of its own so that
    //  a Ctrl-C typed at the shell reaches the controller only. Its stdin and stdout
    //  are /dev/null: results travel on the tree, and a worker must never hold the
    //  controller's stdout open.
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
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, self->config.worker_path, &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return pid;
}

int children_send(children_t *self, int32_t id, wire_msg_t **msg)
{
    //  Stamped on this node's clock, which its deadlines are on.
    (*msg)->stamp_us = self->config.clock.now_us(self->config.clock.arg);
    char route[16];
    snprintf(route, sizeof route, "%d", id);
    return wire_send(self->router, route, msg);
}

void children_kill(children_t *self, child_t *child)
{
    self->spawner.kill(self->spawner.arg, child->pid);
    children_set(self, child, CHILD_KILL);
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
            free(child);
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
    free(child);
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
