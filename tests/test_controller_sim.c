/*  Unit test: the controller core with no process and no sleep. Its nodes are
    in-process node_t's linked over inproc:// (a spawner that makes a node instead of
    a process), on a clock the test moves by hand; a "stopped" node is one the test
    does not poll. Commands go in through controller_submit, and what comes out is
    the result lines and Heartbit lines the shell would print. The tree:
        -1 ── 1 ── 2 ── 3                                                         */
#define _GNU_SOURCE
#include "../controller/controller.h"
#include "../node/node.h"
#include "check.h"

#include <signal.h>
#include <stdlib.h>

#define MAX_NODES 8
#define PID_BASE 1000
#define TIMEOUT_MS 2000

typedef struct {
    node_t *node;
    bool frozen;    //  "stopped": not polled
    int32_t parent; //  the id of the node that spawned it (-1: the controller)
    bool dead;      //  killed: its parent is told (as waitpid would) on the next poll
} sim_t;

static sim_t s_nodes[MAX_NODES]; //  by id
static bool s_no_hello[MAX_NODES]; //  spawned, but never says HELLO
static int s_killed[MAX_NODES];
static int64_t s_now = 1000000000;
static controller_t *s_controller;
static char *s_results[64]; //  the result line of command seq
static zlistx_t *s_events;   //  Heartbit lines, in order

static int64_t s_clock(void *arg)
{
    (void)arg;
    return s_now;
}

static void s_on_exec(void *owner, wire_msg_t **msg)
{
    sim_t *sim = (sim_t *)owner;
    char text[16];
    snprintf(text, sizeof text, "ran on %d", (int)(sim - s_nodes));
    node_reply(sim->node, (*msg)->request_id, WIRE_OK, text, strlen(text));
}

static node_config_t s_config(int32_t id, const char *parent);

static pid_t s_spawn(void *arg, int32_t id, const char *endpoint, const char *route,
                     const char *host, int *link_fd)
{
    (void)arg;
    (void)host;
    (void)link_fd;
    CHECK(id > 0 && id < MAX_NODES && !s_nodes[id].node);
    s_nodes[id].parent = -1;
    for (int parent = 0; parent < MAX_NODES; parent++)
        if (s_nodes[parent].node && !strcmp(node_endpoint(s_nodes[parent].node), endpoint))
            s_nodes[id].parent = parent;
    s_nodes[id].dead = false;
    node_config_t config = s_config(id, endpoint);
    config.route = route;
    node_handlers_t handlers = {.on_exec = s_on_exec};
    s_nodes[id].node = node_new(&config, NULL, &handlers, &s_nodes[id]);
    CHECK(s_nodes[id].node != NULL);
    if (!s_no_hello[id])
        node_start(s_nodes[id].node);
    return PID_BASE + id;
}

static void s_kill(void *arg, pid_t pid)
{
    (void)arg;
    int32_t id = (int32_t)(pid - PID_BASE);
    CHECK(id > 0 && id < MAX_NODES);
    s_killed[id]++;
    node_destroy(&s_nodes[id].node);
    s_nodes[id].dead = true;
}

static const spawner_t s_spawner = {s_spawn, s_kill, NULL};

static node_config_t s_config(int32_t id, const char *parent)
{
    node_config_t config = {
        .id = id,
        .parent_endpoint = parent,
        .pid = PID_BASE + id,
        .children = {.tree = {.transport = TRANSPORT_INPROC, .log_level = LEVEL_ERROR},
                     .spawner = &s_spawner},
        .clock = {s_clock, NULL},
    };
    return config;
}

static void s_sink(void *arg, const result_t *result, const event_t *event)
{
    (void)arg;
    if (event) {
        zlistx_add_end(s_events, output_text.event(event));
        return;
    }
    CHECK(result->seq < 64 && !s_results[result->seq]);
    if (result->seq < 64 && !s_results[result->seq])
        s_results[result->seq] = output_text.result(result, 0);
}

//  Polls the controller and every node that is not frozen until nothing moves. A
//  killed node's parent (not the controller: its reaping is the process's) hears
//  of the death as it would from waitpid.
static void s_pump(void)
{
    for (int round = 0; round < 1000; round++) {
        int moved = controller_poll(s_controller);
        for (int id = 0; id < MAX_NODES; id++) {
            sim_t *parent = s_nodes[id].parent > 0 ? &s_nodes[s_nodes[id].parent] : NULL;
            if (s_nodes[id].dead && parent && parent->node && !parent->frozen) {
                s_nodes[id].dead = false;
                node_child_status(parent->node, PID_BASE + id, SIGKILL);
                moved++;
            }
            if (s_nodes[id].node && !s_nodes[id].frozen)
                moved += node_poll(s_nodes[id].node);
        }
        if (!moved)
            return;
    }
    CHECK(!"the tree settles");
}

//  Moves the clock by ms, a millisecond at a time (each level's deadline comes a
//  little before its parent's), letting the tree settle at each step.
static void s_advance_ms(int ms)
{
    for (int i = 0; i < ms; i++) {
        s_now += 1000;
        s_pump();
    }
}

static uint64_t s_seq = 1;

//  Submits a line; returns its command number.
static uint64_t s_submit(const char *text)
{
    command_t *command = NULL;
    parse_error_t error;
    CHECK(parser_parse(strdup(text), strlen(text), EXEC_ANY, &command, &error) == 1);
    parse_error_clear(&error);
    uint64_t seq = s_seq++;
    controller_submit(s_controller, &command, seq);
    s_pump();
    return seq;
}

static const char *s_result(uint64_t seq)
{
    return seq < 64 && s_results[seq] ? s_results[seq] : "(none)";
}

//  The next Heartbit line (the caller frees it), or NULL.
static char *s_next_event(void)
{
    return (char *)zlistx_detach(s_events, NULL);
}

static void s_expect_event(const char *line)
{
    char *event = s_next_event();
    CHECK_STR(event, line);
    free(event);
}

//  A 3-level tree answers commands routed through it, at once: no time passes.
static void s_build(void)
{
    char expected[32];
    uint64_t one = s_submit("create 1"), two = s_submit("create 2 1"),
             three = s_submit("create 3 2");
    snprintf(expected, sizeof expected, "Ok: %d", PID_BASE + 1);
    CHECK_STR(s_result(one), expected);
    snprintf(expected, sizeof expected, "Ok: %d", PID_BASE + 2);
    CHECK_STR(s_result(two), expected);
    snprintf(expected, sizeof expected, "Ok: %d", PID_BASE + 3);
    CHECK_STR(s_result(three), expected);
    CHECK_STR(s_result(s_submit("exec 3 op")), "Ok:3: ran on 3");
    CHECK_STR(s_result(s_submit("ping 2")), "Ok: 1");
    CHECK_STR(s_result(s_submit("pingall")), "Ok: -1");
    CHECK_STR(s_result(s_submit("exec all op")), "Ok:1: ran on 1\nOk:2: ran on 2\n"
                                                 "Ok:3: ran on 3");
    CHECK_STR(s_result(s_submit("create 2")), "Error: Already exists");
    CHECK(controller_outstanding(s_controller) == 0);
}

//  A stopped node: its exec is answered unavailable at the timeout, not a moment
//  before, and a pingall names it and the node it cuts off, within one timeout.
static void s_timeouts(void)
{
    s_nodes[2].frozen = true;
    uint64_t exec = s_submit("exec 3 op");
    s_advance_ms(TIMEOUT_MS - 1);
    CHECK_STR(s_result(exec), "(none)");
    s_advance_ms(1);
    CHECK_STR(s_result(exec), "Error:3: Node is unavailable");
    uint64_t pingall = s_submit("pingall");
    s_advance_ms(TIMEOUT_MS);
    CHECK_STR(s_result(pingall), "Ok: 2;3");
    s_nodes[2].frozen = false;
    s_pump();
    CHECK_STR(s_result(s_submit("exec 3 op")), "Ok:3: ran on 3");
    CHECK(controller_outstanding(s_controller) == 0);
}

//  A create whose child never says HELLO fails at its timeout, and its parent ends
//  the child: a create reported failed leaves no node, and the id is free again.
static void s_create_timeout(void)
{
    s_no_hello[4] = true;
    uint64_t create = s_submit("create 4 1");
    s_advance_ms(TIMEOUT_MS);
    CHECK_STR(s_result(create), "Error: Parent is unavailable");
    CHECK(s_killed[4] == 1 && !s_nodes[4].node);
    s_no_hello[4] = false;
    char expected[32];
    snprintf(expected, sizeof expected, "Ok: %d", PID_BASE + 4);
    CHECK_STR(s_result(s_submit("create 4 1")), expected);
    CHECK_STR(s_result(s_submit("remove 4")), "Ok");
    CHECK(s_killed[4] == 2);
}

//  Heartbeats: a node that stops beating is reported once its parent missed its
//  beats, with the node it cuts off; when it beats again, both come back.
static void s_heartbeats(void)
{
    CHECK_STR(s_result(s_submit("heartbeat 300")), "Ok");
    s_advance_ms(2000);
    CHECK(zlistx_size(s_events) == 0);
    s_nodes[2].frozen = true;
    s_advance_ms(300 * 6);
    s_expect_event("Heartbit: node 2 is unavailable now");
    s_expect_event("Heartbit: node 3 is unavailable now");
    CHECK(zlistx_size(s_events) == 0);
    s_nodes[2].frozen = false;
    s_advance_ms(300 * 2);
    s_expect_event("Heartbit: node 2 is available again");
    s_expect_event("Heartbit: node 3 is available again");
    CHECK(zlistx_size(s_events) == 0);
    CHECK_STR(s_result(s_submit("heartbeat 0")), "Ok");
}

int main(void)
{
    zsys_init();
    zsys_set_linger(0);
    s_events = zlistx_new();
    controller_config_t config = {
        .timeout_ms = TIMEOUT_MS,
        .tree = {.transport = TRANSPORT_INPROC, .log_level = LEVEL_ERROR},
        .clock = {s_clock, NULL},
        .spawner = &s_spawner,
    };
    s_controller = controller_new(&config, NULL, s_sink, NULL);
    CHECK(s_controller != NULL);
    if (s_controller) {
        s_build();
        s_timeouts();
        s_create_timeout();
        s_heartbeats();
        controller_destroy(&s_controller);
    }
    for (int id = 0; id < MAX_NODES; id++)
        node_destroy(&s_nodes[id].node);
    char *event;
    while ((event = s_next_event()))
        free(event);
    zlistx_destroy(&s_events);
    for (int seq = 0; seq < 64; seq++)
        free(s_results[seq]);
    return check_report("controller_sim");
}
