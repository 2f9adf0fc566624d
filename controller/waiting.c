/*  waiting — commands that must wait for a create or remove in flight (see
    waiting.h). */
#include "waiting.h"

#include <czmq.h>

//  A command waiting, in the order read.
typedef struct _held_t held_t;
struct _held_t {
    command_t *command;
    uint64_t seq;
    held_t *next;
};

//  What a command depends on: one node, or a node with everything below it.
typedef enum {
    TOUCH_NODE,
    TOUCH_SUBTREE,           //  waits for creates and removes anywhere below
    TOUCH_SUBTREE_EXCLUSIVE, //  also for every request in flight below (remove)
} touch_scope_t;

typedef struct {
    int32_t id;
    touch_scope_t scope;
} touch_t;

struct _waiting_t {
    topology_t *topology;
    requests_t *requests;
    bool bst;
    waiting_run_fn *run;
    void *run_arg;
    held_t *held_head, *held_tail;
    size_t held_count;
    bool releasing, release_again;
};

waiting_t *waiting_new(topology_t *topology, requests_t *requests, bool bst,
                       waiting_run_fn *run, void *run_arg)
{
    waiting_t *self = (waiting_t *)zmalloc(sizeof(waiting_t));
    self->topology = topology;
    self->requests = requests;
    self->bst = bst;
    self->run = run;
    self->run_arg = run_arg;
    return self;
}

void waiting_destroy(waiting_t **self_p)
{
    waiting_t *self = *self_p;
    if (!self)
        return;
    while (self->held_head) {
        held_t *held = self->held_head;
        self->held_head = held->next;
        command_destroy(&held->command);
        free(held);
    }
    free(self);
    *self_p = NULL;
}

size_t waiting_size(waiting_t *self)
{
    return self->held_count;
}

static size_t s_touches(waiting_t *self, command_t *command, touch_t *touches)
{
    switch (command->kind) {
        case CMD_CREATE:
            touches[0] = (touch_t){command->id, TOUCH_NODE};
            touches[1] =
                (touch_t){self->bst ? topology_bst_parent(self->topology, command->id)->id
                                    : command->parent,
                          TOUCH_NODE};
            return 2;
        case CMD_REMOVE:
            touches[0] = (touch_t){command->id, TOUCH_SUBTREE_EXCLUSIVE};
            return 1;
        case CMD_EXEC:
        case CMD_PING:
            touches[0] = (touch_t){command->id, TOUCH_NODE};
            return 1;
        default:
            touches[0] = (touch_t){TOPOLOGY_ROOT, TOUCH_SUBTREE};
            return 1;
    }
}

static bool s_covers(waiting_t *self, touch_t outer, touch_t inner)
{
    if (outer.id == inner.id)
        return true;
    if (outer.scope == TOUCH_NODE)
        return false;
    node_t *top = topology_find(self->topology, outer.id);
    node_t *node = topology_find(self->topology, inner.id);
    return top && node && topology_within(node, top);
}

static bool s_conflict(waiting_t *self, touch_t a, touch_t b)
{
    return s_covers(self, a, b) || s_covers(self, b, a);
}

typedef struct {
    bool busy;
} busy_t;

static void s_check_busy(node_t *node, void *arg)
{
    if (node->state == NODE_PENDING || node->state == NODE_REMOVING)
        ((busy_t *)arg)->busy = true;
}

//  Whether the node, anything above it, or (for a subtree touch) anything below it
//  is being created or removed; for a remove, also whether requests are in flight
//  below it, since their answers would be lost with the processes.
static bool s_touch_busy(waiting_t *self, touch_t touch)
{
    node_t *node = topology_find(self->topology, touch.id);
    if (!node)
        return false;
    for (node_t *above = node; above; above = above->parent)
        if (above->state == NODE_PENDING || above->state == NODE_REMOVING)
            return true;
    if (touch.scope == TOUCH_NODE)
        return false;
    busy_t busy = {false};
    topology_walk(node, s_check_busy, &busy);
    if (busy.busy || touch.scope != TOUCH_SUBTREE_EXCLUSIVE)
        return busy.busy;
    zlist_t *pending = requests_snapshot(self->requests);
    for (request_t *request = (request_t *)zlist_first(pending); request && !busy.busy;
         request = (request_t *)zlist_next(pending)) {
        node_t *target = topology_find(self->topology, request->target);
        busy.busy = target && topology_within(target, node);
    }
    zlist_destroy(&pending);
    return busy.busy;
}

//  Whether command must wait: for the topology, or for a waiting command read before
//  it (those before `until` in the queue).
static bool s_blocked(waiting_t *self, command_t *command, held_t *until)
{
    touch_t touches[2], earlier[2];
    size_t count = s_touches(self, command, touches);
    for (size_t i = 0; i < count; i++)
        if (s_touch_busy(self, touches[i]))
            return true;
    for (held_t *held = self->held_head; held && held != until; held = held->next) {
        size_t earlier_count = s_touches(self, held->command, earlier);
        for (size_t i = 0; i < count; i++)
            for (size_t j = 0; j < earlier_count; j++)
                if (s_conflict(self, touches[i], earlier[j]))
                    return true;
    }
    return false;
}

void waiting_release(waiting_t *self)
{
    if (self->releasing) {
        self->release_again = true;
        return;
    }
    self->releasing = true;
    do {
        self->release_again = false;
        held_t *previous = NULL, *held = self->held_head;
        while (held) {
            held_t *next = held->next;
            if (s_blocked(self, held->command, held)) {
                previous = held;
                held = next;
                continue;
            }
            if (previous)
                previous->next = next;
            else
                self->held_head = next;
            if (self->held_tail == held)
                self->held_tail = previous;
            self->held_count--;
            self->run(self->run_arg, held->command, held->seq);
            command_destroy(&held->command);
            free(held);
            held = next;
        }
    } while (self->release_again);
    self->releasing = false;
}

void waiting_submit(waiting_t *self, command_t **command, uint64_t seq)
{
    if (!s_blocked(self, *command, NULL)) {
        self->run(self->run_arg, *command, seq);
        command_destroy(command);
        return;
    }
    held_t *held = (held_t *)zmalloc(sizeof(held_t));
    held->command = *command;
    held->seq = seq;
    *command = NULL;
    if (self->held_tail)
        self->held_tail->next = held;
    else
        self->held_head = held;
    self->held_tail = held;
    self->held_count++;
}
