/*  sim_nodes — in-process nodes for the unit tests of the node and controller cores:
    a spawner that makes a node_t for each child instead of a process, linked over
    inproc://, all on a clock the test moves by hand. A "stopped" node is one the test
    does not poll; a death is a wait status the test hands to the parent
    (node_child_status). Header-only: each test is one program. */
#ifndef MQTREE_SIM_NODES_H
#define MQTREE_SIM_NODES_H

#include "../node/node.h"
#include "check.h"

#define SIM_MAX_NODES 16
#define SIM_PID_BASE 1000

typedef struct {
    node_t *node;
    bool frozen;   //  "stopped": not polled
    bool no_hello; //  spawned, but never says HELLO
    int killed;    //  how many times its process was ended
    int execs;     //  EXECs it ran (for the test's on_exec)
} sim_node_t;

static sim_node_t sim_nodes[SIM_MAX_NODES]; //  by id; the root apart
static int64_t sim_now = 1000000000;
//  What the spawned nodes do (the owner of each is its sim_node_t), and their
//  --max-reply (the root's is 0: none). Set by the test before it spawns.
static node_handlers_t sim_handlers;
static size_t sim_max_reply;

static int64_t sim_clock(void *arg)
{
    (void)arg;
    return sim_now;
}

static node_config_t sim_config(int32_t id, const char *parent);

static pid_t sim_spawn(void *arg, int32_t id, const char *endpoint, const char *route,
                       const char *host, int *link_fd)
{
    (void)arg;
    (void)host;
    (void)link_fd;
    CHECK(id > 0 && id < SIM_MAX_NODES && !sim_nodes[id].node);
    node_config_t config = sim_config(id, endpoint);
    config.route = route;
    sim_nodes[id].node = node_new(&config, NULL, &sim_handlers, &sim_nodes[id]);
    CHECK(sim_nodes[id].node != NULL);
    if (!sim_nodes[id].no_hello)
        node_start(sim_nodes[id].node);
    return SIM_PID_BASE + id;
}

static void sim_kill(void *arg, pid_t pid)
{
    (void)arg;
    int32_t id = (int32_t)(pid - SIM_PID_BASE);
    CHECK(id > 0 && id < SIM_MAX_NODES);
    sim_nodes[id].killed++;
    node_destroy(&sim_nodes[id].node);
}

static const spawner_t sim_spawner = {sim_spawn, sim_kill, NULL};

static node_config_t sim_config(int32_t id, const char *parent)
{
    node_config_t config = {
        .id = id,
        .parent_endpoint = parent,
        .pid = SIM_PID_BASE + id,
        .children = {.tree = {.transport = TRANSPORT_INPROC,
                              .log_level = LEVEL_ERROR,
                              .max_reply = id == -1 ? 0 : sim_max_reply},
                     .spawner = &sim_spawner},
        .clock = {sim_clock, NULL},
    };
    return config;
}

//  Polls every node that is not frozen once: how much moved.
static int sim_poll(void)
{
    int moved = 0;
    for (int id = 0; id < SIM_MAX_NODES; id++)
        if (sim_nodes[id].node && !sim_nodes[id].frozen)
            moved += node_poll(sim_nodes[id].node);
    return moved;
}

//  Ends every node still there.
static void sim_destroy(void)
{
    for (int id = 0; id < SIM_MAX_NODES; id++)
        node_destroy(&sim_nodes[id].node);
}

#endif
