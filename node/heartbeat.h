/*  heartbeat — a node's beats out and its children's beats in. Every interval the
    node beats to its parent and looks at its children: one silent for BEATS_MISSED
    intervals is reported lost (CHILD_MISS), one heard again back (CHILD_BEAT), through
    the child state machine, so only changes travel further up: a parent hears one
    beat per child of its own however big the tree is. */
#ifndef MQTREE_NODE_HEARTBEAT_H
#define MQTREE_NODE_HEARTBEAT_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/timers.h"
#include "../common/wire.h"
#include "children.h"

//  A child whose heartbeats are missing this many intervals is reported lost.
#define BEATS_MISSED 4

typedef void(beats_send_fn)(void *arg, wire_msg_t **msg);
typedef struct _beats_t beats_t;

//  send_up is NULL for the root (the controller beats to no one).
beats_t *beats_new(int32_t self_id, children_t *children, timers_t *timers,
                   beats_send_fn *send_up, void *send_arg);
void beats_destroy(beats_t **self_p);

//  Beats every interval_ms (0: stop), and tells every reachable child the same.
void beats_set_interval(beats_t *self, int interval_ms);
int beats_interval(beats_t *self);

//  A child just became ready: it is told the interval, and counted as heard now.
void beats_child_ready(beats_t *self, child_t *child);

//  A beat from child.
void beats_heard(beats_t *self, child_t *child);

#endif
