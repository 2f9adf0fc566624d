/*  node — one tree node: the parent link, routing, the handler tables, and what
    upstream hears of each child (see node.h). */
#include "node.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/log.h"
#include "fanout.h"
#include "heartbeat.h"
#include "zap.h"

//  Messages handled per wake-up of one socket, so no socket starves the others.
#define BATCH 256

struct _node_t {
    node_config_t config;
    node_handlers_t handlers;
    void *owner;
    loop_t *loop;
    zsock_t *upstream; //  NULL for the root
    zap_t *zap;        //  tcp with CURVE: who may connect
    wire_peer_clock_t parent_clock; //  what the parent's stamps told of its clock
    children_t *children;
    timers_t *timers;
    fanouts_t *fanouts;
    beats_t *beats;
    int loop_timer; //  the loop timer armed for the earliest of timers, 0 if none
    int64_t loop_timer_at;
    stall_t stall;    //  the loop timer was late: the I/O thread's grace (timers.h)
    size_t parent_messages; //  heard from the parent so far
    bool left;              //  told to LEAVE: the loop ends
    zlist_t *leaving;       //  ids of joined children told to leave, to forget
};

//  --- Up ---------------------------------------------------------------------------

void node_send_up(node_t *self, wire_msg_t **msg)
{
    if (!self->upstream) {
        if (self->handlers.on_up)
            self->handlers.on_up(self->owner, msg);
        wire_msg_destroy(msg);
        return;
    }
    if (wire_send(self->upstream, NULL, msg) != 0)
        log_warn("could not send to the parent: %s", strerror(errno));
}

static void s_send_up(void *arg, wire_msg_t **msg)
{
    node_send_up((node_t *)arg, msg);
}

void node_reply(node_t *self, uint64_t request_id, wire_status_t status,
                const void *text, size_t size)
{
    //  The node's own part of a broadcast joins its subtree's answers instead.
    if (fanouts_own(self->fanouts, request_id, (uint8_t)status, text, size))
        return;
    wire_msg_t *reply = wire_reply_new(request_id, self->config.id, status, text, size);
    node_send_up(self, &reply);
}

void node_op_reply(node_t *self, wire_msg_t **reply)
{
    wire_msg_t *answer = *reply;
    if (fanouts_own(self->fanouts, answer->request_id, answer->status, answer->text.data,
                    answer->text.size)) {
        wire_msg_destroy(reply);
        return;
    }
    answer->node = self->config.id;
    node_send_up(self, reply);
}

static void s_reply_text(node_t *self, uint64_t request_id, wire_status_t status,
                         const char *text)
{
    node_reply(self, request_id, status, text, strlen(text));
}

static void s_event(node_t *self, child_t *child, wire_event_t kind, int code)
{
    wire_msg_t *event =
        wire_event_new(self->config.id, kind, child->id, (int32_t)child_pid(child), code);
    node_send_up(self, &event);
}

//  --- What upstream hears of a child: the one place (child.h's reports) -------------

//  A joined child told to leave has no process to reap: it is forgotten on the next
//  turn of the loop, once the caller is done with its entry.
static void s_on_left(void *arg, int timer_id)
{
    (void)timer_id;
    node_t *self = (node_t *)arg;
    while (zlist_size(self->leaving)) {
        int32_t id = (int32_t)(intptr_t)zlist_pop(self->leaving);
        child_t *child = children_find(self->children, id);
        if (child && child->pid == 0 && child->state == CHILD_KILLED)
            children_forget(self->children, child);
    }
}

//  The requests held for a child that will never be ready (its create failed, or it
//  was removed first): each is answered unavailable, as a send to it would be, and
//  the list goes.
static void s_fail_list(node_t *self, zlistx_t **held)
{
    wire_msg_t *msg;
    while (*held && (msg = (wire_msg_t *)zlistx_detach(*held, NULL))) {
        if (msg->request_id)
            s_reply_text(self, msg->request_id, WIRE_UNAVAILABLE, "");
        wire_msg_destroy(&msg);
    }
    zlistx_destroy(held);
}

//  The child's held requests, taken from it before any is answered: at the root an
//  answer reaches the controller within the call, and what it sends next may
//  replace (and free) the child's entry.
static zlistx_t *s_take_held(child_t *child)
{
    zlistx_t *held = child->held;
    child->held = NULL;
    return held;
}

static void s_fail_held(node_t *self, child_t *child)
{
    zlistx_t *held = s_take_held(child);
    s_fail_list(self, &held);
}

static void s_end_child(node_t *self, child_t *child)
{
    s_fail_held(self, child);
    children_kill(self->children, child);
    if (child->pid == 0) {
        zlist_append(self->leaving, (void *)(intptr_t)child->id);
        timers_add(self->timers, timers_now(self->timers), s_on_left, self);
    }
}

static void s_on_create_deadline(void *arg, int timer_id);
static void s_forward(node_t *self, child_t *child, wire_msg_t **msg);

//  A child is ready: what came for it meanwhile goes on, in order; what is past its
//  deadline now is dropped (the controller answers it), as on arrival.
static void s_send_held(node_t *self, child_t *child)
{
    wire_msg_t *msg;
    while (child->held && (msg = (wire_msg_t *)zlistx_detach(child->held, NULL))) {
        if (msg->deadline_us && timers_now(self->timers) > msg->deadline_us) {
            log_debug("dropped a held %s whose deadline passed", wire_type_name(msg->type));
            wire_msg_destroy(&msg);
        } else
            s_forward(self, child, &msg);
    }
    zlistx_destroy(&child->held);
}

static void s_ready(node_t *self, child_t *child)
{
    timers_cancel(self->timers, child->create_timer);
    child->create_timer = 0;
    beats_child_ready(self->beats, child);
    uint64_t request = child->create_request;
    child->create_request = 0;
    if (!request) {
        s_send_held(self, child);
        return;
    }
    if (self->upstream && child->create_deadline_us &&
        timers_now(self->timers) > child->create_deadline_us) {
        //  Its create was already reported failed above: a process nobody knows of
        //  must not live on. (At the root the controller is this process: it reads
        //  this answer before it counts its own deadline, and judges by that; a late
        //  success it ends through its tombstone.)
        log_info("child %d was ready after its deadline; ending it", child->id);
        s_reply_text(self, request, WIRE_UNAVAILABLE, "");
        s_end_child(self, child);
        return;
    }
    //  What was held first: at the root the answer reaches the controller at once,
    //  and it may send this child more before this returns.
    s_send_held(self, child);
    //  Its pid (on its host), and where its children will connect.
    wire_msg_t *created = wire_msg_new(WIRE_CREATED);
    created->request_id = request;
    created->node = self->config.id;
    created->pid = (int32_t)child_pid(child);
    if (child->endpoint)
        wire_bytes_copy(&created->endpoint, child->endpoint, strlen(child->endpoint));
    node_send_up(self, &created);
}

static void s_log_end(child_t *child)
{
    //  A child's death is news for the user, not a fault of this node: info.
    if (WIFSIGNALED(child->status))
        log_info("child %d (pid %d) killed by signal %d", child->id, (int)child->pid,
                 WTERMSIG(child->status));
    else
        log_info("child %d (pid %d) exited with status %d", child->id, (int)child->pid,
                 WEXITSTATUS(child->status));
}

static void s_on_report(void *arg, child_t *child, child_report_t report)
{
    node_t *self = (node_t *)arg;
    if (child->state == CHILD_GONE) {
        timers_cancel(self->timers, child->create_timer);
        child->create_timer = 0;
    }
    switch (report) {
        case CHILD_SAYS_NOTHING:
            break;
        case CHILD_SAYS_READY:
            s_ready(self, child);
            break;
        case CHILD_SAYS_NOT_STARTED:
            if (child->create_request)
                s_reply_text(self, child->create_request, WIRE_ERROR,
                             "The worker exited before it was ready");
            s_fail_held(self, child);
            break;
        case CHILD_SAYS_REMOVED:
            if (child->remove_request)
                s_reply_text(self, child->remove_request, WIRE_OK, "");
            fanouts_forget(self->fanouts, child->id, true);
            break;
        case CHILD_SAYS_EXITED:
            s_log_end(child);
            //  The event first: the parent then knows why before a pingall answer
            //  that leaves the child out reaches it, and the two never disagree.
            s_event(self, child, WIRE_CHILD_EXITED, child->status);
            fanouts_forget(self->fanouts, child->id, true);
            break;
        case CHILD_SAYS_STOPPED:
            log_info("child %d (pid %d) stopped by signal %d", child->id,
                     (int)child->pid, WSTOPSIG(child->status));
            s_event(self, child, WIRE_CHILD_STOPPED, child->status);
            fanouts_forget(self->fanouts, child->id, false);
            break;
        case CHILD_SAYS_CONTINUED:
            //  Its silence while stopped is known for what it was: the count of
            //  missed beats starts again, or the next tick would call it lost.
            child->last_beat_us = timers_now(self->timers);
            log_info("child %d (pid %d) continued", child->id, (int)child->pid);
            s_event(self, child, WIRE_CHILD_CONTINUED, 0);
            break;
        case CHILD_SAYS_LOST:
            s_event(self, child, WIRE_CHILD_LOST, 0);
            fanouts_forget(self->fanouts, child->id, false);
            break;
        case CHILD_SAYS_BACK:
            s_event(self, child, WIRE_CHILD_BACK, 0);
            break;
    }
}

//  --- Requests from above ------------------------------------------------------------

static void s_forward(node_t *self, child_t *child, wire_msg_t **msg)
{
    uint64_t request_id = (*msg)->request_id;
    int32_t to = child ? child->id : 0;
    //  A child still starting (its create in flight, routed through here) gets it
    //  once it is ready: commands need not wait above for the create's answer.
    if (child && child_starting(child)) {
        if (!child->held) {
            child->held = zlistx_new();
            zlistx_set_destructor(child->held, (zlistx_destructor_fn *)wire_msg_destroy);
        }
        wire_msg_keep(*msg); //  the controller lends a command's bytes until it returns
        zlistx_add_end(child->held, *msg);
        *msg = NULL;
        return;
    }
    //  With ROUTER_MANDATORY a send to a child whose connection is gone fails now,
    //  and the request is answered instead of vanishing.
    if (!child || !child_connected(child)) {
        log_debug("no child to pass a %s for node %d to", wire_type_name((*msg)->type),
                  (*msg)->node);
        wire_msg_destroy(msg);
    } else if (children_send(self->children, child, msg) == 0)
        return;
    else
        log_debug("child %d unreachable: %s", to, strerror(errno));
    s_reply_text(self, request_id, WIRE_UNAVAILABLE, "");
}

//  In a binary search tree a request names its target and each node sends it left
//  (smaller ids) or right (greater ids): no node needs a path or a table.
static child_t *s_child_by_key(node_t *self, int32_t target)
{
    bool left = target < self->config.id;
    child_t *next = NULL;
    for (child_t *child = children_first(self->children); child;
         child = children_next(self->children))
        if ((child->id < self->config.id) == left)
            next = child;
    return next;
}

//  A child not ready by its create's deadline was already reported failed: a process
//  nobody knows of must not live on.
static void s_on_create_deadline(void *arg, int timer_id)
{
    node_t *self = (node_t *)arg;
    for (child_t *child = children_first(self->children); child;
         child = children_next(self->children))
        if (child->create_timer == timer_id) {
            child->create_timer = 0;
            uint64_t request = child->create_request;
            if (child->state != CHILD_READY && request) {
                //  Answered, late as it is: a parent answers every create once.
                //  The create's answer goes before those of the requests held for
                //  the child, so the controller knows why they failed. At the root
                //  it reaches the controller within the call, and a create of the
                //  same id that waited for it may replace (and free) the entry: the
                //  child is ended first, its held requests taken out to answer last.
                log_info("child %d not ready by its deadline; ending it", child->id);
                child->create_request = 0;
                zlistx_t *held = s_take_held(child);
                s_end_child(self, child);
                s_reply_text(self, request, WIRE_UNAVAILABLE, "");
                s_fail_list(self, &held);
            }
            return;
        }
}

static void s_create(node_t *self, wire_msg_t **msg)
{
    wire_msg_t *request = *msg;
    //  The controller asks for an id it has no node of: a process of ours with that
    //  id is left from a create it reported failed. The spawn ends it, so that one
    //  id never has two live processes.
    if (children_find(self->children, request->child))
        log_info("child %d is left from a failed create; replacing it", request->child);
    char *host = request->host.size ? wire_bytes_strdup(&request->host) : NULL;
    //  ADOPT: a worker that joins by itself; its HELLO will answer, as a spawn's does.
    child_t *child = request->type == WIRE_ADOPT
                         ? children_adopt(self->children, request->child,
                                          CHILDREN_JOINED | (uint32_t)request->pid, host)
                         : children_spawn(self->children, request->child, host);
    free(host);
    if (!child) {
        char *text = children_spawn_error(self->children, errno);
        s_reply_text(self, request->request_id, WIRE_ERROR, text);
        free(text);
        return;
    }
    log_debug("%s child %d, pid %d", child->pid ? "spawned" : "expecting", child->id,
              (int)child->pid);
    child->create_request = request->request_id;
    child->create_deadline_us = request->deadline_us;
    if (request->deadline_us)
        child->create_timer =
            timers_add(self->timers, request->deadline_us, s_on_create_deadline, self);
}

static void s_remove(node_t *self, wire_msg_t **msg)
{
    wire_msg_t *request = *msg;
    child_t *child = children_find(self->children, request->child);
    //  A pid names one process: the controller cleaning up after a create it
    //  reported failed must not end a newer process of the same id.
    if (!child || (request->pid && child_pid(child) != request->pid)) {
        s_reply_text(self, request->request_id, WIRE_OK, "");
        return;
    }
    //  Answered when the child is reaped; its own children follow it through their
    //  parent-death signal.
    child->remove_request = request->request_id;
    child->create_request = 0;
    s_end_child(self, child);
}

static void s_ping(node_t *self, wire_msg_t **msg)
{
    s_reply_text(self, (*msg)->request_id, WIRE_OK, "");
}

static void s_exec(node_t *self, wire_msg_t **msg)
{
    if (self->handlers.on_exec)
        self->handlers.on_exec(self->owner, msg);
    else
        s_reply_text(self, (*msg)->request_id, WIRE_ERROR, "Not a worker");
}

static void s_broadcast(node_t *self, wire_msg_t **msg)
{
    fanouts_start(self->fanouts, *msg);
}

//  A broadcast's own op: run as an EXEC is.
static void s_run_own(void *arg, wire_msg_t **exec)
{
    node_t *self = (node_t *)arg;
    self->handlers.on_exec(self->owner, exec);
}

static void s_heartbeat(node_t *self, wire_msg_t **msg)
{
    beats_set_interval(self->beats, (*msg)->interval_ms);
}

static void s_leave(node_t *self, wire_msg_t **msg)
{
    (void)msg;
    log_info("removed from the tree; leaving");
    self->left = true;
}

//  The requests a node runs itself, by kind. Each may take the message.
typedef void(request_fn)(node_t *self, wire_msg_t **msg);
static request_fn *const s_requests[WIRE_TYPE_COUNT] = {
    [WIRE_CREATE] = s_create,   [WIRE_EXEC] = s_exec,       [WIRE_PING] = s_ping,
    [WIRE_REMOVE] = s_remove,   [WIRE_BROADCAST] = s_broadcast, [WIRE_HEARTBEAT] = s_heartbeat,
    [WIRE_ADOPT] = s_create,    [WIRE_LEAVE] = s_leave,
};

void node_request(node_t *self, wire_msg_t **msg)
{
    wire_msg_t *request = *msg;
    if (!wire_is_request(request->type)) {
        log_dropped("dropped a %s from the parent: not a request",
                    wire_type_name(request->type));
    } else if (request->deadline_us && timers_now(self->timers) > request->deadline_us) {
        log_debug("dropped a %s whose deadline passed", wire_type_name(request->type));
    } else if (wire_hops(request) > 0) {
        int32_t hop = wire_pop_hop(request);
        s_forward(self, children_find(self->children, hop), msg);
    } else if (request->node != self->config.id) {
        if (self->config.children.tree.bst)
            s_forward(self, s_child_by_key(self, request->node), msg);
        else
            log_dropped("dropped a %s for node %d with no path",
                        wire_type_name(request->type), request->node);
    } else
        s_requests[request->type](self, msg);
    wire_msg_destroy(msg);
}

//  --- Messages from children -------------------------------------------------------

static void s_on_hello(node_t *self, child_t *child, wire_msg_t **msg)
{
    //  A child on another host says its pid there: ours is its launcher's. A pid of
    //  0 names no process (a joiner's is all we will know of it).
    if ((*msg)->node != child->id || (*msg)->pid <= 0 ||
        (!child->host && (*msg)->pid != (int32_t)child->pid)) {
        log_dropped("dropped a HELLO that does not match child %d", child->id);
        return;
    }
    children_hello(self->children, child, *msg);
    children_set(self->children, child, CHILD_HELLO);
}

static void s_on_beat(node_t *self, child_t *child, wire_msg_t **msg)
{
    (void)msg;
    beats_heard(self->beats, child);
}

static void s_on_reply(node_t *self, child_t *child, wire_msg_t **msg)
{
    wire_msg_t *reply = *msg;
    if (fanouts_answer(self->fanouts, child, reply))
        return;
    if (self->config.children.tree.max_reply && reply->text.size > self->config.children.tree.max_reply) {
        //  Our own children cap what they build: only a faulty or hostile process
        //  sends this, and no level above should hold it.
        log_dropped("dropped a reply of %zu bytes from node %d: over --max-reply",
                    reply->text.size, reply->node);
        const char *text = "Reply too large";
        wire_msg_t *error = wire_reply_new(reply->request_id, reply->node, WIRE_ERROR,
                                           text, strlen(text));
        node_send_up(self, &error);
        return;
    }
    node_send_up(self, msg);
}

static void s_pass_up(node_t *self, child_t *child, wire_msg_t **msg)
{
    (void)child;
    node_send_up(self, msg);
}

//  What a node does with each kind a child may send. Each may take the message.
typedef void(child_msg_fn)(node_t *self, child_t *child, wire_msg_t **msg);
static child_msg_fn *const s_from_child[WIRE_TYPE_COUNT] = {
    [WIRE_HELLO] = s_on_hello,
    [WIRE_BEAT] = s_on_beat,
    [WIRE_REPLY] = s_on_reply,
    [WIRE_EVENT] = s_pass_up,
    [WIRE_CREATED] = s_pass_up,
};

static int s_read_children(node_t *self)
{
    int count = 0;
    wire_msg_t *msg;
    child_t *child;
    char route[CHILDREN_ROUTE_MAX];
    for (int rc; count < BATCH; count++) {
        if ((rc = children_recv(self->children, &msg, &child, route)) < 0)
            break;
        stall_heard(&self->stall);
        if (rc == 0)
            continue;
        if (!child) {
            //  A JOIN: only the root, on its --listen endpoint, hears them.
            if (self->handlers.on_join && !self->upstream)
                self->handlers.on_join(self->owner, route, &msg);
            else
                log_dropped("dropped a JOIN: joins go to the controller");
            wire_msg_destroy(&msg);
            continue;
        }
        child_msg_fn *handler = s_from_child[msg->type];
        if (handler)
            handler(self, child, &msg);
        else
            log_dropped("dropped a %s from child %d", wire_type_name(msg->type),
                        child->id);
        wire_msg_destroy(&msg);
    }
    return count;
}

static int s_read_parent(node_t *self)
{
    int count = 0;
    for (; self->upstream && count < BATCH; count++) {
        wire_msg_t *msg;
        const char *reason = NULL;
        int rc = wire_recv(self->upstream, NULL, 0, &msg, &reason);
        if (rc < 0)
            break;
        stall_heard(&self->stall);
        if (rc == 0)
            log_dropped("dropped a message from the parent: %s", reason);
        else {
            self->parent_messages++;
            wire_localize(msg, &self->parent_clock, timers_now(self->timers));
            node_request(self, &msg);
        }
    }
    return count;
}

//  --- The loop ----------------------------------------------------------------------

static void s_woken(node_t *self)
{
    if (self->handlers.on_woken)
        self->handlers.on_woken(self->owner);
}

static int s_on_children(loop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    (void)reader;
    s_read_children((node_t *)arg);
    s_woken((node_t *)arg);
    return 0;
}

static int s_on_parent(loop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    (void)reader;
    s_read_parent((node_t *)arg);
    s_woken((node_t *)arg);
    return ((node_t *)arg)->left ? -1 : 0;
}

static int s_on_zap(loop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    (void)reader;
    zap_handle(((node_t *)arg)->zap);
    return 0;
}

static void s_arm(void *arg, int64_t at_us);

//  One turn when timers are due (or, without a loop, node_poll): messages first — a
//  HELLO or an answer that has arrived counts, however late the timer; only then
//  does silence count as failure. The owner hears the turn's end. Returns how many
//  messages and timers it handled.
static int s_turn(node_t *self)
{
    int count = s_read_parent(self);
    while (zsock_events(children_router(self->children)) & ZMQ_POLLIN)
        count += s_read_children(self);
    count += timers_run(self->timers);
    if (count)
        s_woken(self);
    return count;
}

//  A timer this late: this process was stopped or starved (timers.h, stall_t).
static int s_on_loop_timer(loop_t *loop, int timer_id, void *arg)
{
    (void)timer_id;
    node_t *self = (node_t *)arg;
    self->loop_timer = 0;
    int64_t now = timers_now(self->timers);
    int wait_ms = stall_wait_ms(&self->stall, now, self->loop_timer_at);
    if (wait_ms) {
        self->loop_timer = loop_timer(loop, (size_t)wait_ms, 1, s_on_loop_timer, self);
        self->loop_timer_at = now + wait_ms * 1000;
        return 0;
    }
    s_turn(self);
    s_arm(self, timers_next(self->timers));
    return 0;
}

//  One loop timer for the earliest of the node's timers, re-armed when it changes.
static void s_arm(void *arg, int64_t at_us)
{
    node_t *self = (node_t *)arg;
    //  A grace in progress is never cut short: its end runs whatever is due.
    if (!self->loop || (self->stall.grace && self->loop_timer))
        return;
    if (self->loop_timer)
        loop_timer_end(self->loop, self->loop_timer);
    self->loop_timer = 0;
    if (at_us >= 0)
        self->loop_timer =
            loop_timer(self->loop, wire_delay_ms(at_us, timers_now(self->timers)), 1,
                        s_on_loop_timer, self);
    self->loop_timer_at = at_us;
}

int node_poll(node_t *self)
{
    int count = self->zap ? zap_handle(self->zap) : 0;
    return count + s_turn(self);
}

void node_child_status(node_t *self, pid_t pid, int status)
{
    if (!children_status(self->children, pid, status) && self->handlers.on_other)
        self->handlers.on_other(self->owner, pid, status);
}

static void s_on_other(void *arg, pid_t pid, int status)
{
    node_t *self = (node_t *)arg;
    if (self->handlers.on_other)
        self->handlers.on_other(self->owner, pid, status);
    else
        log_debug("reaped pid %d, not a child node", (int)pid);
}

void node_reap(node_t *self)
{
    children_reap(self->children, s_on_other, self);
}

//  --- Life cycle -----------------------------------------------------------------

static zsock_t *s_upstream(const node_config_t *config)
{
    //  Out of descriptors or ZeroMQ sockets: the caller exits, and the parent
    //  answers the create.
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    if (!sock) {
        log_error("cannot open a socket to the parent: %s", strerror(errno));
        return NULL;
    }
    char identity[16];
    snprintf(identity, sizeof identity, "%d", config->id);
    zsock_set_identity(sock, config->route ? config->route : identity);
    const tree_settings_t *tree = &config->children.tree;
    if (tree->transport == TRANSPORT_TCP)
        children_tcp_client(sock, tree->keys);
    zsock_set_sndhwm(sock, 0);
    zsock_set_rcvhwm(sock, 0);
    zsock_set_linger(sock, 0);
    //  Read by the loop, never waited on: wire_recv's fast path.
    zsock_set_rcvtimeo(sock, 0);
    if (zsock_connect(sock, "%s", config->parent_endpoint) != 0) {
        log_error("cannot connect to %s", config->parent_endpoint);
        zsock_destroy(&sock);
    }
    return sock;
}

node_t *node_new(const node_config_t *config, loop_t *loop,
                 const node_handlers_t *handlers, void *owner)
{
    node_t *self = (node_t *)zmalloc(sizeof(node_t));
    self->config = *config;
    self->config.children.self_id = config->id;
    if (!self->config.clock.now_us)
        self->config.clock = clock_monotonic();
    self->config.children.clock = self->config.clock;
    self->config.children.parent_endpoint = config->parent_endpoint;
    self->handlers = *handlers;
    self->owner = owner;
    self->timers = timers_new(self->config.clock);
    self->leaving = zlist_new();
    const tree_settings_t *tree = &config->children.tree;
    //  Before the ROUTER binds: libzmq asks the ZAP handler of its context.
    if (tree->transport == TRANSPORT_TCP && tree->keys && !(self->zap = zap_new(tree->keys))) {
        log_error("cannot start the ZAP handler: %s", strerror(errno));
        goto error;
    }
    self->children = children_new(&self->config.children, s_on_report, self);
    if (!self->children) {
        log_error("cannot bind an endpoint for children: %s", strerror(errno));
        goto error;
    }
    if (config->parent_endpoint && !(self->upstream = s_upstream(config)))
        goto error;
    self->fanouts =
        fanouts_new(config->id, config->children.tree.max_reply, self->children,
                    self->timers, s_send_up, handlers->on_exec ? s_run_own : NULL, self);
    fanouts_set_changes(self->fanouts, handlers->op_changes);
    self->beats = beats_new(config->id, self->children, self->timers,
                            self->upstream ? s_send_up : NULL, self);
    if (loop) {
        self->loop = loop;
        loop_reader(loop, children_router(self->children), s_on_children, self);
        if (self->zap) {
            loop_reader(loop, zap_sock(self->zap), s_on_zap, self);
            loop_reader_set_own(loop, zap_sock(self->zap));
        }
        if (self->upstream)
            loop_reader(loop, self->upstream, s_on_parent, self);
        timers_set_watch(self->timers, s_arm, self);
    }
    return self;
error:
    node_destroy(&self);
    return NULL;
}

void node_destroy(node_t **self_p)
{
    node_t *self = *self_p;
    if (!self)
        return;
    if (self->loop) {
        if (self->loop_timer)
            loop_timer_end(self->loop, self->loop_timer);
        loop_reader_end(self->loop, children_router(self->children));
        if (self->zap)
            loop_reader_end(self->loop, zap_sock(self->zap));
        if (self->upstream)
            loop_reader_end(self->loop, self->upstream);
    }
    beats_destroy(&self->beats);
    fanouts_destroy(&self->fanouts);
    children_destroy(&self->children);
    zsock_destroy(&self->upstream);
    zap_destroy(&self->zap);
    timers_destroy(&self->timers);
    zlist_destroy(&self->leaving);
    free(self);
    *self_p = NULL;
}

void node_start(node_t *self)
{
    wire_msg_t *hello = wire_msg_new(WIRE_HELLO);
    hello->node = self->config.id;
    hello->pid = self->config.pid ? (int32_t)self->config.pid : (int32_t)getpid();
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    wire_bytes_copy(&hello->host, host, strlen(host));
    const char *endpoint = children_endpoint(self->children);
    wire_bytes_copy(&hello->endpoint, endpoint, strlen(endpoint));
    node_send_up(self, &hello);
}

void node_counts(node_t *self, uint64_t *received, uint64_t *sent)
{
    children_counts(self->children, received, sent);
}

size_t node_children_count(node_t *self)
{
    return children_count(self->children);
}

child_t *node_child(node_t *self, int32_t id)
{
    return children_find(self->children, id);
}

const char *node_endpoint(node_t *self)
{
    return children_endpoint(self->children);
}

timers_t *node_timers(node_t *self)
{
    return self->timers;
}

void node_kill_pid(node_t *self, pid_t pid)
{
    children_kill_pid(self->children, pid);
}

void node_join_reply(node_t *self, const char *route, wire_msg_t **msg)
{
    children_send_route(self->children, route, msg);
}

int node_listen(node_t *self, const char *endpoint)
{
    return children_listen(self->children, endpoint);
}

bool node_parent_heard(node_t *self)
{
    return self->parent_messages > 0;
}

bool node_left(node_t *self)
{
    return self->left;
}

zsock_t *node_upstream(node_t *self)
{
    return self->upstream;
}

zsock_t *node_router(node_t *self)
{
    return children_router(self->children);
}

int node_heartbeat_interval(node_t *self)
{
    return beats_interval(self->beats);
}
