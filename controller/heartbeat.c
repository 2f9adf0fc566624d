/*  heartbeat — the controller's heartbeat view (see heartbeat.h): owns which nodes
    count as unavailable for Heartbit lines, and the events when that changes. */
#include "heartbeat.h"

struct _heartbeat_t {
    topology_t *topology;
    output_sink_fn *sink;
    void *sink_arg;
    int interval_ms;
    int64_t now_us;  //  of the update under way
    int64_t next_us; //  the earliest back_due_us left for later (-1: none)
};

heartbeat_t *heartbeat_new(topology_t *topology, output_sink_fn *sink, void *sink_arg)
{
    heartbeat_t *self = (heartbeat_t *)zmalloc(sizeof(heartbeat_t));
    self->topology = topology;
    self->sink = sink;
    self->sink_arg = sink_arg;
    return self;
}

void heartbeat_destroy(heartbeat_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

static void s_reset(topo_node_t *node, void *arg)
{
    (void)arg;
    node->lost = false;
    node->reported_unavailable = false;
    node->reported_behind = false;
    node->back_due_us = 0;
}

void heartbeat_set_interval(heartbeat_t *self, int ms)
{
    //  Switched on or off: everything starts afresh. A new interval while on keeps
    //  what was said (and what is lost): a node is not said unavailable twice.
    if (!self->interval_ms || ms <= 0)
        topology_walk(topology_root(self->topology), s_reset, NULL);
    self->interval_ms = ms > 0 ? ms : 0;
}

int heartbeat_interval(heartbeat_t *self)
{
    return self->interval_ms;
}

void heartbeat_set_lost(heartbeat_t *self, topo_node_t *node, bool lost)
{
    (void)self;
    node->lost = lost;
}

static void s_report(topo_node_t *node, void *arg)
{
    heartbeat_t *self = (heartbeat_t *)arg;
    //  Parents come first in the walk: whether a node above is down is the parent's
    //  answer, not a climb to the root from every node (O(n), not O(n * depth)).
    //  The root is the controller, never down.
    node->unavailable_now =
        node->parent && (topology_down(node) || node->parent->unavailable_now);
    //  The controller, and nodes being created or removed, have no say yet.
    if (!node->parent || node->state == NODE_PENDING || node->state == NODE_REMOVING)
        return;
    bool unavailable = node->unavailable_now;
    if (unavailable == node->reported_unavailable) {
        //  Still as said; but why may have changed (lost itself, behind another).
        if (unavailable)
            node->reported_behind = !topology_down(node);
        node->back_due_us = 0;
        return;
    }
    if (!unavailable && node->reported_behind) {
        //  It was unavailable only behind a node that is back now. What that node
        //  saw of it meanwhile (a cut link held its reports) comes after its own
        //  beats: it is said available an interval later, if nothing said otherwise.
        if (!node->back_due_us)
            node->back_due_us = self->now_us + (int64_t)self->interval_ms * 1000;
        if (self->now_us < node->back_due_us) {
            if (self->next_us < 0 || node->back_due_us < self->next_us)
                self->next_us = node->back_due_us;
            return;
        }
    }
    node->back_due_us = 0;
    node->reported_unavailable = unavailable;
    node->reported_behind = unavailable && !topology_down(node);
    event_t event = {.kind = unavailable ? EVENT_NODE_UNAVAILABLE : EVENT_NODE_AVAILABLE,
                     .node = node->id};
    self->sink(self->sink_arg, NULL, &event);
}

int64_t heartbeat_update(heartbeat_t *self, int64_t now_us)
{
    self->now_us = now_us;
    self->next_us = -1;
    if (self->interval_ms)
        topology_walk(topology_root(self->topology), s_report, self);
    return self->next_us;
}
