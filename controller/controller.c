/*  controller — the controller core (see controller.h). */
#define _GNU_SOURCE
#include "controller.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/children.h"
#include "../common/idmap.h"
#include "../common/numbers.h"
#include "../common/process.h"
#include "../common/wire.h"
#include "heartbeat.h"
#include "requests.h"
#include "topology.h"
#include "waiting.h"

//  Messages handled per wake-up of the ROUTER, so stdin and signals are not starved.
#define BATCH 256

//  How a request ended when no reply said otherwise.
#define TIMED_OUT -1

struct _controller_t {
    controller_config_t config;
    zloop_t *loop;
    controller_output_fn *output;
    void *output_arg;
    children_t *children;
    topology_t *topology;
    requests_t *requests;
    waiting_t *waiting; //  commands waiting for a create or remove in flight
    int timer_id;       //  0 when no deadline timer is armed
    int64_t timer_at;
    zhashx_t *pingalls; //  request id (as text) -> fanout_t over our children
    heartbeat_t *heartbeat;
    int heartbeat_timer;
};

static void s_execute(controller_t *self, command_t *command, uint64_t seq);

static void s_say(controller_t *self, uint64_t seq, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void s_say(controller_t *self, uint64_t seq, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *line = NULL;
    if (vasprintf(&line, format, args) < 0)
        abort();
    va_end(args);
    self->output(self->output_arg, seq, line);
    free(line);
}

//  A node a command may address: any but the controller itself.
static node_t *s_node(controller_t *self, int32_t id)
{
    return id == TOPOLOGY_ROOT ? NULL : topology_find(self->topology, id);
}

//  --- Deadlines ---------------------------------------------------------------------

static int s_on_deadline(zloop_t *loop, int timer_id, void *arg);

//  Keeps one one-shot timer armed for the earliest deadline. It may fire early (the
//  earliest request was answered meanwhile): then it only re-arms.
static void s_arm(controller_t *self)
{
    int64_t next = requests_next_deadline(self->requests);
    if (next < 0 || (self->timer_id && self->timer_at <= next))
        return;
    if (self->timer_id)
        zloop_timer_end(self->loop, self->timer_id);
    self->timer_id = zloop_timer(self->loop, wire_delay_ms(next, wire_now_us()), 1,
                                 s_on_deadline, self);
    self->timer_at = next;
}

//  --- Sending ------------------------------------------------------------------------

static void s_complete(controller_t *self, request_t *request, int status,
                       const char *text);

//  Sends a request to target along the path the topology gives; body frames follow
//  the path frame. A send that fails (the first hop's connection is gone) answers
//  the request as unavailable at once.
#define BODY_MAX 2

static void s_send(controller_t *self, request_t *request, int type, node_t *target,
                   const wire_part_t *body, size_t body_parts)
{
    int32_t *hops = (int32_t *)malloc(target->depth * sizeof(int32_t));
    topology_path(target, hops);
    wire_header_t header = {(uint8_t)type, request->id, request->deadline_us, target->id};
    byte encoded[WIRE_HEADER_SIZE];
    wire_header_encode(encoded, &header);
    //  In a binary search tree each node routes by key: the path stays empty.
    size_t below = self->config.bst ? 0 : target->depth - 1;
    //  The first hop is our child on the way; the path lists the hops below it.
    char first_hop[16];
    int first_length = snprintf(first_hop, sizeof first_hop, "%d", hops[0]);
    byte *path = (byte *)malloc(below * 4 + 1);
    for (size_t hop = 0; hop < below; hop++)
        wire_put_u32(path + hop * 4, (uint32_t)hops[hop + 1]);
    wire_part_t parts[3 + BODY_MAX] = {{first_hop, (size_t)first_length, NULL, NULL},
                                       {encoded, sizeof encoded, NULL, NULL},
                                       {path, below * 4, NULL, NULL}};
    for (size_t index = 0; index < body_parts; index++)
        parts[3 + index] = body[index];
    int rc = wire_send_parts(children_router(self->children), parts, 3 + body_parts);
    free(path);
    free(hops);
    if (rc != 0) {
        log_debug("cannot send to node %d: %s", target->id, strerror(errno));
        s_complete(self, request, WIRE_UNAVAILABLE, "");
    }
}

//  A request body of one 4-byte id.
static void s_send_id(controller_t *self, request_t *request, int type, node_t *target,
                      int32_t id)
{
    byte encoded[4];
    wire_put_u32(encoded, (uint32_t)id);
    wire_part_t body = {encoded, 4, NULL, NULL};
    s_send(self, request, type, target, &body, 1);
}

static request_t *s_request(controller_t *self, int kind, uint64_t seq, int32_t node,
                            int32_t target)
{
    int64_t deadline = wire_now_us() + (int64_t)self->config.timeout_ms * 1000;
    request_t *request = requests_add(self->requests, kind, seq, node, target, deadline);
    s_arm(self);
    return request;
}

//  --- Forgetting nodes ---------------------------------------------------------------

static void s_unlink_socket(node_t *node, void *arg)
{
    controller_t *self = (controller_t *)arg;
    char *path = children_ipc_path(self->config.run_dir, node->id);
    unlink(path);
    free(path);
}

static void s_kill_process(node_t *node, void *arg)
{
    (void)arg;
    //  Only a process not yet reaped: its pid cannot have been reused. The root is
    //  the controller itself.
    if (node->parent && node->pid > 0 && !node->reaped)
        kill(node->pid, SIGKILL);
}

static void s_forget(controller_t *self, node_t *node)
{
    if (!self->config.tcp)
        topology_walk(node, s_unlink_socket, self);
    topology_remove(self->topology, node);
}

//  --- Answers ------------------------------------------------------------------------

static void s_create_done(controller_t *self, request_t *request, int status,
                          const char *text)
{
    node_t *node = s_node(self, request->node);
    if (status == WIRE_OK && node) {
        int32_t pid = 0;
        id_parse(text, &pid);
        node->pid = pid;
        node->state = NODE_UP;
        s_say(self, request->seq, "Ok: %d", pid);
        return;
    }
    if (request->target == TOPOLOGY_ROOT) {
        //  Our own child: one that is still starting is ended here, so that no
        //  process lives on that the topology does not know.
        child_t *child = children_find(self->children, request->node);
        if (child && child->create_request == request->id) {
            child->create_request = 0;
            children_kill(self->children, child);
        }
    }
    if (node)
        topology_remove(self->topology, node);
    if (status == WIRE_ERROR)
        s_say(self, request->seq, "Error: %s", text);
    else
        s_say(self, request->seq, "Error: Parent is unavailable");
}

static void s_remove_done(controller_t *self, request_t *request, int status)
{
    node_t *node = s_node(self, request->node);
    if (node) {
        //  The parent did not confirm (it is stopped, dead or slow): end the
        //  processes directly; their parent reaps them when it can.
        if (status != WIRE_OK)
            topology_walk(node, s_kill_process, NULL);
        s_forget(self, node);
    }
    s_say(self, request->seq, "Ok");
}

static const char *s_request_key(uint64_t id, char *buffer, size_t size)
{
    snprintf(buffer, size, "%" PRIu64, id);
    return buffer;
}

typedef struct {
    zhashx_t *answered; //  idmap of the ids that answered
    int32_t *missing;   //  the others
    size_t count;
} pingall_result_t;

static void s_pingall_collect(node_t *node, void *arg)
{
    pingall_result_t *result = (pingall_result_t *)arg;
    if (node->parent && !zhashx_lookup(result->answered, idmap_key(node->id)))
        result->missing[result->count++] = node->id;
}

static int s_compare_ids(const void *a, const void *b)
{
    int32_t left = *(const int32_t *)a, right = *(const int32_t *)b;
    return (left > right) - (left < right);
}

//  Every node that did not answer, ascending: the dead, the stopped, those that
//  missed the deadline, and all that lie behind them.
static void s_pingall_done(controller_t *self, request_t *request)
{
    char key[24];
    s_request_key(request->id, key, sizeof key);
    fanout_t *fanout = (fanout_t *)zhashx_lookup(self->pingalls, key);
    pingall_result_t result = {idmap_new(), NULL, 0};
    size_t answers = fanout ? zchunk_size(fanout->ids) / 4 : 0;
    for (size_t i = 0; i < answers; i++) {
        int32_t id = (int32_t)wire_get_u32(zchunk_data(fanout->ids) + i * 4);
        zhashx_update(result.answered, idmap_key(id), (void *)1);
    }
    zhashx_delete(self->pingalls, key);
    result.missing =
        (int32_t *)malloc((topology_size(self->topology) + 1) * sizeof(int32_t));
    topology_walk(topology_root(self->topology), s_pingall_collect, &result);
    zhashx_destroy(&result.answered);
    qsort(result.missing, result.count, sizeof(int32_t), s_compare_ids);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    fputs(result.count ? "Ok: " : "Ok: -1", out);
    for (size_t i = 0; i < result.count; i++)
        fprintf(out, i ? ";%d" : "%d", result.missing[i]);
    fclose(out);
    s_say(self, request->seq, "%s", text);
    free(result.missing);
    free(text);
}

//  Ends a request: prints its result line, updates the topology, frees it.
static void s_complete(controller_t *self, request_t *request, int status,
                       const char *text)
{
    switch (request->kind) {
        case CMD_CREATE:
            s_create_done(self, request, status, text);
            break;
        case CMD_REMOVE:
            s_remove_done(self, request, status);
            break;
        case CMD_EXEC:
            if (status == WIRE_OK && *text)
                s_say(self, request->seq, "Ok:%d: %s", request->node, text);
            else if (status == WIRE_OK)
                s_say(self, request->seq, "Ok:%d", request->node);
            else if (status == WIRE_ERROR)
                s_say(self, request->seq, "Error:%d: %s", request->node, text);
            else
                s_say(self, request->seq, "Error:%d: Node is unavailable", request->node);
            break;
        case CMD_PING:
            s_say(self, request->seq, "Ok: %d", status == WIRE_OK);
            break;
        case CMD_PINGALL:
            s_pingall_done(self, request);
            break;
    }
    requests_remove(self->requests, request);
    waiting_release(self->waiting);
}

//  Every request whose way down passes through node can no longer be answered.
static void s_fail_through(controller_t *self, node_t *node)
{
    //  Ids first, then answers: answering one request may end or start others.
    zlist_t *pending = requests_snapshot(self->requests);
    size_t count = 0;
    uint64_t *ids = (uint64_t *)malloc((zlist_size(pending) + 1) * sizeof(uint64_t));
    for (request_t *request = (request_t *)zlist_first(pending); request;
         request = (request_t *)zlist_next(pending)) {
        node_t *target = topology_find(self->topology, request->target);
        if (target && topology_within(target, node))
            ids[count++] = request->id;
    }
    zlist_destroy(&pending);
    for (size_t i = 0; i < count; i++) {
        request_t *request = requests_find(self->requests, ids[i]);
        if (request)
            s_complete(self, request, WIRE_UNAVAILABLE, "");
    }
    free(ids);
}

//  A child of ours ended or stopped: the pingalls waiting for it wait no more.
static void s_pingall_forget(controller_t *self, int32_t child)
{
    zlist_t *finished = zlist_new();
    for (fanout_t *fanout = (fanout_t *)zhashx_first(self->pingalls); fanout;
         fanout = (fanout_t *)zhashx_next(self->pingalls))
        if (fanout_forget(fanout, child) && fanout_done(fanout))
            zlist_append(finished, (void *)(uintptr_t)fanout->request_id);
    for (void *id = zlist_first(finished); id; id = zlist_next(finished)) {
        request_t *request = requests_find(self->requests, (uint64_t)(uintptr_t)id);
        if (request)
            s_complete(self, request, WIRE_OK, "");
    }
    zlist_destroy(&finished);
}

static void s_node_event(controller_t *self, node_t *node, int kind, int status)
{
    if ((kind == WIRE_CHILD_EXITED || kind == WIRE_CHILD_STOPPED) &&
        node->parent->id == TOPOLOGY_ROOT)
        s_pingall_forget(self, node->id);
    if (kind == WIRE_CHILD_EXITED) {
        if (WIFSIGNALED(status))
            log_info("node %d (pid %d) was killed by signal %d", node->id, (int)node->pid,
                     WTERMSIG(status));
        else
            log_info("node %d (pid %d) exited with status %d", node->id, (int)node->pid,
                     WEXITSTATUS(status));
        node->state = NODE_DEAD;
        node->reaped = true;
        node->exit_status = status;
        s_fail_through(self, node);
    } else if (kind == WIRE_CHILD_STOPPED && node->state == NODE_UP) {
        log_info("node %d (pid %d) is stopped", node->id, (int)node->pid);
        node->state = NODE_STOPPED;
        s_fail_through(self, node);
    } else if (kind == WIRE_CHILD_CONTINUED && node->state == NODE_STOPPED) {
        log_info("node %d (pid %d) continues", node->id, (int)node->pid);
        node->state = NODE_UP;
    } else if (kind == WIRE_CHILD_LOST || kind == WIRE_CHILD_BACK)
        heartbeat_set_lost(self->heartbeat, node, kind == WIRE_CHILD_LOST);
    heartbeat_update(self->heartbeat);
    waiting_release(self->waiting);
}

//  --- Commands -----------------------------------------------------------------------

static void s_create(controller_t *self, command_t *command, uint64_t seq)
{
    node_t *parent = self->config.bst ? topology_bst_parent(self->topology, command->id)
                                      : topology_find(self->topology, command->parent);
    if (topology_find(self->topology, command->id))
        return s_say(self, seq, "Error: Already exists");
    if (!parent)
        return s_say(self, seq, "Error: Parent not found");
    if (topology_blocker(parent))
        return s_say(self, seq, "Error: Parent is unavailable");
    node_t *node = topology_add(self->topology, command->id, parent);
    if (parent->id != TOPOLOGY_ROOT) {
        request_t *request = s_request(self, CMD_CREATE, seq, node->id, parent->id);
        s_send_id(self, request, WIRE_CREATE, parent, node->id);
        return;
    }
    child_t *child = children_spawn(self->children, node->id);
    if (!child) {
        int error = errno;
        topology_remove(self->topology, node);
        return s_say(self, seq, "Error: Cannot start a worker: %s", strerror(error));
    }
    request_t *request = s_request(self, CMD_CREATE, seq, node->id, TOPOLOGY_ROOT);
    child->create_request = request->id;
    child->create_deadline_us = request->deadline_us;
}

static void s_remove(controller_t *self, command_t *command, uint64_t seq)
{
    node_t *node = s_node(self, command->id);
    if (!node)
        return s_say(self, seq, "Error: Not found");
    node_t *parent = node->parent;
    if (parent->id == TOPOLOGY_ROOT) {
        child_t *child = children_find(self->children, node->id);
        if (!child) {
            s_forget(self, node);
            return s_say(self, seq, "Ok");
        }
        request_t *request = s_request(self, CMD_REMOVE, seq, node->id, TOPOLOGY_ROOT);
        node->state = NODE_REMOVING;
        child->remove_request = request->id;
        child->create_request = 0;
        children_kill(self->children, child);
        return;
    }
    if (topology_blocker(parent)) {
        //  Its parent cannot act on it: end the processes directly.
        topology_walk(node, s_kill_process, NULL);
        s_forget(self, node);
        return s_say(self, seq, "Ok");
    }
    request_t *request = s_request(self, CMD_REMOVE, seq, node->id, parent->id);
    node->state = NODE_REMOVING;
    s_send_id(self, request, WIRE_REMOVE, parent, node->id);
}

//  Argument text from this size on is sent without a copy.
#define ZERO_COPY_MIN 65536

static void s_free_line(void *data, void *hint)
{
    (void)data;
    free(hint);
}

static void s_exec(controller_t *self, command_t *command, uint64_t seq)
{
    node_t *node = s_node(self, command->id);
    if (!node)
        return s_say(self, seq, "Error:%d: Not found", command->id);
    if (topology_blocker(node))
        return s_say(self, seq, "Error:%d: Node is unavailable", command->id);
    request_t *request = s_request(self, CMD_EXEC, seq, node->id, node->id);
    wire_part_t body[] = {{command->op, strlen(command->op), NULL, NULL},
                          {command->args, command->args_length, NULL, NULL}};
    if (command->args_length >= ZERO_COPY_MIN) {
        //  A long line (sum of 10^8 numbers) goes out without a copy: ZeroMQ
        //  frees it once sent, so the controller holds it once, not twice.
        body[1].free_fn = s_free_line;
        body[1].hint = command->line;
        command->line = NULL;
    }
    s_send(self, request, WIRE_EXEC, node, body, 2);
}

static void s_ping(controller_t *self, command_t *command, uint64_t seq)
{
    node_t *node = s_node(self, command->id);
    if (!node)
        return s_say(self, seq, "Error: Not found");
    if (topology_blocker(node))
        return s_say(self, seq, "Ok: 0");
    request_t *request = s_request(self, CMD_PING, seq, node->id, node->id);
    s_send(self, request, WIRE_PING, node, NULL, 0);
}

//  Asks every child of ours that can answer; each answers for its whole subtree.
//  Nodes known dead or stopped are not asked: they and everything behind them are
//  reported at once.
static void s_pingall(controller_t *self, uint64_t seq)
{
    request_t *request = s_request(self, CMD_PINGALL, seq, TOPOLOGY_ROOT, TOPOLOGY_ROOT);
    fanout_t *fanout = fanout_new(request->id, request->deadline_us);
    char key[24];
    zhashx_insert(self->pingalls, s_request_key(request->id, key, sizeof key), fanout);
    wire_header_t header = {WIRE_PINGALL, request->id,
                            fanout_root_deadline(request->deadline_us, wire_now_us()), 0};
    children_fan_out(self->children, &header, NULL, fanout);
    if (fanout_done(fanout))
        s_complete(self, request, WIRE_OK, "");
}

static int s_on_heartbeat_tick(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    controller_t *self = (controller_t *)arg;
    heartbeat_check(self->heartbeat, zclock_mono());
    return 0;
}

static void s_heartbeat(controller_t *self, int interval_ms)
{
    if (self->heartbeat_timer)
        zloop_timer_end(self->loop, self->heartbeat_timer);
    self->heartbeat_timer = 0;
    heartbeat_set_interval(self->heartbeat, interval_ms, zclock_mono());
    zframe_t *body = zframe_new(NULL, 4);
    wire_put_u32(zframe_data(body), (uint32_t)interval_ms);
    wire_header_t header = {WIRE_HEARTBEAT, 0, 0, 0};
    children_fan_out(self->children, &header, body, NULL);
    zframe_destroy(&body);
    if (interval_ms > 0) {
        //  Checking every half interval finds a silence within 4.5 intervals.
        size_t check = (size_t)(interval_ms / 2 > 0 ? interval_ms / 2 : 1);
        self->heartbeat_timer =
            zloop_timer(self->loop, check, 0, s_on_heartbeat_tick, self);
    }
    heartbeat_update(self->heartbeat);
}

static void s_execute(controller_t *self, command_t *command, uint64_t seq)
{
    switch (command->kind) {
        case CMD_CREATE:
            s_create(self, command, seq);
            break;
        case CMD_REMOVE:
            s_remove(self, command, seq);
            break;
        case CMD_EXEC:
            s_exec(self, command, seq);
            break;
        case CMD_PING:
            s_ping(self, command, seq);
            break;
        case CMD_TREE: {
            char *tree =
                controller_tree(self, command->has_id ? command->id : TOPOLOGY_ROOT);
            if (tree)
                s_say(self, seq, "%s", tree);
            else
                s_say(self, seq, "Error: Not found");
            free(tree);
            break;
        }
        case CMD_PINGALL:
            s_pingall(self, seq);
            break;
        case CMD_HEARTBEAT:
            s_heartbeat(self, (int)command->interval_ms);
            s_say(self, seq, "Ok");
            break;
        default:
            s_say(self, seq, "Error: Not a controller command");
            break;
    }
}

void controller_submit(controller_t *self, command_t **command, uint64_t seq)
{
    waiting_submit(self->waiting, command, seq);
}

static void s_run(void *arg, command_t *command, uint64_t seq)
{
    s_execute((controller_t *)arg, command, seq);
}

//  --- Events from the tree ----------------------------------------------------------

static int s_on_deadline(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    controller_t *self = (controller_t *)arg;
    self->timer_id = 0;
    request_t *request;
    while ((request = requests_expired(self->requests, wire_now_us())))
        s_complete(self, request, TIMED_OUT, "");
    s_arm(self);
    return 0;
}

static void s_on_reply(controller_t *self, child_t *child, const wire_header_t *header,
                       zmsg_t *msg)
{
    request_t *request = requests_find(self->requests, header->request_id);
    if (!request) {
        log_debug("dropped a late reply to request %" PRIu64, header->request_id);
        return;
    }
    if (request->kind == CMD_PINGALL) {
        char key[24];
        fanout_t *fanout = (fanout_t *)zhashx_lookup(
            self->pingalls, s_request_key(request->id, key, sizeof key));
        zframe_t *ids = wire_frame(msg, 2);
        bool complete = *zframe_data(wire_frame(msg, 1)) != WIRE_PARTIAL;
        if (header->node != child->id ||
            !fanout_answer(fanout, child->id, zframe_data(ids), zframe_size(ids),
                           complete))
            log_dropped("dropped a pingall answer from node %d", child->id);
        else if (fanout_done(fanout))
            s_complete(self, request, WIRE_OK, "");
        return;
    }
    int32_t expected = request->kind == CMD_EXEC || request->kind == CMD_PING
                           ? request->node
                           : request->target;
    if (header->node != expected) {
        log_dropped("dropped a reply to request %" PRIu64 " from node %d, not %d",
                    header->request_id, header->node, expected);
        return;
    }
    zframe_t *status = wire_frame(msg, 1);
    char *text = zframe_strdup(wire_frame(msg, 2));
    s_complete(self, request, *zframe_data(status), text);
    free(text);
}

static void s_on_event(controller_t *self, const wire_header_t *header, zmsg_t *msg)
{
    wire_event_body_t event;
    wire_event_decode(wire_frame(msg, 1), &event);
    node_t *node = s_node(self, event.child);
    //  An event must come from the node's parent about the process we know: a
    //  report about a process since removed and re-created is stale.
    if (!node || node->parent->id != header->node || node->pid != event.pid) {
        log_debug("dropped an event about node %d from node %d", event.child,
                  header->node);
        return;
    }
    s_node_event(self, node, event.kind, event.code);
}

static void s_on_hello(controller_t *self, child_t *child, const wire_header_t *header,
                       zmsg_t *msg)
{
    if (!children_hello(self->children, child, header, msg))
        return;
    if (heartbeat_interval(self->heartbeat)) {
        wire_header_t config = {WIRE_HEARTBEAT, 0, 0, child->id};
        zmsg_t *msg = wire_request_new(&config, NULL, 0);
        wire_add_i32(msg, heartbeat_interval(self->heartbeat));
        children_send(self->children, child->id, &msg);
    }
    request_t *request = requests_find(self->requests, child->create_request);
    child->create_request = 0;
    if (!request)
        return;
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)child->pid);
    s_complete(self, request, WIRE_OK, pid);
}

static int s_on_router(zloop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    (void)reader;
    controller_t *self = (controller_t *)arg;
    zmsg_t *msg;
    child_t *child;
    wire_header_t header;
    for (int count = 0, rc; count < BATCH; count++) {
        if ((rc = children_recv(self->children, &msg, &child, &header)) < 0)
            break;
        if (rc == 0)
            continue;
        if (header.type == WIRE_HELLO)
            s_on_hello(self, child, &header, msg);
        else if (header.type == WIRE_REPLY)
            s_on_reply(self, child, &header, msg);
        else if (header.type == WIRE_BEAT) {
            node_t *node = s_node(self, child->id);
            if (node && node->pid == child->pid)
                heartbeat_beat(self->heartbeat, node, zclock_mono());
        } else if (header.type == WIRE_EVENT)
            s_on_event(self, &header, msg);
        else
            log_dropped("dropped a %s from node %d", wire_type_name(header.type),
                        child->id);
        zmsg_destroy(&msg);
    }
    return 0;
}

static void s_on_child(void *arg, child_t *child, pid_t pid, int status)
{
    controller_t *self = (controller_t *)arg;
    bool ended = WIFEXITED(status) || WIFSIGNALED(status);
    if (!child) {
        //  We are the subreaper: descendants whose parent died come to us. Their
        //  pid is free again from now on.
        node_t *node = topology_find_pid(self->topology, pid);
        if (node && ended) {
            node->reaped = true;
            //  No Heartbit line here: it died because its parent did, and the
            //  report of that death names the parent first, then this node.
            if (node->state != NODE_DEAD) {
                node->state = NODE_DEAD;
                node->exit_status = status;
            }
        }
        return;
    }
    request_t *request = NULL;
    if (ended && child->remove_request)
        request = requests_find(self->requests, child->remove_request);
    else if (ended && child->create_request)
        request = requests_find(self->requests, child->create_request);
    if (request) {
        s_complete(self, request, request->kind == CMD_REMOVE ? WIRE_OK : WIRE_ERROR,
                   "The worker exited before it was ready");
        return;
    }
    node_t *node = s_node(self, child->id);
    if (!node || node->pid != pid)
        return;
    int kind = ended                ? WIRE_CHILD_EXITED
               : WIFSTOPPED(status) ? WIRE_CHILD_STOPPED
                                    : WIRE_CHILD_CONTINUED;
    s_node_event(self, node, kind, status);
}

void controller_on_sigchld(controller_t *self)
{
    children_reap(self->children, s_on_child, self);
}

//  --- Lifecycle ----------------------------------------------------------------------

controller_t *controller_new(const controller_config_t *config, zloop_t *loop,
                             controller_output_fn *output, void *output_arg)
{
    controller_t *self = (controller_t *)zmalloc(sizeof(controller_t));
    self->config = *config;
    self->loop = loop;
    self->output = output;
    self->output_arg = output_arg;
    children_config_t children_config = {TOPOLOGY_ROOT,   config->worker_path,
                                         config->run_dir, config->tcp,
                                         config->bst,     config->log_level};
    self->children = children_new(&children_config);
    if (!self->children) {
        free(self);
        return NULL;
    }
    self->topology = topology_new(getpid());
    self->requests = requests_new();
    self->pingalls = zhashx_new();
    zhashx_set_destructor(self->pingalls, (zhashx_destructor_fn *)fanout_destroy);
    self->heartbeat = heartbeat_new(self->topology, output, output_arg);
    self->waiting = waiting_new(self->topology, self->requests, config->bst, s_run, self);
    zloop_reader(loop, children_router(self->children), s_on_router, self);
    return self;
}

void controller_destroy(controller_t **self_p)
{
    controller_t *self = *self_p;
    if (!self)
        return;
    zloop_reader_end(self->loop, children_router(self->children));
    if (self->timer_id)
        zloop_timer_end(self->loop, self->timer_id);
    if (self->heartbeat_timer)
        zloop_timer_end(self->loop, self->heartbeat_timer);
    //  Every process we know of gets SIGKILL; processes we do not know of (started
    //  by a create that timed out) follow their parent through its death signal.
    topology_walk(topology_root(self->topology), s_kill_process, NULL);
    children_destroy(&self->children);
    //  As subreaper every orphaned descendant comes to us: wait for all of them, so
    //  that nothing of the tree is left when the controller is gone. Each has been
    //  sent SIGKILL, directly or through its parent's death.
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        ;
    waiting_destroy(&self->waiting);
    requests_destroy(&self->requests);
    zhashx_destroy(&self->pingalls);
    heartbeat_destroy(&self->heartbeat);
    topology_destroy(&self->topology);
    free(self);
    *self_p = NULL;
}

size_t controller_outstanding(controller_t *self)
{
    return requests_size(self->requests) + waiting_size(self->waiting);
}

typedef struct {
    int32_t *ids;
    size_t count;
} id_list_t;

static void s_collect_id(node_t *node, void *arg)
{
    id_list_t *list = (id_list_t *)arg;
    if (node->parent)
        list->ids[list->count++] = node->id;
}

int32_t *controller_ids(controller_t *self, size_t *count)
{
    id_list_t list = {malloc((topology_size(self->topology) + 1) * sizeof(int32_t)), 0};
    topology_walk(topology_root(self->topology), s_collect_id, &list);
    qsort(list.ids, list.count, sizeof(int32_t), s_compare_ids);
    *count = list.count;
    return list.ids;
}

//  --- tree ---------------------------------------------------------------------------

static bool s_busy(void *arg, int32_t id)
{
    return zhashx_lookup((zhashx_t *)arg, idmap_key(id)) != NULL;
}

char *controller_tree(controller_t *self, int32_t id)
{
    node_t *top = topology_find(self->topology, id);
    if (!top)
        return NULL;
    //  Busy: an op in flight on the node.
    zhashx_t *busy = idmap_new();
    zlist_t *pending = requests_snapshot(self->requests);
    for (request_t *request = (request_t *)zlist_first(pending); request;
         request = (request_t *)zlist_next(pending))
        if (request->kind == CMD_EXEC)
            zhashx_update(busy, idmap_key(request->node), (void *)1);
    zlist_destroy(&pending);
    char *text = tree_view_render(top, &self->config.tree_style, s_busy, busy);
    zhashx_destroy(&busy);
    return text;
}
