/*  Unit test: the node core with no process and no sleep, over in-process nodes
    (sim_nodes.h: a spawner that makes a node_t instead of a process, a clock the test
    moves by hand; a "stopped" node is one the test does not poll, a death is a wait
    status handed to its parent). Root is node -1, as the controller: what it sends up
    lands in s_up.

        -1 ── 1 ── 2 ── 3
               └── 4                                                              */
#define _GNU_SOURCE
#include "sim_nodes.h"

#include <inttypes.h>
#include <sys/wait.h>

#include "../node/fanout.h"

static node_t *s_root;
static zlistx_t *s_up; //  wire_msg_t *, what the root sent up

static uint64_t s_create(int32_t id, int32_t parent, const int32_t *path, size_t hops);
//  Non-zero: the next unavailable answer makes the controller create this child of
//  the root at once, within the root's call (s_answer_reenters).
static int32_t s_create_on_failure;

static void s_on_up(void *owner, wire_msg_t **msg)
{
    (void)owner;
    wire_msg_t *up = *msg;
    zlistx_add_end(s_up, up);
    *msg = NULL;
    if (s_create_on_failure && up->type == WIRE_REPLY && up->status == WIRE_UNAVAILABLE) {
        int32_t child = s_create_on_failure;
        s_create_on_failure = 0;
        s_create(child, -1, NULL, 0);
    }
}

//  Ops: "id" answers the node's id, "parity" odd or even, "long" 40 bytes that name
//  the node, any other "ran"; "late" keeps its answer until the test gives it
//  (s_late). "mark" is the one that changes nodes (s_changes).
static wire_msg_t *s_late;

static void s_on_exec(void *owner, wire_msg_t **msg)
{
    sim_node_t *sim = (sim_node_t *)owner;
    sim->execs++;
    int id = (int)(sim - sim_nodes);
    char text[16] = "ran";
    if (wire_bytes_eq(&(*msg)->op, "id"))
        snprintf(text, sizeof text, "%d", id);
    else if (wire_bytes_eq(&(*msg)->op, "parity"))
        snprintf(text, sizeof text, "%s", id % 2 ? "odd" : "even");
    else if (wire_bytes_eq(&(*msg)->op, "long")) {
        char answer[41];
        snprintf(answer, sizeof answer, "%-40d", id);
        node_reply(sim->node, (*msg)->request_id, WIRE_OK, answer, 40);
        return;
    } else if (wire_bytes_eq(&(*msg)->op, "late")) {
        s_late = wire_reply_new((*msg)->request_id, id, WIRE_OK, "7", 1);
        return;
    }
    node_reply(sim->node, (*msg)->request_id, WIRE_OK, text, strlen(text));
}

static bool s_changes(const wire_bytes_t *op)
{
    return wire_bytes_eq(op, "mark");
}

//  The nodes' --max-reply (node -1's: none, so what it sends up shows theirs).
#define NODES_REPLY_MAX 64

static int s_poll_root(void *root)
{
    return node_poll((node_t *)root);
}

//  Polls every node that is not frozen until nothing moves.
static void s_pump(void)
{
    sim_pump(s_poll_root, s_root, s_root);
}

static void s_advance(int64_t us)
{
    sim_now += us;
    s_pump();
}

//  The next message the root sent up (the caller destroys it), or NULL.
static wire_msg_t *s_next_up(void)
{
    return (wire_msg_t *)zlistx_detach(s_up, NULL);
}

//  Moves the clock past a request's timeout_us from now a millisecond at a time over
//  the last 10 ms: each level's deadline comes a little before its parent's.
static void s_past_deadlines(int64_t timeout_us)
{
    s_advance(timeout_us - 10000);
    for (int ms = 0; ms < 10; ms++)
        s_advance(1000);
}

static uint64_t s_next_request = 1;

//  A request to the root, as the controller sends it: the path from the root's
//  child down to target (empty for the root itself).
static uint64_t s_request(wire_type_t type, int32_t target, const int32_t *path,
                          size_t hops, int64_t timeout_us)
{
    wire_msg_t *msg = wire_msg_new(type);
    msg->request_id = s_next_request++;
    msg->deadline_us = timeout_us ? sim_now + timeout_us : 0;
    msg->node = target;
    if (type == WIRE_EXEC)
        wire_bytes_lend(&msg->op, "set", 3);
    wire_set_path(msg, path, hops);
    uint64_t id = msg->request_id;
    node_request(s_root, &msg);
    return id;
}

static uint64_t s_create(int32_t id, int32_t parent, const int32_t *path, size_t hops)
{
    wire_msg_t *msg = wire_msg_new(WIRE_CREATE);
    msg->request_id = s_next_request++;
    msg->deadline_us = sim_now + 1000000;
    msg->node = parent;
    msg->child = id;
    wire_set_path(msg, path, hops);
    uint64_t request = msg->request_id;
    node_request(s_root, &msg);
    return request;
}

//  Expects the next message up to be a reply to request from origin with status and
//  text.
static void s_expect_reply(uint64_t request, int32_t origin, int status, const char *text)
{
    wire_msg_t *msg = s_next_up();
    CHECK(msg && msg->type == WIRE_REPLY);
    if (msg && msg->type == WIRE_REPLY) {
        CHECK(msg->request_id == request && msg->node == origin && msg->status == status);
        if (text)
            CHECK(wire_bytes_eq(&msg->text, text));
    }
    wire_msg_destroy(&msg);
}

//  A parent's answer to a create or adoption that made its child: typed fields, pid
//  and endpoint (NULL: any endpoint).
static void s_expect_created(uint64_t request, int32_t origin, int32_t pid,
                             const char *endpoint)
{
    wire_msg_t *msg = s_next_up();
    CHECK(msg && msg->type == WIRE_CREATED);
    if (msg && msg->type == WIRE_CREATED) {
        CHECK(msg->request_id == request && msg->node == origin && msg->pid == pid);
        if (endpoint)
            CHECK(wire_bytes_eq(&msg->endpoint, endpoint));
    }
    wire_msg_destroy(&msg);
}

static void s_expect_event(int32_t origin, wire_event_t kind, int32_t child)
{
    wire_msg_t *msg = s_next_up();
    CHECK(msg && msg->type == WIRE_EVENT);
    if (msg && msg->type == WIRE_EVENT)
        CHECK(msg->node == origin && msg->event == kind && msg->child == child &&
              msg->pid == SIM_PID_BASE + child);
    wire_msg_destroy(&msg);
}

//  The groups of a broadcast's answer (a fold): "status:ids:text|...", the
//  reduction first if any ("=value:ids").
static char *s_groups(const wire_msg_t *msg)
{
    const char *reason;
    fold_t *fold = fold_decode(msg->text.data, msg->text.size, &reason);
    if (!fold)
        return strdup("(not a fold)");
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    int64_t value;
    bool overflow;
    const nodeset_t *reduced = fold_reduced(fold, &value, &overflow);
    if (reduced) {
        char *ids = nodeset_format(reduced);
        fprintf(out, "=%" PRId64 ":%s", value, ids);
        free(ids);
    }
    fold_group_t groups[16];
    size_t count = fold_size(fold);
    CHECK(count <= 16);
    fold_groups(fold, groups);
    for (size_t index = 0; index < count && index < 16; index++) {
        char *ids = nodeset_format(groups[index].ids);
        fprintf(out, "%s%d:%s:%.*s", index || reduced ? "|" : "", groups[index].status,
                ids, (int)groups[index].size, (const char *)groups[index].text);
        free(ids);
    }
    fclose(out);
    fold_destroy(&fold);
    return text;
}

//  The ids in a pingall answer (a fold), as a set: "1-2,4".
static char *s_ids(const wire_msg_t *msg)
{
    const char *reason;
    fold_t *fold = fold_decode(msg->text.data, msg->text.size, &reason);
    if (!fold)
        return strdup("(not a fold)");
    char *text = nodeset_format(fold_ids(fold));
    fold_destroy(&fold);
    return text;
}

static void s_expect_ids(uint64_t request, int status, const char *ids)
{
    wire_msg_t *msg = s_next_up();
    CHECK(msg && msg->type == WIRE_REPLY && msg->request_id == request &&
          msg->status == status);
    if (msg) {
        char *got = s_ids(msg);
        CHECK_STR(got, ids);
        free(got);
    }
    wire_msg_destroy(&msg);
}

//  A create that succeeds: its parent answers with the new child's pid and the
//  endpoint its own children will connect to.
static void s_create_ok(int32_t id, int32_t parent, const int32_t *path, size_t hops)
{
    uint64_t request = s_create(id, parent, path, hops);
    s_pump();
    s_expect_created(request, parent, SIM_PID_BASE + id, node_endpoint(sim_nodes[id].node));
}

static void s_build(void)
{
    int32_t one[] = {1}, two[] = {1, 2};
    s_create_ok(1, -1, NULL, 0);
    s_create_ok(2, 1, one, 1);
    s_create_ok(3, 2, two, 2);
    s_create_ok(4, 1, one, 1);
    CHECK(zlistx_size(s_up) == 0);
}

static void s_routing(void)
{
    int32_t to_three[] = {1, 2, 3};
    uint64_t exec = s_request(WIRE_EXEC, 3, to_three, 3, 1000000);
    s_pump();
    s_expect_reply(exec, 3, WIRE_OK, "ran");
    CHECK(sim_nodes[3].execs == 1);
    uint64_t ping = s_request(WIRE_PING, 2, to_three, 2, 1000000);
    s_pump();
    s_expect_reply(ping, 2, WIRE_OK, "");
    //  No such hop on the way: the node that cannot pass it on answers at once.
    int32_t nowhere[] = {1, 9};
    uint64_t lost = s_request(WIRE_PING, 9, nowhere, 2, 1000000);
    s_pump();
    s_expect_reply(lost, 1, WIRE_UNAVAILABLE, "");
}

//  At most once: a request that waits in a stopped node's queue past its deadline
//  is dropped when the node runs again, unanswered and unrun.
static void s_deadline_drop(void)
{
    int32_t to_three[] = {1, 2, 3};
    sim_nodes[3].frozen = true;
    s_request(WIRE_EXEC, 3, to_three, 3, 500000);
    s_pump();
    CHECK(sim_nodes[3].execs == 1);
    s_advance(600000);
    sim_nodes[3].frozen = false;
    s_pump();
    CHECK(sim_nodes[3].execs == 1);
    CHECK(zlistx_size(s_up) == 0);
}

static void s_pingall(void)
{
    uint64_t all = s_request(WIRE_BROADCAST, -1, NULL, 0, 2000000);
    s_pump();
    s_expect_ids(all, WIRE_OK, "1-4"); //  node -1, the controller, is no target

    //  Node 3 is stopped: each level answers at its deadline with what it has (2's
    //  first, the deepest, then 1's, then the root's). When 3 runs again the pingall
    //  is past its deadline: it drops it, as any request.
    sim_nodes[3].frozen = true;
    all = s_request(WIRE_BROADCAST, -1, NULL, 0, 2000000);
    s_pump();
    CHECK(zlistx_size(s_up) == 0);
    s_past_deadlines(2000000);
    s_expect_ids(all, WIRE_PARTIAL, "1-2,4");
    sim_nodes[3].frozen = false;
    s_advance(2000000);
    CHECK(zlistx_size(s_up) == 0);
}

//  A broadcast to the root, as the controller sends it: op for the targets, through
//  reach (both NULL: every node).
static uint64_t s_broadcast(const char *op, const char *targets, const char *reach,
                            reduce_t reduce)
{
    wire_msg_t *msg = wire_msg_new(WIRE_BROADCAST);
    msg->request_id = s_next_request++;
    msg->deadline_us = sim_now + 2000000;
    msg->node = -1;
    msg->reduce = (uint8_t)reduce;
    wire_bytes_copy(&msg->op, op, strlen(op));
    if (targets) {
        nodeset_spec_t spec[2];
        const char *reason;
        CHECK(nodeset_parse(targets, strlen(targets), &spec[0], &reason) == 0);
        CHECK(nodeset_parse(reach, strlen(reach), &spec[1], &reason) == 0);
        size_t first = nodeset_encoded_size(spec[0].ids);
        size_t size = first + nodeset_encoded_size(spec[1].ids);
        uint8_t *sets = (uint8_t *)malloc(size);
        nodeset_encode(spec[0].ids, sets);
        nodeset_encode(spec[1].ids, sets + first);
        wire_bytes_copy(&msg->sets, sets, size);
        free(sets);
        nodeset_spec_release(&spec[0]);
        nodeset_spec_release(&spec[1]);
    }
    uint64_t id = msg->request_id;
    node_request(s_root, &msg);
    return id;
}

static void s_expect_groups(uint64_t request, int status, const char *groups)
{
    wire_msg_t *msg = s_next_up();
    CHECK(msg && msg->type == WIRE_REPLY && msg->request_id == request &&
          msg->status == status && msg->node == -1);
    if (msg) {
        char *got = s_groups(msg);
        CHECK_STR(got, groups);
        free(got);
    }
    wire_msg_destroy(&msg);
}

static int s_execs(void)
{
    int execs = 0;
    for (int id = 0; id < SIM_MAX_NODES; id++)
        execs += sim_nodes[id].execs;
    return execs;
}

//  One broadcast: each node runs the op if it is a target, passes it only to the
//  children on the way to one, and answers once for its subtree; the root sends
//  up one fold, whatever the number of nodes.
static void s_broadcasts(void)
{
    int before = s_execs();
    uint64_t all = s_broadcast("parity", NULL, NULL, REDUCE_NONE);
    s_pump();
    s_expect_groups(all, WIRE_OK, "0:1,3:odd|0:2,4:even");
    CHECK(zlistx_size(s_up) == 0 && s_execs() == before + 4);

    //  Node 3 only: 1 and 2 pass it on without running it, 4 never hears of it.
    before = s_execs();
    int by_three = sim_nodes[3].execs;
    uint64_t three = s_broadcast("id", "3", "1-3", REDUCE_NONE);
    s_pump();
    s_expect_groups(three, WIRE_OK, "0:3:3");
    CHECK(s_execs() == before + 1 && sim_nodes[3].execs == by_three + 1);

    //  Reduced in the tree: 1 + 2 + 3 + 4, and a count.
    uint64_t sum = s_broadcast("id", NULL, NULL, REDUCE_SUM);
    s_pump();
    s_expect_groups(sum, WIRE_OK, "=10:1-4");
    uint64_t count = s_broadcast("parity", "2-4", "1-4", REDUCE_COUNT);
    s_pump();
    s_expect_groups(count, WIRE_OK, "=3:2-4");

    //  A node whose own op answers later: the fanout waits for it as for a child.
    uint64_t late = s_broadcast("late", "2", "1-2", REDUCE_MAX);
    s_pump();
    CHECK(zlistx_size(s_up) == 0 && s_late);
    node_op_reply(sim_nodes[2].node, &s_late);
    s_pump();
    s_expect_groups(late, WIRE_OK, "=7:2");

    //  Every node holds at most --max-reply of answers (64 bytes: one of these 40):
    //  node 2 keeps its own and counts 3's as too large, node 1 its own and the rest
    //  (node -1 has no limit here: what it sends is what node 1 sent).
    uint64_t large = s_broadcast("long", NULL, NULL, REDUCE_NONE);
    s_pump();
    s_expect_groups(large, WIRE_OK,
                    "0:1:1                                       |"
                    "1:2-4:" FOLD_TOO_LARGE);

    //  Node 3 stopped: at the deadline the answer goes up without it; when it runs
    //  again the broadcast is past its deadline and it drops it, running nothing.
    sim_nodes[3].frozen = true;
    before = s_execs();
    all = s_broadcast("id", NULL, NULL, REDUCE_SUM);
    s_pump();
    s_past_deadlines(2000000);
    s_expect_groups(all, WIRE_PARTIAL, "=7:1-2,4");
    sim_nodes[3].frozen = false;
    s_advance(2000000);
    CHECK(zlistx_size(s_up) == 0 && s_execs() == before + 3);

    //  Node 3 stops (its parent sees it) after the broadcast reached it: an op with
    //  effects waits for it to the deadline, since it may still run it; when it
    //  continues in time, its answer is in the one answer that goes up.
    sim_nodes[3].frozen = true;
    all = s_broadcast("id", NULL, NULL, REDUCE_SUM);
    s_pump();
    node_child_status(sim_nodes[2].node, SIM_PID_BASE + 3, 0x137f); //  stopped by SIGSTOP
    s_pump();
    s_expect_event(2, WIRE_CHILD_STOPPED, 3);
    s_advance(1000000);
    CHECK(zlistx_size(s_up) == 0);
    node_child_status(sim_nodes[2].node, SIM_PID_BASE + 3, 0xffff); //  continued
    sim_nodes[3].frozen = false;
    s_pump();
    s_expect_event(2, WIRE_CHILD_CONTINUED, 3);
    s_expect_groups(all, WIRE_OK, "=10:1-4");

    //  An op that changes nodes: a node's own answer is not held for its subtree's.
    //  Node 3 is stopped with the broadcast in its queue; node 2 runs the op, and is
    //  stopped while node 3 keeps its fanout waiting, past the deadline: what node 2
    //  did reaches the root all the same, sent to node 1 when it was done, and passed
    //  up by node 1 at its deadline. (Held by node 2 for node 3's, it was lost: the
    //  change would be reported failed although it took effect.) Node 3, run again,
    //  drops the broadcast as past its deadline.
    sim_nodes[3].frozen = true;
    before = s_execs();
    uint64_t mark = s_broadcast("mark", NULL, NULL, REDUCE_NONE);
    s_pump();
    sim_nodes[2].frozen = true;
    s_past_deadlines(2000000);
    s_expect_groups(mark, WIRE_PARTIAL, "0:1-2,4:ran");
    sim_nodes[2].frozen = false;
    sim_nodes[3].frozen = false;
    s_advance(2000000);
    s_advance(2000000);
    CHECK(zlistx_size(s_up) == 0 && s_execs() == before + 3);
    //  Nothing stopped: the answers came apart, the root still sends up one.
    mark = s_broadcast("mark", NULL, NULL, REDUCE_NONE);
    s_pump();
    s_expect_groups(mark, WIRE_OK, "0:1-4:ran");

    //  Sets that are not two node sets: dropped by the first node, nothing runs.
    wire_msg_t *bad = wire_msg_new(WIRE_BROADCAST);
    bad->request_id = s_next_request++;
    bad->deadline_us = sim_now + 1000000;
    bad->node = -1;
    wire_bytes_copy(&bad->op, "id", 2);
    wire_bytes_copy(&bad->sets, "\0\0\0\1", 4);
    before = s_execs();
    node_request(s_root, &bad);
    s_advance(2000000);
    CHECK(zlistx_size(s_up) == 0 && s_execs() == before);
}

static void s_heartbeats(void)
{
    //  Every node beats each 100 ms; node 2 stops: its parent, node 1, reports it
    //  lost once 4 intervals have passed without a beat, then back.
    wire_msg_t *config = wire_msg_new(WIRE_HEARTBEAT);
    config->node = -1;
    config->interval_ms = 100;
    node_request(s_root, &config);
    s_pump();
    CHECK(node_heartbeat_interval(sim_nodes[2].node) == 100);
    for (int tick = 0; tick < 20; tick++)
        s_advance(50000);
    CHECK(zlistx_size(s_up) == 0);
    sim_nodes[2].frozen = true;
    for (int tick = 0; tick < 8; tick++)
        s_advance(50000); //  400 ms: not yet
    CHECK(zlistx_size(s_up) == 0);
    s_advance(50000);
    s_advance(50000);
    s_expect_event(1, WIRE_CHILD_LOST, 2);
    CHECK(zlistx_size(s_up) == 0);
    sim_nodes[2].frozen = false;
    s_advance(50000);
    s_advance(50000);
    s_expect_event(1, WIRE_CHILD_BACK, 2);

    //  Node 2 stopped, as its parent sees through waitpid: reported stopped, never
    //  lost; continued, it gets a fresh count of beats, not "lost" at the next tick.
    node_child_status(sim_nodes[1].node, SIM_PID_BASE + 2, 0x137f);
    sim_nodes[2].frozen = true;
    for (int tick = 0; tick < 10; tick++)
        s_advance(50000);
    s_expect_event(1, WIRE_CHILD_STOPPED, 2);
    CHECK(zlistx_size(s_up) == 0);
    node_child_status(sim_nodes[1].node, SIM_PID_BASE + 2, 0xffff);
    s_pump();
    s_expect_event(1, WIRE_CHILD_CONTINUED, 2);
    s_advance(50000); //  continued, but its first beat is not in yet
    s_advance(50000);
    sim_nodes[2].frozen = false;
    for (int tick = 0; tick < 4; tick++)
        s_advance(50000);
    CHECK(zlistx_size(s_up) == 0);

    //  Node 1 stops for 5 s: the root reports it lost. When it runs again its own
    //  tick is late: it was stopped itself, its children's silence is its own (their
    //  beats wait in its queue), and it reports none of them.
    sim_nodes[1].frozen = true;
    for (int tick = 0; tick < 100; tick++)
        s_advance(50000);
    s_expect_event(-1, WIRE_CHILD_LOST, 1);
    CHECK(zlistx_size(s_up) == 0);
    sim_nodes[1].frozen = false;
    for (int tick = 0; tick < 4; tick++)
        s_advance(50000);
    s_expect_event(-1, WIRE_CHILD_BACK, 1);
    CHECK(zlistx_size(s_up) == 0);

    config = wire_msg_new(WIRE_HEARTBEAT);
    config->node = -1;
    node_request(s_root, &config);
    s_pump();
    CHECK(node_heartbeat_interval(sim_nodes[3].node) == 0);
}

static void s_deaths(void)
{
    //  Node 4 is killed: its parent reports it at once.
    node_destroy(&sim_nodes[4].node);
    node_child_status(sim_nodes[1].node, SIM_PID_BASE + 4, SIGKILL); //  WTERMSIG 9
    s_pump();
    s_expect_event(1, WIRE_CHILD_EXITED, 4);

    //  A pingall waiting for a child that stops answers without it at once.
    sim_nodes[3].frozen = true;
    uint64_t all = s_request(WIRE_BROADCAST, -1, NULL, 0, 2000000);
    s_pump();
    node_child_status(sim_nodes[2].node, SIM_PID_BASE + 3, 0x137f); //  stopped by SIGSTOP
    s_pump();
    s_expect_event(2, WIRE_CHILD_STOPPED, 3);
    s_expect_ids(all, WIRE_OK, "1-2");
    node_child_status(sim_nodes[2].node, SIM_PID_BASE + 3, 0xffff); //  continued
    s_pump();
    s_expect_event(2, WIRE_CHILD_CONTINUED, 3);
    sim_nodes[3].frozen = false;
    s_pump();
    //  Its late answer is dropped by its parent, whose part of that pingall ended:
    //  passed up, it would reach a node still gathering (at 4,000 nodes, many are)
    //  as an answer from a node that is not its child.
    CHECK(zlistx_size(s_up) == 0);

    //  remove: the parent kills the child, and answers once it is reaped.
    int32_t to_two[] = {1, 2};
    wire_msg_t *remove = wire_msg_new(WIRE_REMOVE);
    remove->request_id = 99;
    remove->node = 2;
    remove->child = 3;
    wire_set_path(remove, to_two, 2);
    node_request(s_root, &remove);
    s_pump();
    CHECK(sim_nodes[3].killed == 1 && zlistx_size(s_up) == 0);
    node_child_status(sim_nodes[2].node, SIM_PID_BASE + 3, SIGKILL);
    s_pump();
    s_expect_reply(99, 2, WIRE_OK, "");
}

//  A child that never says HELLO is ended at its create's deadline, and the create
//  is answered unavailable then, once: its end answers nothing more.
static void s_create_deadline(void)
{
    int32_t one[] = {1};
    sim_nodes[5].no_hello = true;
    uint64_t create = s_create(5, 1, one, 1);
    s_pump();
    CHECK(zlistx_size(s_up) == 0 && sim_nodes[5].killed == 0);
    s_advance(1000001);
    CHECK(sim_nodes[5].killed == 1);
    s_expect_reply(create, 1, WIRE_UNAVAILABLE, "");
    node_child_status(sim_nodes[1].node, SIM_PID_BASE + 5, SIGKILL);
    s_pump();
    CHECK(zlistx_size(s_up) == 0);
    CHECK(node_child(sim_nodes[1].node, 5) == NULL);
}

//  An ADOPT or a REMOVE for child of node 1, as the controller sends it.
static uint64_t s_to_node_one(wire_type_t type, int32_t child, int32_t pid)
{
    int32_t one[] = {1};
    wire_msg_t *msg = wire_msg_new(type);
    msg->request_id = s_next_request++;
    msg->deadline_us = sim_now + 1000000;
    msg->node = 1;
    msg->child = child;
    msg->pid = pid;
    if (type == WIRE_ADOPT)
        wire_bytes_copy(&msg->host, "h9", 2);
    wire_set_path(msg, one, 1);
    uint64_t request = msg->request_id;
    node_request(s_root, &msg);
    return request;
}

//  A worker that joins by itself: ADOPT makes its parent expect it and its HELLO, with
//  its own pid on its own host, answers; it is welcomed, and works like any node;
//  remove tells it to LEAVE (no process of ours to kill) and forgets it; one that
//  never comes is answered unavailable at the deadline and forgotten.
static void s_adopt(void)
{
    uint64_t adopt = s_to_node_one(WIRE_ADOPT, 9, 3);
    s_pump();
    CHECK(zlistx_size(s_up) == 0 && node_child(sim_nodes[1].node, 9) != NULL);
    node_config_t config = sim_config(9, node_endpoint(sim_nodes[1].node));
    config.pid = 777;
    //  The routing id the controller told it (join number 3): another is a stranger.
    char route[CHILDREN_ROUTE_MAX];
    children_route(route, 9, CHILDREN_JOINED | 3);
    config.route = route;
    node_handlers_t handlers = {.on_exec = s_on_exec};
    sim_nodes[9].node = node_new(&config, NULL, &handlers, &sim_nodes[9]);
    CHECK(sim_nodes[9].node != NULL);
    if (!sim_nodes[9].node)
        return;
    node_start(sim_nodes[9].node);
    s_pump();
    s_expect_created(adopt, 1, 777, node_endpoint(sim_nodes[9].node));
    CHECK(node_parent_heard(sim_nodes[9].node));
    int32_t path[] = {1, 9};
    uint64_t exec = s_request(WIRE_EXEC, 9, path, 2, 1000000);
    s_pump();
    s_expect_reply(exec, 9, WIRE_OK, "ran");
    //  A REMOVE naming another pid is someone else's: it leaves this one alone.
    uint64_t other = s_to_node_one(WIRE_REMOVE, 9, 778);
    s_pump();
    s_expect_reply(other, 1, WIRE_OK, "");
    CHECK(!node_left(sim_nodes[9].node));
    uint64_t remove = s_to_node_one(WIRE_REMOVE, 9, 777);
    s_pump();
    CHECK(node_left(sim_nodes[9].node) && sim_nodes[9].killed == 0);
    s_expect_reply(remove, 1, WIRE_OK, "");
    CHECK(node_child(sim_nodes[1].node, 9) == NULL);
    node_destroy(&sim_nodes[9].node);

    uint64_t never = s_to_node_one(WIRE_ADOPT, 10, 0);
    s_pump();
    CHECK(zlistx_size(s_up) == 0);
    s_advance(1000001);
    s_expect_reply(never, 1, WIRE_UNAVAILABLE, "");
    s_pump();
    CHECK(node_child(sim_nodes[1].node, 10) == NULL && sim_nodes[10].killed == 0);
    CHECK(zlistx_size(s_up) == 0);

    //  A HELLO that says pid 0 names no process: it is dropped, so the adoption is
    //  never reported made (the controller could then end no process of it), and it
    //  fails at its deadline.
    uint64_t zero = s_to_node_one(WIRE_ADOPT, 15, 4);
    s_pump();
    zsock_t *liar = zsock_new(ZMQ_DEALER);
    children_route(route, 15, CHILDREN_JOINED | 4);
    zsock_set_identity(liar, route);
    CHECK(zsock_connect(liar, "%s", node_endpoint(sim_nodes[1].node)) == 0);
    wire_msg_t *hello = wire_msg_new(WIRE_HELLO);
    hello->node = 15;
    wire_send(liar, NULL, &hello);
    s_pump();
    CHECK(zlistx_size(s_up) == 0);
    s_advance(1000001);
    s_expect_reply(zero, 1, WIRE_UNAVAILABLE, "");
    zsock_destroy(&liar);
    CHECK(node_child(sim_nodes[1].node, 15) == NULL && zlistx_size(s_up) == 0);
}

//  Commands need not wait above for a create's answer: what comes for a child still
//  starting (for it, or for a node to be made below it) waits at its parent and goes
//  on, in order, once it says HELLO; the create's answer comes first. If it never
//  does, the create is answered unavailable at its deadline, then each held request.
static void s_held_while_starting(void)
{
    int32_t one[] = {1}, to_eleven[] = {1, 11}, to_thirteen[] = {1, 13};
    sim_nodes[11].no_hello = true;
    uint64_t create = s_create(11, 1, one, 1);
    uint64_t exec = s_request(WIRE_EXEC, 11, to_eleven, 2, 2000000);
    uint64_t below = s_create(12, 11, to_eleven, 2);
    uint64_t again = s_request(WIRE_EXEC, 11, to_eleven, 2, 2000000);
    s_pump();
    CHECK(zlistx_size(s_up) == 0 && sim_nodes[11].execs == 0 && !sim_nodes[12].node);
    node_start(sim_nodes[11].node);
    s_pump();
    s_expect_created(create, 1, SIM_PID_BASE + 11, NULL);
    s_expect_reply(exec, 11, WIRE_OK, "ran");
    //  A create is answered when the new child says HELLO: after the second exec.
    s_expect_reply(again, 11, WIRE_OK, "ran");
    s_expect_created(below, 11, SIM_PID_BASE + 12, NULL);
    CHECK(sim_nodes[11].execs == 2 && sim_nodes[12].node);
    CHECK(zlistx_size(s_up) == 0);

    sim_nodes[13].no_hello = true;
    create = s_create(13, 1, one, 1);
    exec = s_request(WIRE_EXEC, 13, to_thirteen, 2, 3000000);
    below = s_create(14, 13, to_thirteen, 2);
    s_pump();
    CHECK(zlistx_size(s_up) == 0);
    s_advance(1000001);
    CHECK(sim_nodes[13].killed == 1 && sim_nodes[13].execs == 0 && !sim_nodes[14].node);
    s_expect_reply(create, 1, WIRE_UNAVAILABLE, "");
    s_expect_reply(exec, 1, WIRE_UNAVAILABLE, "");
    s_expect_reply(below, 1, WIRE_UNAVAILABLE, "");
    node_child_status(sim_nodes[1].node, SIM_PID_BASE + 13, SIGKILL);
    s_pump();
    CHECK(zlistx_size(s_up) == 0);
}

//  At the root an answer reaches the controller within the call, and the controller
//  may send the node more before it returns: here, when an adoption fails at its
//  deadline, a create of the same id that waited for that answer replaces the
//  entry. The node has ended the child it gave up on before it answers, and never
//  touches that entry after (it was freed, and a kill through it could end the new
//  child).
static void s_answer_reenters(void)
{
    wire_msg_t *msg = wire_msg_new(WIRE_ADOPT);
    msg->request_id = s_next_request++;
    msg->deadline_us = sim_now + 1000000;
    msg->node = -1;
    msg->child = 14;
    msg->pid = 5;
    wire_bytes_copy(&msg->host, "h9", 2);
    uint64_t adopt = msg->request_id;
    node_request(s_root, &msg);
    s_pump();
    CHECK(node_child(s_root, 14) != NULL && zlistx_size(s_up) == 0);
    s_create_on_failure = 14;
    uint64_t create = s_next_request; //  the request id the create will take
    s_advance(1000001);
    CHECK(s_create_on_failure == 0);
    s_expect_reply(adopt, -1, WIRE_UNAVAILABLE, "");
    s_expect_created(create, -1, SIM_PID_BASE + 14, NULL);
    CHECK(sim_nodes[14].node != NULL && sim_nodes[14].killed == 0);
    CHECK(node_child(s_root, 14) != NULL);
    s_advance(1000);
    CHECK(sim_nodes[14].killed == 0 && node_child(s_root, 14) != NULL);
    CHECK(zlistx_size(s_up) == 0);
}

int main(void)
{
    zsys_init();
    zsys_handler_set(NULL);
    s_up = zlistx_new();
    zlistx_set_destructor(s_up, (zlistx_destructor_fn *)wire_msg_destroy);
    sim_handlers = (node_handlers_t){.on_exec = s_on_exec, .op_changes = s_changes};
    sim_max_reply = NODES_REPLY_MAX;
    node_config_t config = sim_config(-1, NULL);
    node_handlers_t handlers = {.on_up = s_on_up};
    s_root = node_new(&config, NULL, &handlers, NULL);
    CHECK(s_root != NULL);
    s_build();
    s_routing();
    s_deadline_drop();
    s_pingall();
    s_broadcasts();
    s_heartbeats();
    s_deaths();
    s_create_deadline();
    s_adopt();
    s_held_while_starting();
    s_answer_reenters();
    node_destroy(&s_root);
    sim_destroy();
    zlistx_destroy(&s_up);
    return check_report("node");
}
