/*  heartbeat — the controller's view of heartbeats, and the asynchronous events
    behind "Heartbit: node X is unavailable now" / "... is available again".

    Beats are aggregated: every worker watches its own children's beats and reports
    only changes (lost, back) upward, so the controller hears beats from its own
    children only. A node is unavailable when it is dead, stopped, reported lost, or
    behind such a node; each change of that is one event per node, once. Known
    deaths and stops (from waitpid, upstream) are reported at once, without waiting
    for the missing beats. */
#ifndef MQTREE_HEARTBEAT_H
#define MQTREE_HEARTBEAT_H

#include <stdint.h>

#include "output.h"
#include "topology.h"

//  The shortest interval accepted (0 aside). Measured: on a 2-core machine shared
//  with other work, a 500-node idle tree printed false Heartbit lines at 100 ms
//  and below (thousands in 10 s; heartbeat 1 burnt both cores), none at 150 ms
//  and above; the floor keeps a margin over that (README, Limits).
#define HEARTBEAT_MIN_MS 300

typedef struct _heartbeat_t heartbeat_t;

//  The changes go to sink as events.
heartbeat_t *heartbeat_new(topology_t *topology, output_sink_fn *sink, void *sink_arg);
void heartbeat_destroy(heartbeat_t **self_p);

//  Turns heartbeats on (ms > 0) or off (0). Every node starts as available, so
//  switching on reports only what is already known dead or stopped; a new interval
//  while on changes nothing that was said.
void heartbeat_set_interval(heartbeat_t *self, int ms);
int heartbeat_interval(heartbeat_t *self);

//  A node's parent reports its beats missing (lost) or back: said at the next update.
void heartbeat_set_lost(heartbeat_t *self, topo_node_t *node, bool lost);

//  Reports every node whose availability changed since the last report. A node that
//  was unavailable only behind another that is back is said available an interval
//  later (what the other saw of it meanwhile may still be on its way): returns when
//  to update again for it (-1: no need). now_us: CLOCK_MONOTONIC.
int64_t heartbeat_update(heartbeat_t *self, int64_t now_us);

#endif
