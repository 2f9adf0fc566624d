/*  heartbeat — the controller's heartbeat view and its availability events. */
#include "heartbeat.h"

struct _heartbeat_t {
    topology_t *topology;
    output_sink_fn *sink;
    void *sink_arg;
    int interval_ms;
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
}

void heartbeat_set_interval(heartbeat_t *self, int ms)
{
    self->interval_ms = ms > 0 ? ms : 0;
    topology_walk(topology_root(self->topology), s_reset, NULL);
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

static bool s_unavailable(topo_node_t *node)
{
    for (; node && node->parent; node = node->parent)
        if (node->state == NODE_DEAD || node->state == NODE_STOPPED || node->lost)
            return true;
    return false;
}

static void s_report(topo_node_t *node, void *arg)
{
    heartbeat_t *self = (heartbeat_t *)arg;
    //  The root is the controller; nodes being created or removed have no say yet.
    if (!node->parent || node->state == NODE_PENDING || node->state == NODE_REMOVING)
        return;
    bool unavailable = s_unavailable(node);
    if (unavailable == node->reported_unavailable)
        return;
    node->reported_unavailable = unavailable;
    event_t event = {.kind = unavailable ? EVENT_NODE_UNAVAILABLE : EVENT_NODE_AVAILABLE,
                     .node = node->id};
    self->sink(self->sink_arg, NULL, &event);
}

void heartbeat_update(heartbeat_t *self)
{
    if (self->interval_ms)
        topology_walk(topology_root(self->topology), s_report, self);
}
