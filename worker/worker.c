/*  worker — the routing loop of one node (see worker.h). */
#include "worker.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/children.h"
#include "../common/coverage.h"
#include "../common/process.h"
#include "../common/wire.h"
#include "op_runner.h"

//  Without a pidfd of the parent, how often the loop checks that its parent process
//  is still the one that spawned it. PR_SET_PDEATHSIG does the real work; this
//  catches what it cannot (see NOTES).
#define PARENT_CHECK_MS 500
//  Messages handled per wake-up of one socket, so no socket starves the others.
#define BATCH 256

struct _worker_t {
    worker_config_t config;
    zloop_t *loop;
    zsock_t *upstream;
    children_t *children;
    op_runner_t *runner;
    char *worker_path;
    zhashx_t *fanouts; //  request id (as text) -> fanout_t, pingalls in progress
    int heartbeat_ms;  //  0: off
    int heartbeat_timer;
    int64_t last_tick_ms;
    bool flush_due; //  coverage builds: counts to write (s_woken)
};

//  A child whose heartbeats are missing this many intervals is reported lost.
#define BEATS_MISSED 4

static void s_send_up(worker_t *self, zmsg_t **msg)
{
    if (zmsg_send(msg, self->upstream) != 0) {
        log_warn("could not send to the parent: %s", strerror(errno));
        zmsg_destroy(msg);
    }
}

static void s_reply(worker_t *self, uint64_t request_id, wire_status_t status,
                    const char *text)
{
    if (wire_send_reply(self->upstream, request_id, self->config.id, status, text,
                        strlen(text)) != 0)
        log_warn("could not send to the parent: %s", strerror(errno));
}

static void s_forward_down(worker_t *self, zmsg_t **msg, uint64_t request_id)
{
    int32_t hop = wire_path_pop(*msg);
    child_t *child = children_find(self->children, hop);
    if (!child || !child->ready) {
        log_debug("no child %d to forward to", hop);
        zmsg_destroy(msg);
        s_reply(self, request_id, WIRE_UNAVAILABLE, "");
        return;
    }
    //  With ROUTER_MANDATORY a send to a child whose connection is gone fails now,
    //  and the request is answered instead of vanishing.
    if (children_send(self->children, hop, msg) != 0) {
        log_debug("child %d unreachable: %s", hop, strerror(errno));
        s_reply(self, request_id, WIRE_UNAVAILABLE, "");
    }
}

//  A child not ready by its create's deadline was already reported failed: a process
//  nobody knows of must not live on.
static int s_on_create_deadline(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    worker_t *self = (worker_t *)arg;
    for (child_t *child = children_first(self->children); child;
         child = children_next(self->children))
        if (child->create_timer == timer_id) {
            child->create_timer = 0;
            if (!child->ready && child->create_request) {
                log_info("child %d not ready by its deadline; ending it", child->id);
                child->create_request = 0;
                children_kill(self->children, child);
            }
            break;
        }
    return 0;
}

//  In a binary search tree a request names its target and each node sends it left
//  (smaller ids) or right (greater ids): no node needs a path or a table.
static void s_forward_by_key(worker_t *self, zmsg_t **msg, const wire_header_t *header)
{
    if (!self->config.bst) {
        log_dropped("dropped a %s for node %d with no path", wire_type_name(header->type),
                    header->node);
        zmsg_destroy(msg);
        return;
    }
    bool left = header->node < self->config.id;
    child_t *next = NULL;
    for (child_t *child = children_first(self->children); child;
         child = children_next(self->children))
        if ((child->id < self->config.id) == left)
            next = child;
    if (!next || !next->ready || children_send(self->children, next->id, msg) != 0) {
        log_debug("no %s child to forward to node %d", left ? "left" : "right",
                  header->node);
        zmsg_destroy(msg);
        s_reply(self, header->request_id, WIRE_UNAVAILABLE, "");
    }
}

static void s_create(worker_t *self, const wire_header_t *header, int32_t id)
{
    //  The controller asks for an id it has no node of: a process of ours with that
    //  id is left from a create it reported failed. children_spawn ends it, so
    //  that one id never has two live processes.
    if (children_find(self->children, id))
        log_info("child %d is left from a failed create; replacing it", id);
    child_t *child = children_spawn(self->children, id);
    if (!child) {
        char *text = children_spawn_error(self->children, errno);
        s_reply(self, header->request_id, WIRE_ERROR, text);
        free(text);
        return;
    }
    log_debug("spawned child %d, pid %d", id, (int)child->pid);
    child->create_request = header->request_id;
    child->create_deadline_us = header->deadline_us;
    if (header->deadline_us)
        child->create_timer =
            zloop_timer(self->loop, wire_delay_ms(header->deadline_us, wire_now_us()), 1,
                        s_on_create_deadline, self);
}

static void s_remove(worker_t *self, const wire_header_t *header, int32_t id, int32_t pid)
{
    child_t *child = children_find(self->children, id);
    //  A pid names one process: the controller cleaning up after a create it
    //  reported failed must not end a newer process of the same id.
    if (!child || (pid && child->pid != pid)) {
        s_reply(self, header->request_id, WIRE_OK, "");
        return;
    }
    //  Answered when the child is reaped; its own children follow it through their
    //  parent-death signal.
    child->remove_request = header->request_id;
    child->create_request = 0;
    children_kill(self->children, child);
}

//  --- pingall: answered for the whole subtree, gathered level by level ----------

static const char *s_fanout_key(uint64_t request_id, char *buffer, size_t size)
{
    snprintf(buffer, size, "%" PRIu64, request_id);
    return buffer;
}

static void s_fanout_end(worker_t *self, fanout_t *fanout)
{
    if (fanout->timer_id)
        zloop_timer_end(self->loop, fanout->timer_id);
    char key[24];
    //  The table owns the fanout once it is in it.
    if (zhashx_lookup(self->fanouts, s_fanout_key(fanout->request_id, key, sizeof key)))
        zhashx_delete(self->fanouts, key);
    else
        fanout_destroy(&fanout);
}

static void s_fanout_reply(worker_t *self, fanout_t *fanout, wire_status_t status)
{
    zmsg_t *reply =
        wire_reply_new(fanout->request_id, self->config.id, status,
                       (const char *)zchunk_data(fanout->ids), zchunk_size(fanout->ids));
    s_send_up(self, &reply);
}

//  Sends up what was gathered since the last answer: the last answer once no child
//  is awaited (and then the fanout ends), a partial one otherwise.
static void s_fanout_send(worker_t *self, fanout_t *fanout)
{
    if (fanout_done(fanout)) {
        s_fanout_reply(self, fanout, WIRE_OK);
        s_fanout_end(self, fanout);
    } else {
        s_fanout_reply(self, fanout, WIRE_PARTIAL);
        fanout_sent(fanout);
    }
}

static int s_on_fanout_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    worker_t *self = (worker_t *)arg;
    for (fanout_t *fanout = (fanout_t *)zhashx_first(self->fanouts); fanout;
         fanout = (fanout_t *)zhashx_next(self->fanouts))
        if (fanout->timer_id == timer_id) {
            //  The timer is spent: nothing to cancel.
            fanout->timer_id = 0;
            if (fanout->answered) {
                log_debug("pingall %" PRIu64 ": no more waiting for silent children",
                          fanout->request_id);
                s_fanout_end(self, fanout);
                break;
            }
            //  Our deadline: we answer with what we have, and pass late answers up
            //  for as long again as we had. The controller's own deadline, after
            //  ours by its reserve and the levels' shares, is well within that.
            //  (Sending the last answer ends the fanout: nothing of it is read after.)
            size_t linger_ms = wire_delay_ms(fanout->deadline_us, fanout->asked_us);
            bool last = fanout_done(fanout);
            s_fanout_send(self, fanout);
            if (!last)
                fanout->timer_id =
                    zloop_timer(self->loop, linger_ms, 1, s_on_fanout_timer, self);
            break;
        }
    return 0;
}

static void s_pingall(worker_t *self, const wire_header_t *header)
{
    int64_t now = wire_now_us();
    fanout_t *fanout = fanout_new(header->request_id, header->deadline_us);
    fanout->asked_us = now;
    fanout_add_id(fanout, self->config.id);
    wire_header_t down = {WIRE_PINGALL, header->request_id,
                          fanout_child_deadline(header->deadline_us, now), 0};
    children_fan_out(self->children, &down, NULL, fanout);
    if (fanout_done(fanout) || !header->deadline_us) {
        s_fanout_reply(self, fanout, WIRE_OK);
        s_fanout_end(self, fanout);
        return;
    }
    fanout->timer_id = zloop_timer(self->loop, wire_delay_ms(header->deadline_us, now), 1,
                                   s_on_fanout_timer, self);
    char key[24];
    zhashx_insert(self->fanouts, s_fanout_key(header->request_id, key, sizeof key),
                  fanout);
}

//  A child's subtree answered a pingall of ours. Returns false if the reply is not
//  for one of our fanouts (then it is someone else's, to pass up).
static bool s_pingall_answer(worker_t *self, child_t *child, const wire_header_t *header,
                             zmsg_t *msg)
{
    char key[24];
    fanout_t *fanout = (fanout_t *)zhashx_lookup(
        self->fanouts, s_fanout_key(header->request_id, key, sizeof key));
    if (!fanout)
        return false;
    zframe_t *ids = wire_frame(msg, 2);
    bool complete = *zframe_data(wire_frame(msg, 1)) != WIRE_PARTIAL;
    if (header->node != child->id ||
        !fanout_answer(fanout, child->id, zframe_data(ids), zframe_size(ids), complete))
        log_dropped("dropped a malformed pingall answer from child %d", child->id);
    else if (fanout->answered || fanout_done(fanout))
        //  Once our own answer went up, late ones follow it at once.
        s_fanout_send(self, fanout);
    return true;
}

//  A child ended or stopped: the pingalls waiting for it wait no more.
static void s_pingall_forget(worker_t *self, int32_t child)
{
    zlist_t *finished = zlist_new();
    for (fanout_t *fanout = (fanout_t *)zhashx_first(self->fanouts); fanout;
         fanout = (fanout_t *)zhashx_next(self->fanouts))
        if (fanout_forget(fanout, child) && fanout_done(fanout))
            zlist_append(finished, fanout);
    for (fanout_t *fanout = (fanout_t *)zlist_first(finished); fanout;
         fanout = (fanout_t *)zlist_next(finished))
        s_fanout_send(self, fanout);
    zlist_destroy(&finished);
}

//  --- heartbeat --------------------------------------------------------------------

static void s_child_event(worker_t *self, child_t *child, int kind)
{
    wire_event_body_t event = {(uint8_t)kind, child->id, (int32_t)child->pid, 0};
    zmsg_t *msg = wire_event_new(self->config.id, &event);
    s_send_up(self, &msg);
    //  After the event: the controller then knows why before a pingall answer that
    //  leaves the child out reaches it, and the two never disagree.
    if (event.kind != WIRE_CHILD_CONTINUED)
        s_pingall_forget(self, child->id);
}

//  Each interval: our own beat up, and a look at our children's. Only changes go
//  further up, so the controller hears one beat per child of its own however big
//  the tree is.
static int s_on_beat(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    worker_t *self = (worker_t *)arg;
    zmsg_t *beat = wire_beat_new(self->config.id);
    s_send_up(self, &beat);
    int64_t now = zclock_mono();
    //  A tick this late means this process was stopped (or starved): the children's
    //  beats are waiting unread in our queue, so their silence is ours, not theirs.
    bool stalled = now - self->last_tick_ms > 2 * (int64_t)self->heartbeat_ms;
    self->last_tick_ms = now;
    for (child_t *child = children_first(self->children); child;
         child = children_next(self->children))
        if (stalled)
            child->last_beat_ms = now;
        else if (child->ready && !child->lost &&
                 now - child->last_beat_ms > (int64_t)BEATS_MISSED * self->heartbeat_ms) {
            child->lost = true;
            log_info("child %d (pid %d): no heartbeat for %" PRId64 " ms", child->id,
                     (int)child->pid, (int64_t)BEATS_MISSED * self->heartbeat_ms);
            s_child_event(self, child, WIRE_CHILD_LOST);
        }
    return 0;
}

static void s_child_beat(worker_t *self, child_t *child)
{
    child->last_beat_ms = zclock_mono();
    if (child->lost) {
        child->lost = false;
        log_info("child %d (pid %d): heartbeats again", child->id, (int)child->pid);
        s_child_event(self, child, WIRE_CHILD_BACK);
    }
}

static void s_send_heartbeat_config(worker_t *self, int32_t child)
{
    wire_header_t header = {WIRE_HEARTBEAT, 0, 0, child};
    zmsg_t *msg = wire_request_new(&header, NULL, 0);
    wire_add_i32(msg, self->heartbeat_ms);
    children_send(self->children, child, &msg);
}

static void s_heartbeat(worker_t *self, int32_t interval_ms)
{
    if (self->heartbeat_timer)
        zloop_timer_end(self->loop, self->heartbeat_timer);
    self->heartbeat_timer = 0;
    self->heartbeat_ms = interval_ms > 0 ? interval_ms : 0;
    int64_t now = zclock_mono();
    for (child_t *child = children_first(self->children); child;
         child = children_next(self->children)) {
        child->last_beat_ms = now;
        child->lost = false;
        if (child->ready)
            s_send_heartbeat_config(self, child->id);
    }
    self->last_tick_ms = now;
    if (self->heartbeat_ms) {
        self->heartbeat_timer =
            zloop_timer(self->loop, (size_t)self->heartbeat_ms, 0, s_on_beat, self);
        zmsg_t *beat = wire_beat_new(self->config.id);
        s_send_up(self, &beat);
    }
}

//  --- requests from above ----------------------------------------------------------

static void s_handle_request(worker_t *self, zmsg_t **msg)
{
    wire_header_t header;
    const char *reason = "not a request";
    if (wire_validate(*msg, &header, &reason) != 0 || !wire_is_request(header.type)) {
        log_dropped("dropped a message from the parent: %s", reason);
        zmsg_destroy(msg);
        return;
    }
    if (header.deadline_us && wire_now_us() > header.deadline_us) {
        log_debug("dropped a %s whose deadline passed", wire_type_name(header.type));
        zmsg_destroy(msg);
        return;
    }
    if (wire_path_hops(wire_frame(*msg, 1)) > 0) {
        s_forward_down(self, msg, header.request_id);
        return;
    }
    if (header.node != self->config.id) {
        s_forward_by_key(self, msg, &header);
        return;
    }
    switch (header.type) {
        case WIRE_PING:
            s_reply(self, header.request_id, WIRE_OK, "");
            break;
        case WIRE_EXEC: {
            zframe_t *frame = zmsg_pop(*msg);
            zframe_destroy(&frame);
            frame = zmsg_pop(*msg);
            zframe_destroy(&frame);
            zframe_t *op = zmsg_pop(*msg);
            zframe_t *args = zmsg_pop(*msg);
            char *result = NULL;
            int rc = op_runner_run_here(self->runner, op, args, &result);
            if (rc == -2)
                op_runner_submit(self->runner, header.request_id, header.deadline_us, &op,
                                 &args);
            else {
                s_reply(self, header.request_id, rc == 0 ? WIRE_OK : WIRE_ERROR, result);
                free(result);
                zframe_destroy(&op);
                zframe_destroy(&args);
            }
            break;
        }
        case WIRE_CREATE:
            s_create(self, &header, wire_frame_i32(wire_frame(*msg, 2)));
            break;
        case WIRE_REMOVE:
            s_remove(self, &header, wire_frame_i32(wire_frame(*msg, 2)),
                     wire_frame_i32(wire_frame(*msg, 3)));
            break;
        case WIRE_PINGALL:
            s_pingall(self, &header);
            break;
        case WIRE_HEARTBEAT:
            s_heartbeat(self, wire_frame_i32(wire_frame(*msg, 2)));
            break;
    }
    zmsg_destroy(msg);
}

#ifdef MQTREE_COVERAGE
static int s_on_coverage_flush(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    worker_t *self = (worker_t *)arg;
    self->flush_due = false;
    coverage_flush();
    return 0;
}
#endif

//  Called by each reader. A coverage build's worker never reaches exit(), where gcov
//  writes its counts (it ends by SIGKILL): it writes them itself, COVERAGE_FLUSH_MS
//  after being woken, and not while idle. In other builds this is nothing.
static void s_woken(worker_t *self)
{
#ifdef MQTREE_COVERAGE
    if (!self->flush_due) {
        self->flush_due = true;
        zloop_timer(self->loop, COVERAGE_FLUSH_MS, 1, s_on_coverage_flush, self);
    }
#else
    (void)self;
#endif
}

static int s_on_upstream(zloop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    worker_t *self = (worker_t *)arg;
    s_woken(self);
    for (int count = 0; count < BATCH && (zsock_events(reader) & ZMQ_POLLIN); count++) {
        zmsg_t *msg = zmsg_recv(reader);
        if (!msg)
            break;
        s_handle_request(self, &msg);
    }
    return 0;
}

static void s_hello(worker_t *self, child_t *child, const wire_header_t *header,
                    zmsg_t *msg)
{
    if (!children_hello(self->children, child, header, msg))
        return;
    child->last_beat_ms = zclock_mono();
    if (child->create_timer)
        zloop_timer_end(self->loop, child->create_timer);
    child->create_timer = 0;
    if (self->heartbeat_ms)
        s_send_heartbeat_config(self, child->id);
    if (!child->create_request)
        return;
    uint64_t request = child->create_request;
    child->create_request = 0;
    if (child->create_deadline_us && wire_now_us() > child->create_deadline_us) {
        //  Its create was already reported failed: a process nobody knows of must
        //  not live on.
        log_info("child %d was ready after its deadline; ending it", child->id);
        children_kill(self->children, child);
        return;
    }
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)child->pid);
    s_reply(self, request, WIRE_OK, pid);
}

//  A reply from below over --max-reply is answered "Reply too large" here instead
//  of being passed up: our own children cap what they build, so only a faulty or
//  hostile process sends one, and no level above should hold it.
static bool s_reply_too_large(worker_t *self, const wire_header_t *header, zmsg_t *msg)
{
    size_t size = zframe_size(wire_frame(msg, 2));
    if (!self->config.max_reply || size <= self->config.max_reply)
        return false;
    log_dropped("dropped a reply of %zu bytes from node %d: over --max-reply", size,
                header->node);
    const char *text = "Reply too large";
    if (wire_send_reply(self->upstream, header->request_id, header->node, WIRE_ERROR,
                        text, strlen(text)) != 0)
        log_warn("could not send to the parent: %s", strerror(errno));
    return true;
}

static int s_on_downstream(zloop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    (void)reader;
    worker_t *self = (worker_t *)arg;
    s_woken(self);
    zmsg_t *msg;
    child_t *child;
    wire_header_t header;
    for (int count = 0, rc; count < BATCH; count++) {
        if ((rc = children_recv(self->children, &msg, &child, &header)) < 0)
            break;
        if (rc == 0)
            continue;
        if (header.type == WIRE_HELLO)
            s_hello(self, child, &header, msg);
        else if (header.type == WIRE_BEAT)
            s_child_beat(self, child);
        else if (header.type == WIRE_REPLY && s_pingall_answer(self, child, &header, msg))
            ;
        else if (header.type == WIRE_REPLY && s_reply_too_large(self, &header, msg))
            ;
        else if (header.type == WIRE_REPLY || header.type == WIRE_EVENT) {
            s_send_up(self, &msg);
            continue;
        } else
            log_dropped("dropped a %s from child %d", wire_type_name(header.type),
                        child->id);
        zmsg_destroy(&msg);
    }
    return 0;
}

//  Results of the op thread go up as they come, a batch per wake-up: a burst of
//  small ops must not wait a poll round each on its way to the controller, whose
//  deadline is running.
static int s_on_runner(zloop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    worker_t *self = (worker_t *)arg;
    s_woken(self);
    for (int count = 0; count < BATCH && (zsock_events(reader) & ZMQ_POLLIN); count++) {
        zmsg_t *result = zmsg_recv(reader);
        if (!result)
            break;
        op_runner_taken(self->runner);
        if (zmsg_size(result) != 3) {
            //  An exec dropped unrun (its deadline passed): nobody waits for it.
            zmsg_destroy(&result);
            continue;
        }
        zframe_t *id = zmsg_first(result);
        zframe_t *status = zmsg_next(result);
        zframe_t *text = zmsg_next(result);
        zmsg_t *reply =
            wire_reply_new(wire_get_u64(zframe_data(id)), self->config.id,
                           (wire_status_t)*zframe_data(status),
                           (const char *)zframe_data(text), zframe_size(text));
        zmsg_destroy(&result);
        s_send_up(self, &reply);
    }
    return 0;
}

static void s_on_child(void *arg, child_t *child, pid_t pid, int status)
{
    worker_t *self = (worker_t *)arg;
    if (!child) {
        log_debug("reaped pid %d, not a child node", (int)pid);
        return;
    }
    wire_event_body_t event = {0, child->id, (int32_t)pid, status};
    if ((WIFEXITED(status) || WIFSIGNALED(status)) && child->create_timer)
        zloop_timer_end(self->loop, child->create_timer);
    if (WIFSTOPPED(status)) {
        log_info("child %d (pid %d) stopped by signal %d", child->id, (int)pid,
                 WSTOPSIG(status));
        event.kind = WIRE_CHILD_STOPPED;
    } else if (WIFCONTINUED(status)) {
        log_info("child %d (pid %d) continued", child->id, (int)pid);
        event.kind = WIRE_CHILD_CONTINUED;
    } else if (child->remove_request) {
        s_reply(self, child->remove_request, WIRE_OK, "");
        s_pingall_forget(self, child->id);
        return;
    } else if (child->create_request) {
        s_reply(self, child->create_request, WIRE_ERROR,
                "The worker exited before it was ready");
        return;
    } else {
        //  A child's death is news for the user, not a fault of this node: info.
        if (WIFSIGNALED(status))
            log_info("child %d (pid %d) killed by signal %d", child->id, (int)pid,
                     WTERMSIG(status));
        else
            log_info("child %d (pid %d) exited with status %d", child->id, (int)pid,
                     WEXITSTATUS(status));
        event.kind = WIRE_CHILD_EXITED;
    }
    zmsg_t *msg = wire_event_new(self->config.id, &event);
    s_send_up(self, &msg);
    //  After the event: the controller then knows why before a pingall answer that
    //  leaves the child out reaches it, and the two never disagree.
    if (event.kind != WIRE_CHILD_CONTINUED)
        s_pingall_forget(self, child->id);
}

static int s_on_signal(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    worker_t *self = (worker_t *)arg;
    while (process_signalfd_read(item->fd) > 0)
        ;
    children_reap(self->children, s_on_child, self);
    return 0;
}

static int s_on_parent_check(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    worker_t *self = (worker_t *)arg;
    if (getppid() != self->config.parent_pid) {
        log_info("parent process %d is gone; exiting", (int)self->config.parent_pid);
        return -1;
    }
    return 0;
}

static int s_on_parent_exit(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    worker_t *self = (worker_t *)arg;
    log_info("parent process %d is gone; exiting", (int)self->config.parent_pid);
    return -1;
}

worker_t *worker_new(const worker_config_t *config)
{
    worker_t *self = (worker_t *)zmalloc(sizeof(worker_t));
    self->config = *config;
    self->worker_path = process_worker_path();
    if (!self->worker_path) {
        log_error("cannot find mqtree-worker next to this binary");
        goto error;
    }
    children_config_t children_config = {
        config->id,  self->worker_path, config->run_dir,      config->tcp,
        config->bst, config->log_level, config->children_max, config->max_reply};
    self->children = children_new(&children_config);
    if (!self->children) {
        log_error("cannot bind an endpoint for children: %s", strerror(errno));
        goto error;
    }
    //  Out of descriptors or ZeroMQ sockets: exit, and the parent answers the create.
    self->upstream = zsock_new(ZMQ_DEALER);
    if (!self->upstream) {
        log_error("cannot open a socket to the parent: %s", strerror(errno));
        goto error;
    }
    char identity[16];
    snprintf(identity, sizeof identity, "%d", config->id);
    zsock_set_identity(self->upstream, identity);
    zsock_set_sndhwm(self->upstream, 0);
    zsock_set_rcvhwm(self->upstream, 0);
    zsock_set_linger(self->upstream, 0);
    if (zsock_connect(self->upstream, "%s", config->parent_endpoint) != 0) {
        log_error("cannot connect to %s", config->parent_endpoint);
        goto error;
    }
    self->runner = op_runner_new();
    if (!self->runner) {
        log_error("cannot start the op thread");
        goto error;
    }
    op_runner_set_reply_max(self->runner, config->max_reply);
    self->fanouts = zhashx_new();
    zhashx_set_destructor(self->fanouts, (zhashx_destructor_fn *)fanout_destroy);
    self->loop = zloop_new();
    zloop_set_nonstop(self->loop, true);
    zloop_reader(self->loop, self->upstream, s_on_upstream, self);
    zloop_reader(self->loop, children_router(self->children), s_on_downstream, self);
    zloop_reader(self->loop, op_runner_sock(self->runner), s_on_runner, self);
    zmq_pollitem_t signals = {NULL, config->signal_fd, ZMQ_POLLIN, 0};
    zloop_poller(self->loop, &signals, s_on_signal, self);
    if (config->parent_fd >= 0) {
        zmq_pollitem_t parent = {NULL, config->parent_fd, ZMQ_POLLIN, 0};
        zloop_poller(self->loop, &parent, s_on_parent_exit, self);
    } else
        zloop_timer(self->loop, PARENT_CHECK_MS, 0, s_on_parent_check, self);
    return self;
error:
    worker_destroy(&self);
    return NULL;
}

void worker_destroy(worker_t **self_p)
{
    worker_t *self = *self_p;
    if (!self)
        return;
    zloop_destroy(&self->loop);
    op_runner_destroy(&self->runner);
    zhashx_destroy(&self->fanouts);
    children_destroy(&self->children);
    zsock_destroy(&self->upstream);
    free(self->worker_path);
    free(self);
    *self_p = NULL;
}

int worker_run(worker_t *self)
{
    zmsg_t *hello = wire_hello_new(self->config.id, (int32_t)getpid());
    s_send_up(self, &hello);
    zloop_start(self->loop);
    return 0;
}
