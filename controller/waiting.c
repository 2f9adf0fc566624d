/*  waiting — commands that must wait for a create or remove in flight (see
    waiting.h).

    Every held command is indexed by the nodes it touches (one FIFO per node id, and
    one per node id for subtree touches), so whether it must wait is a look at the
    fronts of a few queues and at the path to the root: O(depth), not O(held). A
    command that must wait is parked on exactly one thing that blocks it — an earlier
    held command, or a node whose state or requests it waits for — and looked at again
    only when that thing changes. Commands woken together run in the order read. */
#include "waiting.h"

#include <czmq.h>

#include "../common/idmap.h"
#include "../common/mem.h"

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

typedef struct _held_t held_t;
struct _held_t {
    command_t *command;
    uint64_t seq;
    touch_t touches[2];
    size_t touch_count;
    void *queue_handles[2]; //  place in the queue of each touch's node id
    void *subtree_handle;   //  place in the subtree queue, for a subtree touch
    void *fifo_handle;      //  place in the order read
    zlistx_t *waiters;      //  held commands parked on this one
    bool candidate;         //  in the heap of commands to look at again
    //  Where it is parked, if it is: a list of waiters and its place in it; for a
    //  node's list, the node, so an emptied list can go.
    zlistx_t *park_list;
    void *park_handle;
    int32_t park_node;
    bool parked_on_node;
};

//  One host's creates: those in flight, and those waiting for one of them to end.
struct _spawn_slot_t {
    size_t in_flight;
    zlistx_t *parked; //  held_t *, in the order they were found waiting
};

struct _waiting_t {
    topology_t *topology;
    requests_t *requests;
    bool bst;
    size_t spawn_max;
    zhashx_t *slots; //  host ("" for the controller's) -> spawn_slot_t *
    waiting_run_fn *run;
    void *run_arg;
    zlistx_t *fifo;         //  held_t *, in the order read
    zhashx_t *queues;       //  node id -> zlistx_t of held_t * touching it
    zhashx_t *subtrees;     //  node id -> zlistx_t of held_t * touching its subtree
    zhashx_t *node_waiters; //  node id -> zlistx_t of held_t * parked on that node
    held_t **heap;          //  candidates, a binary min-heap by seq
    size_t heap_count, heap_size;
    bool processing;
};

static void s_list_destroy(void **item)
{
    zlistx_destroy((zlistx_t **)item);
}

static void s_slot_destroy(void **item)
{
    spawn_slot_t *slot = (spawn_slot_t *)*item;
    zlistx_destroy(&slot->parked);
    free(slot);
    *item = NULL;
}

waiting_t *waiting_new(topology_t *topology, requests_t *requests, bool bst,
                       size_t spawn_max, waiting_run_fn *run, void *run_arg)
{
    waiting_t *self = (waiting_t *)zmalloc(sizeof(waiting_t));
    self->topology = topology;
    self->requests = requests;
    self->bst = bst;
    self->spawn_max = spawn_max;
    self->slots = zhashx_new();
    zhashx_set_destructor(self->slots, s_slot_destroy);
    self->run = run;
    self->run_arg = run_arg;
    self->fifo = zlistx_new();
    self->queues = idmap_new();
    zhashx_set_destructor(self->queues, s_list_destroy);
    self->subtrees = idmap_new();
    zhashx_set_destructor(self->subtrees, s_list_destroy);
    self->node_waiters = idmap_new();
    zhashx_set_destructor(self->node_waiters, s_list_destroy);
    return self;
}

static void s_held_destroy(held_t **held_p)
{
    held_t *held = *held_p;
    command_destroy(&held->command);
    zlistx_destroy(&held->waiters);
    free(held);
    *held_p = NULL;
}

void waiting_destroy(waiting_t **self_p)
{
    waiting_t *self = *self_p;
    if (!self)
        return;
    for (held_t *held = (held_t *)zlistx_first(self->fifo); held;
         held = (held_t *)zlistx_next(self->fifo))
        s_held_destroy(&held);
    zlistx_destroy(&self->fifo);
    zhashx_destroy(&self->queues);
    zhashx_destroy(&self->subtrees);
    zhashx_destroy(&self->node_waiters);
    zhashx_destroy(&self->slots);
    free(self->heap);
    free(self);
    *self_p = NULL;
}

size_t waiting_size(waiting_t *self)
{
    return zlistx_size(self->fifo);
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
            if (!command->set) {
                touches[0] = (touch_t){command->id, TOUCH_NODE};
                return 1;
            }
            //  A set: like pingall, the whole tree as the lines before it left it.
            touches[0] = (touch_t){TOPOLOGY_ROOT, TOUCH_SUBTREE};
            return 1;
        default:
            touches[0] = (touch_t){TOPOLOGY_ROOT, TOUCH_SUBTREE};
            return 1;
    }
}

//  --- The candidates: a min-heap by seq, so commands woken together run in order --

static bool s_before(held_t *a, held_t *b)
{
    return a->seq < b->seq;
}

static void s_unpark(waiting_t *self, held_t *held)
{
    if (!held->park_list)
        return;
    zlistx_delete(held->park_list, held->park_handle);
    if (held->parked_on_node && zlistx_size(held->park_list) == 0)
        zhashx_delete(self->node_waiters, idmap_key(held->park_node));
    held->park_list = NULL;
}

static void s_push(waiting_t *self, held_t *held)
{
    s_unpark(self, held);
    if (held->candidate)
        return;
    held->candidate = true;
    if (self->heap_count == self->heap_size) {
        self->heap_size = self->heap_size ? self->heap_size * 2 : 64;
        self->heap = (held_t **)mem_realloc(self->heap, self->heap_size * sizeof(held_t *));
        assert(self->heap);
    }
    size_t at = self->heap_count++;
    while (at > 0 && s_before(held, self->heap[(at - 1) / 2])) {
        self->heap[at] = self->heap[(at - 1) / 2];
        at = (at - 1) / 2;
    }
    self->heap[at] = held;
}

static held_t *s_pop(waiting_t *self)
{
    if (!self->heap_count)
        return NULL;
    held_t *top = self->heap[0];
    held_t *last = self->heap[--self->heap_count];
    size_t at = 0;
    while (true) {
        size_t child = 2 * at + 1;
        if (child >= self->heap_count)
            break;
        if (child + 1 < self->heap_count &&
            s_before(self->heap[child + 1], self->heap[child]))
            child++;
        if (!s_before(self->heap[child], last))
            break;
        self->heap[at] = self->heap[child];
        at = child;
    }
    if (self->heap_count)
        self->heap[at] = last;
    top->candidate = false;
    return top;
}

//  Wakes every command parked on list, and empties it.
static void s_push_all(waiting_t *self, zlistx_t *list)
{
    for (held_t *held = (held_t *)zlistx_first(list); held;
         held = (held_t *)zlistx_next(list)) {
        held->park_list = NULL;
        s_push(self, held);
    }
    zlistx_purge(list);
}

//  --- Why a command must wait ----------------------------------------------------

//  One thing a command waits for: an earlier held command, a node (being created
//  or removed, or with requests in flight that a remove must let finish), or a
//  create's turn to spawn on its host.
typedef struct {
    held_t *held;
    int32_t node;
    spawn_slot_t *slot;
    bool waits;
} blocker_t;

static bool s_busy(topo_node_t *node)
{
    return node->state == NODE_PENDING || node->state == NODE_REMOVING;
}

static zlistx_t *s_queue(zhashx_t *index, int32_t id)
{
    return (zlistx_t *)zhashx_lookup(index, idmap_key(id));
}

static held_t *s_front(zhashx_t *index, int32_t id)
{
    zlistx_t *queue = s_queue(index, id);
    return queue ? (held_t *)zlistx_first(queue) : NULL;
}

//  The first thing below node (node excluded) that holds up a subtree touch by held:
//  a node being created or removed, a request in flight (exclusive touches), or an
//  earlier held command touching a node there.
static blocker_t s_below(waiting_t *self, topo_node_t *node, held_t *held, bool exclusive)
{
    for (topo_node_t *child = (topo_node_t *)zlistx_first(node->children); child;
         child = (topo_node_t *)zlistx_next(node->children)) {
        if (s_busy(child) ||
            (exclusive && requests_in_flight(self->requests, child->id) > 0))
            return (blocker_t){NULL, child->id, NULL, true};
        held_t *front = s_front(self->queues, child->id);
        if (front && s_before(front, held))
            return (blocker_t){front, 0, NULL, true};
        blocker_t found = s_below(self, child, held, exclusive);
        if (found.waits)
            return found;
    }
    return (blocker_t){NULL, 0, NULL, false};
}

static spawn_slot_t *s_slot(waiting_t *self, const char *host)
{
    const char *key = host ? host : "";
    spawn_slot_t *slot = (spawn_slot_t *)zhashx_lookup(self->slots, key);
    if (!slot) {
        slot = (spawn_slot_t *)zmalloc(sizeof(spawn_slot_t));
        slot->parked = zlistx_new();
        zhashx_insert(self->slots, key, slot);
    }
    return slot;
}

//  A create that nothing else holds up: its host's slots may all be taken.
static blocker_t s_spawn_turn(waiting_t *self, held_t *held)
{
    command_t *command = held->command;
    topo_node_t *parent = self->bst ? topology_bst_parent(self->topology, command->id)
                                    : topology_find(self->topology, command->parent);
    //  Without a parent (or a node of that id already there) it fails without a spawn.
    if (!self->spawn_max || !parent || topology_find(self->topology, command->id))
        return (blocker_t){NULL, 0, NULL, false};
    spawn_slot_t *slot = s_slot(self, topology_child_host(parent, command->host));
    if (slot->in_flight < self->spawn_max)
        return (blocker_t){NULL, 0, NULL, false};
    return (blocker_t){NULL, 0, slot, true};
}

//  Whether a command touching node may go down past busy, a node above it (or node
//  itself) whose create or remove is in flight. A command for one node goes down past
//  creates in flight (not in a binary search tree, where a create's parent depends on
//  them): the parent of a node still starting holds it and hands it over when the
//  node is ready (node.c s_forward). A create of an id whose create is in flight waits
//  for that one's answer; so does a command whose way holds a stopped or dead node (it
//  would be refused at once, before the creates' answers tell what it gets).
static bool s_passes(waiting_t *self, held_t *held, touch_t touch, topo_node_t *node,
                     topo_node_t *busy)
{
    return busy->state == NODE_PENDING && !self->bst && touch.scope == TOUCH_NODE &&
           !(held->command->kind == CMD_CREATE && touch.id == held->command->id) &&
           !topology_blocker(node);
}

static blocker_t s_blocker(waiting_t *self, held_t *held)
{
    if (self->bst && held->command->kind == CMD_CREATE) {
        //  Where a BST insert goes depends on the nodes created meanwhile: the
        //  parent it has now must be up, as must the path down to it.
        //  The parent it was indexed under may be gone since (removed): the subtree
        //  commands read before it are looked for on the path it has now.
        topo_node_t *parent = topology_bst_parent(self->topology, held->command->id);
        for (topo_node_t *above = parent; above; above = above->parent) {
            if (s_busy(above))
                return (blocker_t){NULL, above->id, NULL, true};
            held_t *subtree = s_front(self->subtrees, above->id);
            if (subtree && s_before(subtree, held))
                return (blocker_t){subtree, 0, NULL, true};
        }
    }
    for (size_t i = 0; i < held->touch_count; i++) {
        touch_t touch = held->touches[i];
        //  Commands on one node keep the order read.
        held_t *front = s_front(self->queues, touch.id);
        if (front && front != held)
            return (blocker_t){front, 0, NULL, true};
        topo_node_t *node = topology_find(self->topology, touch.id);
        if (!node)
            continue;
        //  The node, or a node above it, is being created or removed; or an earlier
        //  command waits to act on a whole subtree above it.
        for (topo_node_t *above = node; above; above = above->parent) {
            if (s_busy(above) && !s_passes(self, held, touch, node, above))
                return (blocker_t){NULL, above->id, NULL, true};
            held_t *subtree = s_front(self->subtrees, above->id);
            if (subtree && s_before(subtree, held))
                return (blocker_t){subtree, 0, NULL, true};
        }
        if (touch.scope == TOUCH_NODE)
            continue;
        bool exclusive = touch.scope == TOUCH_SUBTREE_EXCLUSIVE;
        //  A remove lets the requests in flight to the node itself finish first:
        //  their answers would be lost with the processes. A pingall or a set's
        //  command in flight asks many nodes: it must see the tree as it was when
        //  it was read.
        if (exclusive && requests_in_flight(self->requests, node->id) > 0)
            return (blocker_t){NULL, node->id, NULL, true};
        if (exclusive && requests_of_kind(self->requests, CMD_BROADCAST) > 0)
            return (blocker_t){NULL, TOPOLOGY_ROOT, NULL, true};
        if (!node->parent) {
            //  The whole tree: every command read before it goes first.
            held_t *first = (held_t *)zlistx_first(self->fifo);
            if (first && first != held)
                return (blocker_t){first, 0, NULL, true};
        }
        blocker_t below = s_below(self, node, held, exclusive);
        if (below.waits)
            return below;
    }
    if (held->command->kind == CMD_CREATE)
        return s_spawn_turn(self, held);
    return (blocker_t){NULL, 0, NULL, false};
}

static void s_park(waiting_t *self, held_t *held, blocker_t blocker)
{
    zlistx_t *list;
    if (blocker.slot)
        list = blocker.slot->parked;
    else if (blocker.held) {
        if (!blocker.held->waiters)
            blocker.held->waiters = zlistx_new();
        list = blocker.held->waiters;
    } else {
        list = s_queue(self->node_waiters, blocker.node);
        if (!list) {
            list = zlistx_new();
            zhashx_insert(self->node_waiters, idmap_key(blocker.node), list);
        }
    }
    held->park_list = list;
    held->park_handle = zlistx_add_end(list, held);
    held->park_node = blocker.node;
    held->parked_on_node = !blocker.held && !blocker.slot;
}

//  --- Holding and releasing -------------------------------------------------------

static void s_index(zhashx_t *index, int32_t id, held_t *held, void **handle)
{
    zlistx_t *queue = s_queue(index, id);
    if (!queue) {
        queue = zlistx_new();
        zhashx_insert(index, idmap_key(id), queue);
    }
    *handle = zlistx_add_end(queue, held);
}

static void s_unindex(zhashx_t *index, int32_t id, void *handle)
{
    zlistx_t *queue = s_queue(index, id);
    zlistx_delete(queue, handle);
    if (zlistx_size(queue) == 0)
        zhashx_delete(index, idmap_key(id));
}

static held_t *s_hold(waiting_t *self, command_t **command, uint64_t seq)
{
    held_t *held = (held_t *)zmalloc(sizeof(held_t));
    held->command = *command;
    *command = NULL;
    held->seq = seq;
    held->touch_count = s_touches(self, held->command, held->touches);
    held->fifo_handle = zlistx_add_end(self->fifo, held);
    for (size_t i = 0; i < held->touch_count; i++) {
        //  A create naming itself as parent touches one id once.
        if (i > 0 && held->touches[i].id == held->touches[0].id) {
            held->touch_count = 1;
            break;
        }
        s_index(self->queues, held->touches[i].id, held, &held->queue_handles[i]);
        if (held->touches[i].scope != TOUCH_NODE)
            s_index(self->subtrees, held->touches[i].id, held, &held->subtree_handle);
    }
    return held;
}

//  Takes a command out of every index, runs it, and wakes what waited for it.
static void s_release(waiting_t *self, held_t *held)
{
    zlistx_delete(self->fifo, held->fifo_handle);
    for (size_t i = 0; i < held->touch_count; i++) {
        s_unindex(self->queues, held->touches[i].id, held->queue_handles[i]);
        if (held->touches[i].scope != TOUCH_NODE)
            s_unindex(self->subtrees, held->touches[i].id, held->subtree_handle);
    }
    if (held->waiters)
        s_push_all(self, held->waiters);
    self->run(self->run_arg, held->command, held->seq);
    s_held_destroy(&held);
}

//  Looks at the candidates, earliest first, until none is left: each runs or is
//  parked on what blocks it. Running one may wake others (or this very loop, from
//  inside run): they join the heap and are taken in order.
//  A host with a free slot and creates parked on its slots: the first of them is
//  looked at again. It may take the slot, or find something else to wait for (then
//  the next one is looked at). O(hosts). Returns true if one was.
static bool s_refill(waiting_t *self)
{
    bool any = false;
    for (spawn_slot_t *slot = (spawn_slot_t *)zhashx_first(self->slots); slot;
         slot = (spawn_slot_t *)zhashx_next(self->slots)) {
        held_t *next = (held_t *)zlistx_first(slot->parked);
        if (next && slot->in_flight < self->spawn_max) {
            s_push(self, next);
            any = true;
        }
    }
    return any;
}

static void s_process(waiting_t *self)
{
    if (self->processing)
        return;
    self->processing = true;
    do {
        held_t *held;
        while ((held = s_pop(self))) {
            blocker_t blocker = s_blocker(self, held);
            if (blocker.waits)
                s_park(self, held, blocker);
            else
                s_release(self, held);
        }
    } while (s_refill(self));
    self->processing = false;
}

void waiting_wake(waiting_t *self, int32_t id)
{
    zlistx_t *list = s_queue(self->node_waiters, id);
    if (list) {
        s_push_all(self, list);
        zhashx_delete(self->node_waiters, idmap_key(id));
    }
    s_process(self);
}

void waiting_release(waiting_t *self)
{
    //  Everything parked anywhere is looked at again: each list of waiters is
    //  emptied, since every held command will be parked afresh or run.
    for (held_t *held = (held_t *)zlistx_first(self->fifo); held;
         held = (held_t *)zlistx_next(self->fifo))
        s_push(self, held);
    s_process(self);
}

spawn_slot_t *waiting_spawn_started(waiting_t *self, const char *host)
{
    spawn_slot_t *slot = s_slot(self, host);
    slot->in_flight++;
    return slot;
}

void waiting_spawn_ended(waiting_t *self, spawn_slot_t *slot)
{
    assert(slot->in_flight > 0);
    slot->in_flight--;
    //  The first create found waiting takes the slot (s_refill).
    s_process(self);
}

void waiting_submit(waiting_t *self, command_t **command, uint64_t seq)
{
    //  Nothing held and nothing in its way: the command runs at once, without the
    //  indexing that holding it would do and its release undo at once (the common
    //  case of a piped script on a built tree).
    if (zlistx_size(self->fifo) == 0 && !self->processing) {
        held_t probe = {.command = *command, .seq = seq};
        probe.touch_count = s_touches(self, probe.command, probe.touches);
        if (!s_blocker(self, &probe).waits) {
            command_t *now = *command;
            *command = NULL;
            //  As s_process runs one: what it wakes is looked at once it is done.
            self->processing = true;
            self->run(self->run_arg, now, seq);
            command_destroy(&now);
            self->processing = false;
            if (self->heap_count)
                s_process(self);
            return;
        }
    }
    held_t *held = s_hold(self, command, seq);
    s_push(self, held);
    s_process(self);
}
