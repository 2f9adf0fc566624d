/*  controller — the controller core, node -1 (see controller.h): owns turning
    commands into requests down the tree, and replies, deaths, deadlines into results. */
#define _GNU_SOURCE
#include "controller_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/idmap.h"
#include "../common/numbers.h"
#include "../common/process.h"
#include "../common/text.h"
#include "../common/wire.h"
#include "../node/fanout.h"
#include "../common/mem.h"

static void s_execute(controller_t *self, command_t *command, uint64_t seq);

typedef struct {
    int32_t node;
    int32_t parent;
} tombstone_t;

//  A node a command may address: any but the controller itself.
topo_node_t *controller_node(controller_t *self, int32_t id)
{
    return id == TOPOLOGY_ROOT ? NULL : topology_find(self->topology, id);
}

void controller_node_up(topo_node_t *node, int32_t pid, const char *endpoint)
{
    node->pid = pid;
    free(node->endpoint);
    node->endpoint = *endpoint ? mem_strdup(endpoint) : NULL;
    node->state = NODE_UP;
}

//  --- Deadlines ---------------------------------------------------------------------

static int64_t s_now(controller_t *self)
{
    return timers_now(self->timers);
}

static void s_on_deadline(void *arg, int timer_id);

//  Keeps one one-shot timer armed for the earliest deadline. It may fire early (the
//  earliest request was answered meanwhile): then it only re-arms.
static void s_arm(controller_t *self)
{
    int64_t next = requests_next_deadline(self->requests);
    if (next < 0 || (self->timer_id && self->timer_at <= next))
        return;
    timers_cancel(self->timers, self->timer_id);
    self->timer_id = timers_add(self->timers, next, s_on_deadline, self);
    self->timer_at = next;
}

//  --- Sending ------------------------------------------------------------------------

static void s_complete(controller_t *self, request_t *request, int status,
                       const char *text);

//  Sends a request to target along the path the topology gives; body frames follow
//  the path frame. A send that fails (the first hop's connection is gone) answers
//  the request as unavailable at once.
#define BODY_MAX 2

//  What the nodes are given: the controller's deadline less a margin, so the node
//  that would run the request gives up before the controller reports it failed, and
//  its answer has time to climb back: ≈ 0.1 ms a level on an idle machine, but tens
//  of milliseconds when the threads and processes on the way wait for a core. At
//  most once rests on it: work a node starts by its deadline must be answered by the
//  controller's. A quarter of the timeout (at most 500 ms) is kept for the way back.
#define MARGIN_MAX_MS 500

//  A create keeps less: a child that comes up after its create was reported failed
//  is ended all the same (the parent's deadline, and the controller's tombstones), so
//  the margin only spares that work, and a spawn on a busy machine needs the time.
#define CREATE_MARGIN_MAX_MS 50

static int64_t s_wire_deadline(controller_t *self, int type, int64_t deadline_us,
                               size_t depth)
{
    int64_t most = type == WIRE_CREATE ? CREATE_MARGIN_MAX_MS : MARGIN_MAX_MS;
    int64_t margin = self->config.timeout_ms / (type == WIRE_CREATE ? 16 : 4);
    margin = margin < 1 ? 1 : margin > most ? most : margin;
    return deadline_us - margin * 1000 - (int64_t)depth * 100;
}

//  Sends a request to target: handed to node -1, which passes it down the path the
//  topology gives (in a binary search tree, to the first hop only: each node routes
//  by key below). A request that cannot go (the first hop is gone) is answered
//  unavailable at once, through the node's reply.
void controller_send(controller_t *self, request_t *request, wire_msg_t **msg,
                     topo_node_t *target)
{
    wire_msg_t *out = *msg;
    int32_t *hops = (int32_t *)mem_alloc((target->depth + 1) * sizeof(int32_t));
    topology_path(target, hops);
    out->request_id = request->id;
    out->deadline_us =
        request->id ? s_wire_deadline(self, out->type, request->deadline_us, target->depth)
                    : 0;
    out->node = target->id;
    wire_set_path(out, hops, self->config.tree.bst && target->depth ? 1 : target->depth);
    free(hops);
    node_request(self->node, msg);
}

//  A request with a child id (CREATE, REMOVE) for target.
static void s_send_child(controller_t *self, request_t *request, int type, topo_node_t *target,
                         int32_t child, int32_t pid)
{
    wire_msg_t *msg = wire_msg_new((wire_type_t)type);
    msg->child = child;
    msg->pid = pid;
    controller_send(self, request, &msg, target);
}

//  --- Forgetting nodes ---------------------------------------------------------------

static void s_unlink_socket(topo_node_t *node, void *arg)
{
    controller_t *self = (controller_t *)arg;
    //  By name, relative to the directory we made and checked: a link planted in
    //  its place would be removed, never followed.
    char *name = children_ipc_name(node->id);
    run_dir_unlink(self->config.run_dir, name);
    free(name);
}

//  Whether node's pid names a live process of this host: not yet reaped (its pid
//  cannot have been reused), not the root (the controller itself), not remote (its
//  pid is another host's).
static bool s_local_process(const topo_node_t *node)
{
    return node->parent && node->pid > 0 && !node->reaped && !node->remote;
}

//  The pids of this host's nodes, for exit (pids: an idmap).
static void s_add_pid(topo_node_t *node, void *pids)
{
    if (s_local_process(node))
        zhashx_insert((zhashx_t *)pids, idmap_key(node->pid), node);
}

static bool s_is_node(pid_t pid, void *pids)
{
    return zhashx_lookup((zhashx_t *)pids, idmap_key((int32_t)pid)) != NULL;
}

static void s_kill_process(topo_node_t *node, void *arg)
{
    if (s_local_process(node))
        node_kill_pid(((controller_t *)arg)->node, node->pid);
}

//  Asks parent to end its child id, process pid, once it can: with no deadline, since
//  a cleanup must not be dropped as late itself (a stopped parent acts on it when
//  continued), and by pid, so that a newer process of the id is spared.
static void s_end_later(controller_t *self, topo_node_t *parent, int32_t id, int32_t pid)
{
    request_t cleanup = {0};
    s_send_child(self, &cleanup, WIRE_REMOVE, parent, id, pid);
}

//  A remove its parent did not confirm (it is stopped, dead or slow): this host's
//  processes of the subtree are ended here; the rest (a node on another host ends
//  only through its parent's launcher) when the parent can act.
static void s_end_unconfirmed(controller_t *self, topo_node_t *node)
{
    topology_walk(node, s_kill_process, self);
    if (node->pid > 0 && !node->reaped)
        s_end_later(self, node->parent, node->id, node->pid);
}

static void s_forget(controller_t *self, topo_node_t *node)
{
    if (self->config.tree.transport == TRANSPORT_IPC)
        topology_walk(node, s_unlink_socket, self);
    size_t count;
    int32_t *gone = topology_ids(node, &count);
    topology_remove(self->topology, node);
    //  Commands that waited for these nodes now find them gone.
    for (size_t i = 0; i < count; i++)
        waiting_wake(self->waiting, gone[i]);
    free(gone);
    //  A parent gone takes the children it started with it: its tombstones can go.
    zlist_t *buried = zlist_new();
    for (tombstone_t *tombstone = (tombstone_t *)zhashx_first(self->tombstones);
         tombstone; tombstone = (tombstone_t *)zhashx_next(self->tombstones))
        if (!topology_find(self->topology, tombstone->parent))
            zlist_append(buried, (void *)zhashx_cursor(self->tombstones));
    for (void *key = zlist_first(buried); key; key = zlist_next(buried))
        zhashx_delete(self->tombstones, key);
    zlist_destroy(&buried);
}

//  --- Answers ------------------------------------------------------------------------

static void s_emit(controller_t *self, const result_t *result)
{
    self->sink(self->sink_arg, result, NULL);
}

static void s_error(controller_t *self, result_t result, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

//  Answers "Error: <why>" ("Error:N: <why>" for exec).
static void s_error(controller_t *self, result_t result, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *error = process_vformat(format, args);
    va_end(args);
    result.status = RESULT_ERROR;
    result.error = error;
    s_emit(self, &result);
    free(error);
}

//  Answers that the node (for create: the parent) cannot be reached.
static void s_unavailable(controller_t *self, result_t result)
{
    result.status = RESULT_UNAVAILABLE;
    s_emit(self, &result);
}

//  The result that answers a command: it names the node the command names.
static result_t s_command_result(const command_t *command, uint64_t seq)
{
    int kind = command->kind;
    bool has_id = kind == CMD_CREATE || kind == CMD_REMOVE ||
                  ((kind == CMD_EXEC || kind == CMD_PING) && !command->set) ||
                  (kind == CMD_TREE && command->has_id);
    return result_for(seq, kind, has_id, command->id);
}

//  The result that answers a request's command, which names its node (a tree-wide
//  command's result is made where it ends: s_broadcast_done).
static result_t s_request_result(const request_t *request)
{
    return result_for(request->seq, request->kind, true, request->node);
}

//  --- Requests: how each kind ends --------------------------------------------------

//  The node of id that request made_by made: NULL if there is none (any more), or
//  the id is another's now. Requests go down past creates in flight, so an answer
//  may come for a node whose create failed, or from before it was made again.
static topo_node_t *s_made(controller_t *self, int32_t id, uint64_t made_by)
{
    topo_node_t *node = topology_find(self->topology, id);
    return node && node->made_by == made_by ? node : NULL;
}

//  A command sent past a create in flight whose create then failed: the node never
//  was, and the command is answered as if it had waited for that answer.
static bool s_never_was(controller_t *self, request_t *request)
{
    if (s_made(self, request->node, request->via))
        return false;
    s_error(self, s_request_result(request), "Not found");
    return true;
}

//  Whether a node between target and above (above excluded) is being created: a
//  request there went down behind that create.
static bool s_behind_create(topo_node_t *target, topo_node_t *above)
{
    for (; target && target != above; target = target->parent)
        if (target->state == NODE_PENDING)
            return true;
    return false;
}

//  A create reported failed leaves no node behind: nothing in the topology, and no
//  process (see s_create_timeout). error NULL: the parent is unavailable.
static void s_create_failed(controller_t *self, request_t *request, const char *error)
{
    topo_node_t *node = s_made(self, request->node, request->id);
    if (node)
        topology_remove(self->topology, node);
    //  Its parent's own create failed while this one waited for it there.
    if (!error && !s_made(self, request->target, request->via))
        error = "Parent not found";
    if (error)
        s_error(self, s_request_result(request), "%s", error);
    else
        s_unavailable(self, s_request_result(request));
}

//  A create's failure: text is the parent's reason. (Its success is a CREATED; no
//  node sends an Ok REPLY to a create, and s_on_reply drops one.)
static void s_create_reply(void *arg, request_t *request, int status, const char *text)
{
    s_create_failed((controller_t *)arg, request, status == WIRE_ERROR ? text : NULL);
}

//  The parent made the node: its pid on its host, and where its children connect.
//  A success for a node no longer in the topology counts as a failure.
static void s_create_made(void *arg, request_t *request, int32_t pid,
                          const char *endpoint)
{
    controller_t *self = (controller_t *)arg;
    topo_node_t *node = s_made(self, request->node, request->id);
    if (!node) {
        s_create_failed(self, request, NULL);
        return;
    }
    controller_node_up(node, pid, endpoint);
    result_t result = s_request_result(request);
    result.value.pid = pid;
    s_emit(self, &result);
}

static void s_create_unavailable(void *arg, request_t *request)
{
    s_create_failed((controller_t *)arg, request, NULL);
}

//  A create or join may still succeed on its way (a worker's answer held up, or node
//  -1's read after this deadline): its tombstone lets that late success end the child
//  (s_late_answer). Every parent answers a create or an adoption once, failure
//  included, so every tombstone goes with that answer (or with its parent).
void controller_bury(controller_t *self, request_t *request)
{
    tombstone_t *tombstone = (tombstone_t *)zmalloc(sizeof(tombstone_t));
    *tombstone = (tombstone_t){request->node, request->target};
    zhashx_insert(self->tombstones, (void *)(uintptr_t)request->id, tombstone);
}

static void s_create_timeout(void *arg, request_t *request)
{
    controller_t *self = (controller_t *)arg;
    controller_bury(self, request);
    s_create_failed(self, request, NULL);
}

//  The nodes are removed however it ended (README, Failures), and the answer is Ok.
static void s_remove_reply(void *arg, request_t *request, int status, const char *text)
{
    (void)text;
    controller_t *self = (controller_t *)arg;
    topo_node_t *node = controller_node(self, request->node);
    if (node) {
        if (status != WIRE_OK)
            s_end_unconfirmed(self, node);
        s_forget(self, node);
    }
    result_t result = s_request_result(request);
    s_emit(self, &result);
}

static void s_remove_unconfirmed(void *arg, request_t *request)
{
    s_remove_reply(arg, request, WIRE_UNAVAILABLE, "");
}

//  A node whose create was reported failed may still have run it (it came up late
//  and is being ended): its answer is not given, the command never reached a node.
static void s_exec_reply(void *arg, request_t *request, int status, const char *text)
{
    controller_t *self = (controller_t *)arg;
    if (s_never_was(self, request))
        return;
    result_t result = s_request_result(request);
    if (status == WIRE_ERROR) {
        s_error(self, result, "%s", text);
        return;
    }
    result.value.text = text;
    s_emit(self, &result);
}

static void s_exec_unavailable(void *arg, request_t *request)
{
    controller_t *self = (controller_t *)arg;
    if (!s_never_was(self, request))
        s_unavailable(self, s_request_result(request));
}

//  ping answers Ok either way: "Ok: 1" for an answer, "Ok: 0" for none in time.
static void s_ping_reply(void *arg, request_t *request, int status, const char *text)
{
    (void)text;
    if (s_never_was((controller_t *)arg, request))
        return;
    result_t result = s_request_result(request);
    result.value.answered = status == WIRE_OK;
    s_emit((controller_t *)arg, &result);
}

static void s_ping_unanswered(void *arg, request_t *request)
{
    s_ping_reply(arg, request, WIRE_UNAVAILABLE, "");
}

//  A tree-wide command ends however its request does: the answers gathered so far
//  decide. pingall: every node that did not answer, ascending (the dead, the
//  stopped, those that missed the deadline, and all that lie behind them); exec or
//  ping to a set: its folded lines.
static void s_broadcast_done(void *arg, request_t *request)
{
    controller_t *self = (controller_t *)arg;
    broadcast_t *broadcast = broadcasts_end(self->broadcasts, request->id);
    if (!broadcast)
        return;
    result_t result = result_for(request->seq, broadcast->kind, false, 0);
    if (broadcast->kind == CMD_PINGALL) {
        int32_t *missing =
            broadcast_unavailable(broadcast, &result.value.unavailable.count);
        result.value.unavailable.ids = missing;
        s_emit(self, &result);
        free(missing);
    } else {
        result_group_t *lines;
        size_t count = broadcast_lines(broadcast, &lines);
        reduce_t reduce = fold_reduction(broadcast->answers);
        result.value.groups.list = lines;
        result.value.groups.count = count;
        result.value.groups.set = broadcast->set;
        result.value.groups.reduce = fold_reduce_name(reduce); //  NULL for none
        s_emit(self, &result);
        broadcast_lines_free(&lines, count);
    }
    broadcast_destroy(&broadcast);
}

static void s_broadcast_reply(void *arg, request_t *request, int status, const char *text)
{
    (void)status;
    (void)text;
    s_broadcast_done(arg, request);
}

//  What each kind of request does when it ends (request_end picks the entry).
static const request_behaviour_t s_behaviours[] = {
    //  on_reply, on_unavailable, on_timeout, and on_made for kinds that make a node
    [CMD_CREATE] = {s_create_reply, s_create_unavailable, s_create_timeout, s_create_made},
    [CMD_REMOVE] = {s_remove_reply, s_remove_unconfirmed, s_remove_unconfirmed, NULL},
    [CMD_EXEC] = {s_exec_reply, s_exec_unavailable, s_exec_unavailable, NULL},
    [CMD_PING] = {s_ping_reply, s_ping_unanswered, s_ping_unanswered, NULL},
    [CMD_JOIN] = {joins_refused, joins_unanswered, joins_timeout, joins_made},
    [CMD_BROADCAST] = {s_broadcast_reply, s_broadcast_done, s_broadcast_done, NULL},
};

//  When a request that goes through node may start to count its timeout: now, or if
//  nodes on the way are still being created (it waits for them at their parents),
//  the latest of their creates' deadlines: a command is not charged for the time it
//  waits behind a create (README, Asynchrony).
static int64_t s_start_us(controller_t *self, topo_node_t *node)
{
    int64_t start = s_now(self);
    if (!requests_of_kind(self->requests, CMD_CREATE))
        return start; //  nothing is being created: no walk up the path
    for (; node; node = node->parent)
        if (node->state == NODE_PENDING && node->ready_by_us > start)
            start = node->ready_by_us;
    return start;
}

request_t *controller_request(controller_t *self, int kind, uint64_t seq, int32_t node,
                              topo_node_t *through)
{
    int32_t target = through ? through->id : node;
    int64_t deadline = s_start_us(self, through) + (int64_t)self->config.timeout_ms * 1000;
    request_t *request = requests_add(self->requests, kind, seq, node, target, deadline);
    request->behaviour = &s_behaviours[kind];
    request->via = through ? through->made_by : 0;
    s_arm(self);
    return request;
}

//  Frees an answered request, and runs the commands that waited for its nodes.
static void s_forget_request(controller_t *self, request_t *request)
{
    int32_t node = request->node, target = request->target;
    spawn_slot_t *slot = (spawn_slot_t *)request->slot;
    requests_remove(self->requests, request);
    if (slot)
        waiting_spawn_ended(self->waiting, slot);
    waiting_wake(self->waiting, target);
    waiting_wake(self->waiting, node);
}

//  Ends a request: its kind's behaviour answers it and updates the topology; then it
//  is forgotten.
static void s_complete(controller_t *self, request_t *request, int status,
                       const char *text)
{
    request_end(request, self, status, text);
    s_forget_request(self, request);
}

typedef struct {
    uint64_t id;
    size_t rank; //  creates by the depth of their parent, then the rest
} failing_t;

static int s_failing_order(const void *a, const void *b)
{
    const failing_t *left = (const failing_t *)a, *right = (const failing_t *)b;
    if (left->rank != right->rank)
        return left->rank < right->rank ? -1 : 1;
    return left->id < right->id ? -1 : left->id > right->id;
}

//  Every request whose way down passes through node can no longer be answered (with
//  only_pings, the pings: a stopped node may still run the rest after SIGCONT, so they
//  fail at their deadlines, when the node will have dropped them). Creates go first,
//  the shallowest first, so that a request that went down behind one is answered as
//  if it had waited for it (Not found, Parent not found); a ping behind a create in
//  flight under a stopped node waits for that create's answer, by its deadline.
static void s_fail_through(controller_t *self, topo_node_t *node, bool only_pings)
{
    //  Ids first, then answers: answering one request may end or start others.
    zlist_t *pending = requests_snapshot(self->requests);
    size_t count = 0;
    failing_t *failing = (failing_t *)mem_alloc((zlist_size(pending) + 1) * sizeof(failing_t));
    for (request_t *request = (request_t *)zlist_first(pending); request;
         request = (request_t *)zlist_next(pending)) {
        topo_node_t *target = topology_find(self->topology, request->target);
        if (!target || !topology_within(target, node))
            continue;
        if (only_pings && (request->kind != CMD_PING || s_behind_create(target, node)))
            continue;
        failing[count++] = (failing_t){request->id, request->kind == CMD_CREATE
                                                        ? target->depth
                                                        : SIZE_MAX};
    }
    zlist_destroy(&pending);
    qsort(failing, count, sizeof(failing_t), s_failing_order);
    for (size_t i = 0; i < count; i++) {
        request_t *request = requests_find(self->requests, failing[i].id);
        if (request)
            s_complete(self, request, WIRE_UNAVAILABLE, "");
    }
    free(failing);
}

static void s_on_heartbeat_due(void *arg, int timer_id);

//  Reports what changed in availability, and arms the next look.
static void s_report_heartbeat(controller_t *self)
{
    timers_cancel(self->timers, self->heartbeat_timer);
    self->heartbeat_timer = 0;
    self->heartbeat_soon = false;
    int64_t next = heartbeat_update(self->heartbeat, s_now(self));
    if (next >= 0)
        self->heartbeat_timer = timers_add(self->timers, next, s_on_heartbeat_due, self);
}

static void s_on_heartbeat_due(void *arg, int timer_id)
{
    (void)timer_id;
    s_report_heartbeat((controller_t *)arg);
}

//  Availability is reported once per turn, after every message that came in one
//  burst: a link that comes back delivers its node's beats and its own old report of
//  a child lost meanwhile together, and the child must not be said back and then
//  lost again within the same instant (README, Many hosts). An event marks the
//  report due; the end of the turn that brought it (s_turn_end) makes it.
static void s_heartbeat_due(controller_t *self)
{
    self->heartbeat_soon = true;
}

//  The end of a turn that may have brought events: the node's batch of messages
//  (its on_woken), or a reaping.
static void s_turn_end(controller_t *self)
{
    if (self->heartbeat_soon)
        s_report_heartbeat(self);
}

static void s_on_woken(void *owner)
{
    s_turn_end((controller_t *)owner);
}

static void s_node_event(controller_t *self, topo_node_t *node, int kind, int status)
{
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
        //  Nothing below a dead node can act: its subtree ends with it.
        s_fail_through(self, node, false);
    } else if (kind == WIRE_CHILD_STOPPED && node->state == NODE_UP) {
        log_info("node %d (pid %d) is stopped", node->id, (int)node->pid);
        node->state = NODE_STOPPED;
        s_fail_through(self, node, true);
    } else if (kind == WIRE_CHILD_CONTINUED && node->state == NODE_STOPPED) {
        log_info("node %d (pid %d) continues", node->id, (int)node->pid);
        node->state = NODE_UP;
    } else if (kind == WIRE_CHILD_LOST || kind == WIRE_CHILD_BACK)
        heartbeat_set_lost(self->heartbeat, node, kind == WIRE_CHILD_LOST);
    s_heartbeat_due(self);
    waiting_wake(self->waiting, node->id);
}

//  --- Commands -----------------------------------------------------------------------

//  README "Limits": a create that does not fit is refused with its limit, before
//  anything starts. Every node has the controller's fd limit (workers inherit it and
//  raise it alike), so its children are counted here without asking it; the worker
//  still refuses on its own if its limit is lower. Returns true if refused.
static bool s_refuse_create(controller_t *self, topo_node_t *parent, result_t answer)
{
    if (self->config.nodes_max &&
        topology_size(self->topology) >= self->config.nodes_max) {
        s_error(self, answer, "Too many nodes (limit %zu)", self->config.nodes_max);
        return true;
    }
    size_t siblings = parent->id == TOPOLOGY_ROOT ? node_children_count(self->node)
                                                  : zlistx_size(parent->children);
    if (self->config.tree.children_max && siblings >= self->config.tree.children_max) {
        s_error(self, answer, "Too many children of node %d (limit %zu)", parent->id,
                self->config.tree.children_max);
        return true;
    }
    return false;
}

static void s_create(controller_t *self, command_t *command, uint64_t seq)
{
    topo_node_t *parent = self->config.tree.bst ? topology_bst_parent(self->topology, command->id)
                                      : topology_find(self->topology, command->parent);
    result_t answer = s_command_result(command, seq);
    if (topology_find(self->topology, command->id)) {
        s_error(self, answer, "Already exists");
        return;
    }
    if (!parent) {
        s_error(self, answer, "Parent not found");
        return;
    }
    if (command->host[0] && self->config.tree.transport != TRANSPORT_TCP) {
        s_error(self, answer, "create @host needs --transport tcp");
        return;
    }
    if (topology_blocker(parent)) {
        s_unavailable(self, answer);
        return;
    }
    if (s_refuse_create(self, parent, answer))
        return;
    topo_node_t *node = topology_add(self->topology, command->id, parent);
    const char *host = topology_child_host(parent, command->host);
    node->host = host ? mem_strdup(host) : NULL;
    node->remote = command->host[0] || parent->remote;
    request_t *request = controller_request(self, CMD_CREATE, seq, node->id, parent);
    node->ready_by_us = request->deadline_us;
    node->made_by = request->id;
    request->slot = waiting_spawn_started(self->waiting, node->host);
    wire_msg_t *msg = wire_msg_new(WIRE_CREATE);
    msg->child = node->id;
    wire_bytes_copy(&msg->host, command->host, strlen(command->host));
    controller_send(self, request, &msg, parent);
}

//  The node a command names, or NULL once the command is answered "Not found".
static topo_node_t *s_named(controller_t *self, const command_t *command,
                            result_t answer)
{
    topo_node_t *node = controller_node(self, command->id);
    if (!node)
        s_error(self, answer, "Not found");
    return node;
}

static void s_remove(controller_t *self, command_t *command, uint64_t seq)
{
    result_t answer = s_command_result(command, seq);
    topo_node_t *node = s_named(self, command, answer);
    if (!node)
        return;
    topo_node_t *parent = node->parent;
    if (topology_blocker(parent)) {
        //  Its parent cannot act on it now.
        s_end_unconfirmed(self, node);
        s_forget(self, node);
        s_emit(self, &answer);
        return;
    }
    request_t *request = controller_request(self, CMD_REMOVE, seq, node->id, parent);
    node->state = NODE_REMOVING;
    s_send_child(self, request, WIRE_REMOVE, parent, node->id, 0);
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
    result_t answer = s_command_result(command, seq);
    topo_node_t *node = s_named(self, command, answer);
    if (!node)
        return;
    if (topology_blocker(node)) {
        s_unavailable(self, answer);
        return;
    }
    request_t *request = controller_request(self, CMD_EXEC, seq, node->id, node);
    wire_msg_t *msg = wire_msg_new(WIRE_EXEC);
    wire_bytes_copy(&msg->op, command->op, command->op_length);
    if (command->args_length >= ZERO_COPY_MIN) {
        //  A long line (sum of 10^8 numbers) goes out without a copy: ZeroMQ
        //  frees it once sent, so the controller holds it once, not twice.
        wire_bytes_give(&msg->text, (void *)command->args, command->args_length, s_free_line,
                        command->line);
        command->line = NULL;
    } else
        wire_bytes_lend(&msg->text, command->args, command->args_length);
    controller_send(self, request, &msg, node);
}

static void s_ping(controller_t *self, command_t *command, uint64_t seq)
{
    result_t answer = s_command_result(command, seq);
    topo_node_t *node = s_named(self, command, answer);
    if (!node)
        return;
    if (topology_blocker(node)) {
        answer.value.answered = false; //  as a node that does not answer in time
        s_emit(self, &answer);
        return;
    }
    request_t *request = controller_request(self, CMD_PING, seq, node->id, node);
    wire_msg_t *msg = wire_msg_new(WIRE_PING);
    controller_send(self, request, &msg, node);
}

//  Node -1 asks every child of ours on the way to a target; each answers for its
//  whole subtree. Nodes known dead or stopped are not asked: they and everything
//  behind them are reported at once. Node -1 answers by the deadline less a reserve
//  for the last, late answers to climb (fanout.h), which it passes on as they come.
//  An op's reserve is a single exec's margin: a node may hold answers that took
//  effect until its deadline (waiting for a silent sibling's subtree), and they must
//  climb by ours as surely as an exec's answer does (at most once).
//  sets: the targets and the reach in their wire form (NULL: every node).
static void s_send_broadcast(controller_t *self, request_t *request, broadcast_t **broadcast,
                             const command_t *command, const byte *sets, size_t size)
{
    wire_msg_t *msg = wire_msg_new(WIRE_BROADCAST);
    msg->request_id = request->id;
    bool op = command && command->kind == CMD_EXEC;
    msg->deadline_us = op ? s_wire_deadline(self, WIRE_BROADCAST, request->deadline_us, 0)
                          : fanout_root_deadline(request->deadline_us, s_now(self));
    msg->node = TOPOLOGY_ROOT;
    if (command) {
        msg->reduce = command->reduce;
        if (op) {
            wire_bytes_lend(&msg->op, command->op, command->op_length);
            wire_bytes_lend(&msg->text, command->args, command->args_length);
        }
    }
    if (sets)
        wire_bytes_lend(&msg->sets, sets, size);
    broadcasts_start(self->broadcasts, request->id, broadcast);
    node_request(self->node, &msg);
}

static void s_pingall(controller_t *self, uint64_t seq)
{
    request_t *request = controller_request(self, CMD_BROADCAST, seq, TOPOLOGY_ROOT, NULL);
    broadcast_t *broadcast =
        broadcast_new(CMD_PINGALL, REDUCE_NONE, NULL, self->config.tree.max_reply);
    size_t count;
    int32_t *nodes = topology_ids(topology_root(self->topology), &count);
    for (size_t index = 0; index < count; index++)
        nodeset_add(broadcast->targets, nodes[index]);
    free(nodes);
    s_send_broadcast(self, request, &broadcast, NULL, NULL, 0);
}

//  exec or ping to a node set: one broadcast, one folded reply (README, Node sets).
static void s_to_set(controller_t *self, command_t *command, uint64_t seq)
{
    const char *word = command->set_word;
    broadcast_t *broadcast =
        broadcast_new(command->kind, (reduce_t)command->reduce, word ? word : "",
                      self->config.tree.max_reply);
    nodeset_t *reach = nodeset_new();
    topology_resolve(self->topology, command->set, broadcast->targets, broadcast->missing,
                     reach);
    if (nodeset_empty(broadcast->targets) && nodeset_empty(broadcast->missing)) {
        nodeset_destroy(&reach);
        broadcast_destroy(&broadcast);
        result_t answer = s_command_result(command, seq);
        answer.value.groups.set = command->set_word; //  JSON's "set"
        s_error(self, answer, "No node in the set");
        return;
    }
    request_t *request = controller_request(self, CMD_BROADCAST, seq, TOPOLOGY_ROOT, NULL);
    byte *sets = NULL;
    size_t size = 0;
    if (!command->set->all) {
        //  "all" needs no sets: every node is a target.
        size_t first = nodeset_encoded_size(broadcast->targets);
        size = first + nodeset_encoded_size(reach);
        sets = (byte *)mem_alloc(size);
        nodeset_encode(broadcast->targets, sets);
        nodeset_encode(reach, sets + first);
    }
    nodeset_destroy(&reach);
    if (nodeset_empty(broadcast->targets)) {
        //  Nothing to ask: only "Not found".
        broadcasts_start(self->broadcasts, request->id, &broadcast);
        s_complete(self, request, WIRE_OK, "");
    } else
        s_send_broadcast(self, request, &broadcast, command, sets, size);
    free(sets);
}

static void s_heartbeat(controller_t *self, int interval_ms)
{
    heartbeat_set_interval(self->heartbeat, interval_ms);
    wire_msg_t *msg = wire_msg_new(WIRE_HEARTBEAT);
    msg->node = TOPOLOGY_ROOT;
    msg->interval_ms = interval_ms;
    node_request(self->node, &msg);
    //  What is known dead or stopped is said at once, before the command's Ok.
    heartbeat_update(self->heartbeat, s_now(self));
}

static void s_execute(controller_t *self, command_t *command, uint64_t seq)
{
    if (command->set) {
        //  exec or ping to a set (only they take one).
        s_to_set(self, command, seq);
        return;
    }
    result_t answer = s_command_result(command, seq);
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
        case CMD_STATS:
            answer.value.stats = (result_stats_t){
                topology_size(self->topology), node_children_count(self->node), 0, 0};
            node_counts(self->node, &answer.value.stats.received, &answer.value.stats.sent);
            s_emit(self, &answer);
            break;
        case CMD_TREE: {
            char *tree = controller_tree(self, command->has_id ? command->id : TOPOLOGY_ROOT,
                                         command->endpoints);
            answer.value.text = tree;
            if (tree)
                s_emit(self, &answer);
            else
                s_error(self, answer, "Not found");
            free(tree);
            break;
        }
        case CMD_PINGALL:
            s_pingall(self, seq);
            break;
        case CMD_HEARTBEAT:
            s_heartbeat(self, (int)command->interval_ms);
            s_emit(self, &answer);
            break;
        default:
            s_error(self, answer, "Not a controller command");
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

//  Run by the node's timers, after it has read what arrived, however late the timer
//  (and through a stall's grace: timers.h): replies answer their requests first;
//  only then does silence count as failure.
static void s_on_deadline(void *arg, int timer_id)
{
    (void)timer_id;
    controller_t *self = (controller_t *)arg;
    self->timer_id = 0;
    request_t *request;
    while ((request = requests_expired(self->requests, s_now(self))))
        s_complete(self, request, REQUEST_TIMED_OUT, "");
    s_arm(self);
}

//  An answer (REPLY or CREATED) to a request already answered (at its deadline, or
//  by a death). If it is the success of a create or join reported failed, the child
//  must go.
static void s_late_answer(controller_t *self, const wire_msg_t *answer)
{
    void *key = (void *)(uintptr_t)answer->request_id;
    tombstone_t *tombstone =
        answer->request_id ? (tombstone_t *)zhashx_lookup(self->tombstones, key) : NULL;
    //  (A CREATED that names no process is no answer: no node of ours sends one.)
    if (!tombstone || answer->node != tombstone->parent ||
        (answer->type == WIRE_CREATED && answer->pid <= 0)) {
        log_debug("dropped a late %s to request %" PRIu64, wire_type_name(answer->type),
                  answer->request_id);
        return;
    }
    topo_node_t *parent = topology_find(self->topology, tombstone->parent);
    if (answer->type == WIRE_CREATED && parent) {
        log_info("node %d came up after it was reported failed; ending pid %d",
                 tombstone->node, (int)answer->pid);
        s_end_later(self, parent, tombstone->node, answer->pid);
    }
    zhashx_delete(self->tombstones, key);
}

//  A node on the way down to target that could not pass a request on (the next hop
//  is gone: it died, or was never ready) says so itself: the request went no
//  further, so it can be failed now rather than at its deadline. Node -1 is on the
//  way to every node.
//  Not while a node on the way is still being created (*behind is set): the request
//  went past that create (s_start_us), whose own answer decides what it gets, by the
//  request's deadline. Once that create has failed (its answer came first and took
//  the node, made by via, from the topology), whoever held the request says it
//  never left: it ends now, not at its deadline.
static bool s_on_the_way(controller_t *self, const wire_msg_t *reply, int32_t target,
                         uint64_t via, bool *behind)
{
    *behind = false;
    if (reply->status != WIRE_UNAVAILABLE)
        return false;
    topo_node_t *to = s_made(self, target, via);
    if (!to)
        return true;
    topo_node_t *from = topology_find(self->topology, reply->node);
    if (!from || from == to || !topology_within(to, from))
        return false;
    *behind = s_behind_create(to, from);
    return !*behind;
}

//  Node -1's answer to a broadcast: the fold of the nodes that answered, all of them
//  (OK) or those so far (PARTIAL, at its deadline: late ones follow).
static void s_on_broadcast_answer(controller_t *self, request_t *request,
                                  const wire_msg_t *reply)
{
    if (reply->node != TOPOLOGY_ROOT ||
        (reply->status != WIRE_OK && reply->status != WIRE_PARTIAL) ||
        broadcasts_answer(self->broadcasts, request->id, reply->text.data,
                          reply->text.size) != 0) {
        log_dropped("dropped a broadcast answer from node %d", reply->node);
        return;
    }
    if (reply->status == WIRE_OK)
        s_complete(self, request, WIRE_OK, "");
}

static void s_on_reply(controller_t *self, const wire_msg_t *reply)
{
    request_t *request = requests_find(self->requests, reply->request_id);
    if (!request) {
        s_late_answer(self, reply);
        return;
    }
    if (request->kind == CMD_BROADCAST) {
        s_on_broadcast_answer(self, request, reply);
        return;
    }
    if (reply->status == WIRE_OK && request->behaviour->on_made) {
        log_dropped("dropped an Ok REPLY to request %" PRIu64 ": a CREATED answers it",
                    reply->request_id);
        return;
    }
    int32_t expected = request->kind == CMD_EXEC || request->kind == CMD_PING
                           ? request->node
                           : request->target;
    bool behind = false;
    if (reply->node != expected &&
        !s_on_the_way(self, reply, expected, request->via, &behind)) {
        if (behind)
            log_debug("request %" PRIu64 " could not pass node %d: its deadline decides",
                      reply->request_id, reply->node);
        else
            log_dropped("dropped a reply to request %" PRIu64 " from node %d, not %d",
                        reply->request_id, reply->node, expected);
        return;
    }
    //  A node's text is data, and the only text from the wire that reaches a result
    //  line: escaped here, once, so that it stays on its line and no terminal obeys
    //  it (text.h). A NUL inside it is escaped too, not a cut. (Node -1 answered a
    //  reply over --max-reply with an error already.)
    char *text = text_escape((const char *)reply->text.data, reply->text.size);
    s_complete(self, request, reply->status, text);
    free(text);
}

//  A parent made the node of a create or join: the answer, typed.
static void s_on_created(controller_t *self, const wire_msg_t *created)
{
    request_t *request = requests_find(self->requests, created->request_id);
    if (!request) {
        s_late_answer(self, created);
        return;
    }
    if (!request->behaviour->on_made || created->node != request->target ||
        created->pid <= 0) {
        log_dropped("dropped a CREATED for request %" PRIu64 " from node %d",
                    created->request_id, created->node);
        return;
    }
    char *endpoint = wire_bytes_strdup(&created->endpoint);
    request_made(request, self, created->pid, endpoint);
    free(endpoint);
    s_forget_request(self, request);
}

static void s_on_event(controller_t *self, const wire_msg_t *event)
{
    topo_node_t *node = controller_node(self, event->child);
    //  An event must come from the node's parent about the process we know: a
    //  report about a process since removed and re-created is stale.
    if (!node || node->parent->id != event->node || node->pid != event->pid) {
        log_debug("dropped an event about node %d from node %d", event->child,
                  event->node);
        return;
    }
    s_node_event(self, node, event->event, event->code);
}

//  What node -1 sends up: replies and events from the tree, and its own.
static void s_on_up(void *owner, wire_msg_t **msg)
{
    controller_t *self = (controller_t *)owner;
    if ((*msg)->type == WIRE_REPLY)
        s_on_reply(self, *msg);
    else if ((*msg)->type == WIRE_CREATED)
        s_on_created(self, *msg);
    else if ((*msg)->type == WIRE_EVENT)
        s_on_event(self, *msg);
    else
        log_dropped("dropped a %s from node %d", wire_type_name((*msg)->type),
                    (*msg)->node);
    wire_msg_destroy(msg);
}

//  We are the subreaper: descendants whose parent died come to us. Their pid is free
//  again from now on.
static void s_on_orphan(void *owner, pid_t pid, int status)
{
    controller_t *self = (controller_t *)owner;
    topo_node_t *node = topology_find_pid(self->topology, pid);
    if (node && (WIFEXITED(status) || WIFSIGNALED(status))) {
        node->reaped = true;
        //  No Heartbit line here: it died because its parent did, and the report of
        //  that death names the parent first, then this node.
        if (node->state != NODE_DEAD) {
            node->state = NODE_DEAD;
            node->exit_status = status;
        }
    }
}

void controller_on_sigchld(controller_t *self)
{
    node_reap(self->node);
    s_turn_end(self);
}

//  --- Lifecycle ----------------------------------------------------------------------

//  How long exit waits for the tree to end by itself before it kills what is left.
//  Every process known has had SIGKILL and every other one follows its parent's
//  death within milliseconds: this is a cap for what should never happen.
#define REAP_CAP_MS 2000

//  Creates in flight per host: a spawn is mostly CPU (exec, linking, libzmq's
//  start), so a few per core keep the cores busy; thousands at once finish none in
//  time (README, Limits).
#define SPAWNS_PER_CORE 2
#define SPAWNS_MIN 4

static size_t s_spawn_max(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t most = cores > 0 ? (size_t)cores * SPAWNS_PER_CORE : SPAWNS_MIN;
    return most < SPAWNS_MIN ? SPAWNS_MIN : most;
}

controller_t *controller_new(const controller_config_t *config, loop_t *loop,
                             output_sink_fn *sink, void *sink_arg)
{
    controller_t *self = (controller_t *)zmalloc(sizeof(controller_t));
    self->config = *config;
    self->sink = sink;
    self->sink_arg = sink_arg;
    node_config_t node_config = {
        .id = TOPOLOGY_ROOT,
        .children = {.worker_path = config->worker_path,
                     .run_dir = config->run_dir ? run_dir_path(config->run_dir) : NULL,
                     .tree = config->tree,
                     .spawner = config->spawner},
        .clock = config->clock,
    };
    node_handlers_t handlers = {.on_up = s_on_up, .on_other = s_on_orphan,
                                .on_join = joins_on_join, .on_woken = s_on_woken};
    self->node = node_new(&node_config, loop, &handlers, self);
    if (!self->node) {
        free(self);
        return NULL;
    }
    self->timers = node_timers(self->node);
    if (config->listen && node_listen(self->node, config->listen) != 0) {
        log_error("cannot listen on %s: %s", config->listen, zmq_strerror(zmq_errno()));
        node_destroy(&self->node);
        free(self);
        return NULL;
    }
    self->topology = topology_new(getpid());
    topology_root(self->topology)->endpoint = mem_strdup(node_endpoint(self->node));
    self->requests = requests_new();
    self->broadcasts = broadcasts_new();
    self->tombstones = idmap_new();
    zhashx_set_destructor(self->tombstones, (zhashx_destructor_fn *)zstr_free);
    self->heartbeat = heartbeat_new(self->topology, sink, sink_arg);
    self->waiting = waiting_new(self->topology, self->requests, config->tree.bst,
                                s_spawn_max(), s_run, self);
    return self;
}

void controller_destroy(controller_t **self_p)
{
    controller_t *self = *self_p;
    if (!self)
        return;
    timers_cancel(self->timers, self->timer_id);
    timers_cancel(self->timers, self->heartbeat_timer);
    //  Every process we know of gets SIGKILL; processes we do not know of (started
    //  by a create that timed out) follow their parent through its death signal.
    topology_walk(topology_root(self->topology), s_kill_process, self);
    node_destroy(&self->node);
    //  Everything of the tree is gone when the controller is, but exit is bounded; a
    //  process that is no node (a program whose keeper was killed from outside, left
    //  in a session of its own) is ended as soon as it is ours.
    if (!self->config.spawner) {
        zhashx_t *pids = idmap_new();
        topology_walk(topology_root(self->topology), s_add_pid, pids);
        process_reap_all(REAP_CAP_MS, s_is_node, pids);
        zhashx_destroy(&pids);
    }
    waiting_destroy(&self->waiting);
    requests_destroy(&self->requests);
    broadcasts_destroy(&self->broadcasts);
    zhashx_destroy(&self->tombstones);
    heartbeat_destroy(&self->heartbeat);
    topology_destroy(&self->topology);
    free(self);
    *self_p = NULL;
}

int controller_poll(controller_t *self)
{
    return node_poll(self->node);
}

size_t controller_outstanding(controller_t *self)
{
    return requests_size(self->requests) + waiting_size(self->waiting);
}

int32_t *controller_ids(controller_t *self, size_t *count)
{
    return topology_ids_sorted(topology_root(self->topology), count);
}

//  --- tree ---------------------------------------------------------------------------

static bool s_busy(void *arg, int32_t id)
{
    return zhashx_lookup((zhashx_t *)arg, idmap_key(id)) != NULL;
}

char *controller_tree(controller_t *self, int32_t id, bool endpoints)
{
    topo_node_t *top = topology_find(self->topology, id);
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
    char *text = tree_view_render(top, &self->config.tree_style, s_busy, busy, endpoints);
    zhashx_destroy(&busy);
    return text;
}
