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

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

//  Whether any socket of root or of a node not frozen has a message to read, waiting
//  up to timeout_ms for one.
static bool sim_readable(node_t *root, int timeout_ms)
{
    zmq_pollitem_t items[2 * (SIM_MAX_NODES + 1)];
    int count = 0;
    for (int id = -1; id < SIM_MAX_NODES; id++) {
        node_t *node = id < 0 ? root : sim_nodes[id].node;
        if (!node || (id >= 0 && sim_nodes[id].frozen))
            continue;
        zsock_t *sockets[] = {node_router(node), node_upstream(node)};
        for (size_t i = 0; i < 2; i++)
            if (sockets[i])
                items[count++] = (zmq_pollitem_t){zsock_resolve(sockets[i]), 0, ZMQ_POLLIN, 0};
    }
    return zmq_poll(items, count, timeout_ms) > 0;
}

//  Polls root (poll_root(root_arg): the node, or the controller over it) and every
//  node that is not frozen until nothing moves. Under valgrind, whose scheduler runs
//  one thread at a time, work libzmq's own threads owe these sockets can come late
//  (a message then reached its reader only pumps later, one test run in four): a
//  quiet round counts only once no socket has become readable for a while.
static void sim_pump(int (*poll_root)(void *), void *root_arg, node_t *root)
{
    int quiet_ms = RUNNING_ON_VALGRIND ? 1 : 0;
    for (int round = 0; round < 1000; round++) {
        int moved = poll_root(root_arg) + sim_poll();
        if (!moved && !(quiet_ms && sim_readable(root, quiet_ms)))
            return;
    }
    CHECK(!"the nodes settle");
}

//  Ends every node still there.
static void sim_destroy(void)
{
    for (int id = 0; id < SIM_MAX_NODES; id++)
        node_destroy(&sim_nodes[id].node);
}

#endif
