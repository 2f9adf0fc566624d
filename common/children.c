/*  children — spawn, track and reap child node processes (see children.h). */
#define _GNU_SOURCE
#include "children.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "idmap.h"
#include "numbers.h"
#include "process.h"

struct _children_t {
    children_config_t config;
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

children_t *children_new(const children_config_t *config)
{
    children_t *self = (children_t *)zmalloc(sizeof(children_t));
    self->config = *config;
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
    if (config->tcp) {
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
            kill(child->pid, SIGKILL);
        //  SIGKILL cannot be caught or ignored: every child ends promptly, stopped
        //  or not, so these waits are bounded.
        for (child_t *child = (child_t *)zhashx_first(self->by_pid); child;
             child = (child_t *)zhashx_next(self->by_pid))
            while (waitpid(child->pid, NULL, 0) < 0 && errno == EINTR)
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

static child_t *s_sender(children_t *self, zframe_t *routing_id)
{
    char text[16];
    int32_t id;
    size_t size = zframe_size(routing_id);
    if (size == 0 || size >= sizeof text)
        return NULL;
    memcpy(text, zframe_data(routing_id), size);
    text[size] = '\0';
    if (id_parse(text, &id) != 0)
        return NULL;
    return children_find(self, id);
}

int children_recv(children_t *self, zmsg_t **msg, child_t **child, wire_header_t *header)
{
    *msg = NULL;
    if (!(zsock_events(self->router) & ZMQ_POLLIN))
        return -1;
    zmsg_t *received = zmsg_recv(self->router);
    if (!received)
        return -1;
    zframe_t *routing_id = zmsg_pop(received);
    *child = routing_id ? s_sender(self, routing_id) : NULL;
    zframe_destroy(&routing_id);
    const char *reason = "not from a child";
    if (!*child || wire_validate(received, header, &reason) != 0) {
        log_dropped("dropped a message from below: %s", reason);
        zmsg_destroy(&received);
        return 0;
    }
    *msg = received;
    return 1;
}

bool children_hello(children_t *self, child_t *child, const wire_header_t *header,
                    zmsg_t *msg)
{
    (void)self;
    if (header->node != child->id ||
        wire_frame_i32(wire_frame(msg, 1)) != (int32_t)child->pid) {
        log_dropped("dropped a HELLO that does not match child %d", child->id);
        return false;
    }
    child->ready = true;
    return true;
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
    if (error == EMFILE && self->config.children_max &&
        children_count(self) >= self->config.children_max)
        return process_format("Too many children of node %d (limit %zu)",
                              self->config.self_id, self->config.children_max);
    return process_format("Cannot start a worker: %s", strerror(error));
}

child_t *children_spawn(children_t *self, int32_t id)
{
    //  One more child is one more connection accepted by the ROUTER, and libzmq
    //  aborts the whole process when accept() finds no descriptor left.
    if (self->config.children_max && children_count(self) >= self->config.children_max) {
        errno = EMFILE;
        return NULL;
    }
    char id_text[16], parent_pid[16], max_reply[24];
    snprintf(id_text, sizeof id_text, "%d", id);
    snprintf(parent_pid, sizeof parent_pid, "%d", (int)getpid());
    snprintf(max_reply, sizeof max_reply, "%zu", self->config.max_reply);
    char *argv[] = {
        (char *)"mqtree-worker",
        (char *)"--id",
        id_text,
        (char *)"--parent",
        self->endpoint,
        (char *)"--parent-pid",
        parent_pid,
        (char *)"--run-dir",
        (char *)self->config.run_dir,
        (char *)"--transport",
        (char *)(self->config.tcp ? "tcp" : "ipc"),
        (char *)"--topology",
        (char *)(self->config.bst ? "bst" : "tree"),
        (char *)"--log-level",
        (char *)log_level_name(self->config.log_level),
        //  Every node caps the replies it builds, so the option goes down the tree.
        self->config.max_reply ? (char *)"--max-reply" : NULL,
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
        return NULL;
    }
    child_t *child = (child_t *)zmalloc(sizeof(child_t));
    child->id = id;
    child->pid = pid;
    child_t *previous = children_find(self, id);
    if (previous) {
        //  A process of this id not reaped yet (killed at its create's deadline or
        //  by a remove): no two live processes carry one id, and the old one is
        //  nobody's node any more. It stays in by_pid until it is reaped.
        kill(previous->pid, SIGKILL);
        zhashx_delete(self->by_id, idmap_key(id));
    }
    zhashx_insert(self->by_pid, s_pid_key(pid), child);
    zhashx_insert(self->by_id, idmap_key(id), child);
    return child;
}

int children_send(children_t *self, int32_t id, zmsg_t **msg)
{
    zmsg_pushstrf(*msg, "%d", id);
    if (zmsg_send(msg, self->router) != 0) {
        zmsg_destroy(msg);
        return -1;
    }
    return 0;
}

void children_fan_out(children_t *self, wire_header_t *header, zframe_t *body,
                      fanout_t *fanout)
{
    for (child_t *child = children_first(self); child; child = children_next(self)) {
        if (!child->ready || child->stopped)
            continue;
        header->node = child->id;
        zmsg_t *msg = wire_request_new(header, NULL, 0);
        if (body) {
            zframe_t *copy = zframe_dup(body);
            zmsg_append(msg, &copy);
        }
        if (children_send(self, child->id, &msg) == 0 && fanout)
            fanout_expect(fanout, child->id);
    }
}

void children_kill(children_t *self, child_t *child)
{
    (void)self;
    kill(child->pid, SIGKILL);
}

int children_reap(children_t *self, children_event_fn *handler, void *arg)
{
    int count = 0;
    while (true) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG | WUNTRACED | WCONTINUED);
        if (pid <= 0)
            break;
        count++;
        child_t *child = (child_t *)zhashx_lookup(self->by_pid, s_pid_key(pid));
        bool ended = WIFEXITED(status) || WIFSIGNALED(status);
        if (child && children_find(self, child->id) != child) {
            //  Replaced by a newer process of its id: its status is nobody's news.
            if (ended) {
                zhashx_delete(self->by_pid, s_pid_key(pid));
                free(child);
            }
            continue;
        }
        if (child && WIFSTOPPED(status))
            child->stopped = true;
        else if (child && WIFCONTINUED(status))
            child->stopped = false;
        if (!child || !ended) {
            handler(arg, child, pid, status);
            continue;
        }
        //  Out of the tables before the handler runs: it may spawn a new process
        //  with the same id (a create waiting for this remove), which must find
        //  the id free and must not be dropped when this entry is.
        zhashx_delete(self->by_id, idmap_key(child->id));
        zhashx_delete(self->by_pid, s_pid_key(pid));
        handler(arg, child, pid, status);
        free(child);
    }
    return count;
}
