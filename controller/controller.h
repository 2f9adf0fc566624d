/*  controller — the core of the mqtree shell: the topology, the request table, the
    controller's own child processes, and the rules that turn commands into messages
    down the tree and replies into results. No stdin, no stdout and no text: results
    and events leave as structs (output.h) through one sink, results tagged with the
    number of the command they answer, so the shell decides how and when to print
    them and the tests can drive it directly. */
#ifndef MQTREE_CONTROLLER_H
#define MQTREE_CONTROLLER_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "../common/loop.h"
#include "../common/log.h"
#include "../common/run_dir.h"
#include "../node/children.h"
#include "output.h"
#include "parser.h"
#include "tree_view.h"

typedef struct {
    int timeout_ms;
    tree_settings_t tree; //  passed down to every node
    const char *worker_path;
    run_dir_t *run_dir; //  ipc endpoints; removed nodes' socket files go from it
    tree_style_t tree_style;
    size_t nodes_max; //  nodes in the tree (see limits.h); 0: no limit
    const char *listen; //  tcp: where workers join (mqtree-worker --join); NULL: none
    //  For tests with no process and no sleep: the clock of every deadline and timer
    //  (now_us NULL: CLOCK_MONOTONIC), and what starts and ends the nodes (NULL:
    //  mqtree-worker processes; with one, nothing is reaped at the end).
    clock_source_t clock;
    const spawner_t *spawner;
} controller_config_t;

typedef struct _controller_t controller_t;

//  Registers the controller's sockets and timers on loop (NULL: the caller drives
//  it with controller_poll); every result and event goes to sink. NULL on failure.
controller_t *controller_new(const controller_config_t *config, loop_t *loop,
                             output_sink_fn *sink, void *sink_arg);

//  Without a loop: handles every message waiting and runs the timers that are due
//  on the clock. Returns how many it handled.
int controller_poll(controller_t *self);

//  Ends every worker process and reaps them; removes nothing from disk.
void controller_destroy(controller_t **self_p);

//  Takes a parsed command (help and exit are the shell's) and answers it through the
//  sink, at once or when its reply, deadline or a death decides it. The answer to
//  tree is one text of several lines.
//  Commands that name a node whose create or remove is still in flight wait for it.
void controller_submit(controller_t *self, command_t **command, uint64_t seq);

//  The shell's signalfd saw SIGCHLD: reap and act on it.
void controller_on_sigchld(controller_t *self);

//  Commands not answered yet: in flight or waiting.
size_t controller_outstanding(controller_t *self);

//  The ids of every node, ascending (for completion). The caller frees the array.
int32_t *controller_ids(controller_t *self, size_t *count);

//  The view of node id's subtree (TOPOLOGY_ROOT: all), or NULL if there is no such
//  node; with endpoints, where each node's children connect. The caller frees it.
char *controller_tree(controller_t *self, int32_t id, bool endpoints);

#endif
