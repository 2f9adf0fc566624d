/*  waiting — the order rule of the controller. A piped script must get the replies
    the same lines get when typed one by one. So a command that names a node whose
    create or remove is in flight waits for it, and so does every later command that
    names the same nodes (or nodes below a waiting remove), in the order read.
    Independent commands never wait.

    A command runs through the run callback at once, or is held and run later, in the
    order read, when what it waits for changes: the controller calls waiting_wake with
    the node whose state changed or whose requests in flight ended. Each check costs
    O(depth) (a remove: O(its subtree)), never O(commands held).

    Spawns are paced: at most spawn_max creates are in flight per host (the host the
    new node runs on; the controller's own is ""). A create beyond waits, in the
    order read, until one ends, and its timeout starts only when it is sent: a
    machine asked to spawn thousands at once finishes none of them in time. */
#ifndef MQTREE_WAITING_H
#define MQTREE_WAITING_H

#include <stddef.h>
#include <stdint.h>

#include "parser.h"
#include "requests.h"
#include "topology.h"

typedef struct _waiting_t waiting_t;
typedef struct _spawn_slot_t spawn_slot_t;

//  Runs a command; waiting destroys the command after the call.
typedef void(waiting_run_fn)(void *arg, command_t *command, uint64_t seq);

//  spawn_max: creates in flight per host, at most (0: no limit).
waiting_t *waiting_new(topology_t *topology, requests_t *requests, bool bst,
                       size_t spawn_max, waiting_run_fn *run, void *run_arg);

//  Drops the commands still held.
void waiting_destroy(waiting_t **self_p);

//  Runs command now, or holds it if it must wait. Takes the command.
void waiting_submit(waiting_t *self, command_t **command, uint64_t seq);

//  Node id changed state (created, removed, died, stopped, continued) or a request
//  to it ended: runs, in order, the held commands that waited for it and need not
//  wait any more. Safe to call from inside a run.
void waiting_wake(waiting_t *self, int32_t id);

//  Looks at every held command again (after changes made behind the controller's
//  back, as the unit tests do). O(commands held).
void waiting_release(waiting_t *self);

//  Commands held.
size_t waiting_size(waiting_t *self);

//  A create was sent to spawn a node on host (NULL: the controller's): it holds a
//  slot of that host until waiting_spawn_ended, which lets the next create go.
spawn_slot_t *waiting_spawn_started(waiting_t *self, const char *host);
void waiting_spawn_ended(waiting_t *self, spawn_slot_t *slot);

#endif
