/*  Unit test: the controller core with no process and no sleep. Its nodes are
    in-process (sim_nodes.h: a spawner that makes a node_t instead of a process,
    linked over inproc://, on a clock the test moves by hand; a "stopped" node is one
    the test does not poll). Commands go in through controller_submit, and what comes
    out is the result lines and Heartbit lines the shell would print. The tree:
        -1 ── 1 ── 2 ── 3                                                         */
#define _GNU_SOURCE
#include "../controller/controller.h"
#include "../controller/controller_internal.h"
#include "sim_nodes.h"

#include <signal.h>
#include <stdlib.h>

#define TIMEOUT_MS 2000

static controller_t *s_controller;
static char *s_results[64]; //  the result line of command seq
static zlistx_t *s_events;   //  Heartbit lines, in order

static void s_on_exec(void *owner, wire_msg_t **msg)
{
    sim_node_t *sim = (sim_node_t *)owner;
    char text[16];
    snprintf(text, sizeof text, "ran on %d", (int)(sim - sim_nodes));
    node_reply(sim->node, (*msg)->request_id, WIRE_OK, text, strlen(text));
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

static int s_poll_controller(void *controller)
{
    return controller_poll((controller_t *)controller);
}

//  Polls the controller and every node that is not frozen until nothing moves.
static void s_pump(void)
{
    sim_pump(s_poll_controller, s_controller, s_controller->node);
}

//  Moves the clock by ms, a millisecond at a time (each level's deadline comes a
//  little before its parent's), letting the tree settle at each step.
static void s_advance_ms(int ms)
{
    for (int i = 0; i < ms; i++) {
        sim_now += 1000;
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
    snprintf(expected, sizeof expected, "Ok: %d", SIM_PID_BASE + 1);
    CHECK_STR(s_result(one), expected);
    snprintf(expected, sizeof expected, "Ok: %d", SIM_PID_BASE + 2);
    CHECK_STR(s_result(two), expected);
    snprintf(expected, sizeof expected, "Ok: %d", SIM_PID_BASE + 3);
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
    sim_nodes[2].frozen = true;
    uint64_t exec = s_submit("exec 3 op");
    s_advance_ms(TIMEOUT_MS - 1);
    CHECK_STR(s_result(exec), "(none)");
    s_advance_ms(1);
    CHECK_STR(s_result(exec), "Error:3: Node is unavailable");
    uint64_t pingall = s_submit("pingall");
    s_advance_ms(TIMEOUT_MS);
    CHECK_STR(s_result(pingall), "Ok: 2;3");
    sim_nodes[2].frozen = false;
    s_pump();
    CHECK_STR(s_result(s_submit("exec 3 op")), "Ok:3: ran on 3");
    CHECK(controller_outstanding(s_controller) == 0);
}

//  A create whose child never says HELLO fails at its timeout, and its parent ends
//  the child: a create reported failed leaves no node, and the id is free again.
static void s_create_timeout(void)
{
    sim_nodes[4].no_hello = true;
    uint64_t create = s_submit("create 4 1");
    //  Sent on behind the create, held at node 1 for its child: answered with the
    //  create's failure, not a timeout later.
    uint64_t held_exec = s_submit("exec 4 op"), held_create = s_submit("create 5 4");
    s_advance_ms(TIMEOUT_MS);
    CHECK_STR(s_result(create), "Error: Parent is unavailable");
    CHECK_STR(s_result(held_exec), "Error:4: Not found");
    CHECK_STR(s_result(held_create), "Error: Parent not found");
    CHECK(sim_nodes[4].killed == 1 && !sim_nodes[4].node);
    node_child_status(sim_nodes[1].node, SIM_PID_BASE + 4, SIGKILL); //  reaped
    s_pump();
    sim_nodes[4].no_hello = false;
    char expected[32];
    snprintf(expected, sizeof expected, "Ok: %d", SIM_PID_BASE + 4);
    CHECK_STR(s_result(s_submit("create 4 1")), expected);
    uint64_t remove = s_submit("remove 4");
    CHECK(sim_nodes[4].killed == 2);
    node_child_status(sim_nodes[1].node, SIM_PID_BASE + 4, SIGKILL); //  reaped
    s_pump();
    CHECK_STR(s_result(remove), "Ok");
}

//  Heartbeats: a node that stops beating is reported once its parent missed its
//  beats, with the node it cuts off; when it beats again, both come back.
static void s_heartbeats(void)
{
    CHECK_STR(s_result(s_submit("heartbeat 300")), "Ok");
    s_advance_ms(2000);
    CHECK(zlistx_size(s_events) == 0);
    sim_nodes[2].frozen = true;
    s_advance_ms(300 * 6);
    s_expect_event("Heartbit: node 2 is unavailable now");
    s_expect_event("Heartbit: node 3 is unavailable now");
    CHECK(zlistx_size(s_events) == 0);
    sim_nodes[2].frozen = false;
    s_advance_ms(300 * 2);
    s_expect_event("Heartbit: node 2 is available again");
    s_expect_event("Heartbit: node 3 is available again");
    CHECK(zlistx_size(s_events) == 0);
    //  A child of the controller's own: its loss is found by node -1's timers, and
    //  told at the end of that turn, not an interval later.
    sim_nodes[1].frozen = true;
    s_advance_ms(300 * 4);
    int64_t lost_by = sim_now + 300 * 1000 + 1000;
    while (zlistx_size(s_events) == 0 && sim_now < lost_by)
        s_advance_ms(1);
    s_expect_event("Heartbit: node 1 is unavailable now");
    s_expect_event("Heartbit: node 2 is unavailable now");
    s_expect_event("Heartbit: node 3 is unavailable now");
    sim_nodes[1].frozen = false;
    s_advance_ms(300 * 2);
    s_expect_event("Heartbit: node 1 is available again");
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
    sim_handlers = (node_handlers_t){.on_exec = s_on_exec};
    controller_config_t config = {
        .timeout_ms = TIMEOUT_MS,
        .tree = {.transport = TRANSPORT_INPROC, .log_level = LEVEL_ERROR},
        .clock = {sim_clock, NULL},
        .spawner = &sim_spawner,
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
    sim_destroy();
    char *event;
    while ((event = s_next_event()))
        free(event);
    zlistx_destroy(&s_events);
    for (int seq = 0; seq < 64; seq++)
        free(s_results[seq]);
    return check_report("controller_sim");
}
