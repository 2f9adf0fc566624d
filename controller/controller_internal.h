/*  controller_internal — what the controller core's files share, and nothing outside
    controller/ includes: the controller's state, and the calls that make, send and
    bury a request. controller.c owns them; joins.c (workers joining through
    --listen) uses them. */
#ifndef MQTREE_CONTROLLER_INTERNAL_H
#define MQTREE_CONTROLLER_INTERNAL_H

#include "controller.h"

#include "../common/timers.h"
#include "../node/node.h"
#include "broadcast.h"
#include "heartbeat.h"
#include "requests.h"
#include "topology.h"
#include "waiting.h"

struct _controller_t {
    controller_config_t config;
    output_sink_fn *sink; //  every result and event goes there
    void *sink_arg;
    node_t *node; //  the controller as node -1: its children, routing, fan-out
    topology_t *topology;
    requests_t *requests;
    waiting_t *waiting; //  commands waiting for a create or remove in flight
    //  The node's timers (node_timers), on its clock: the controller's deadlines run
    //  there, after the node has read what arrived (and through a stall's grace).
    timers_t *timers;
    int timer_id; //  0 when no deadline timer is armed
    int64_t timer_at;
    broadcasts_t *broadcasts; //  pingalls and set commands in flight: who was asked,
                              //  what they answered
    //  Creates and joins reported failed at their deadline: request id ->
    //  tombstone_t. If the parent's success comes after all (it was held up on the
    //  way), the child is ended: a create or join reported failed leaves no node.
    zhashx_t *tombstones;
    uint32_t joins; //  workers that asked to join: each one's number (children.h)
    int heartbeat_timer; //  the timer that reports availability (0: none)
    bool heartbeat_soon; //  ... due at the end of this turn (s_turn_end)
    heartbeat_t *heartbeat;
};

//  A node a command may address: any but the controller itself. NULL if none.
topo_node_t *controller_node(controller_t *self, int32_t id);

//  Its parent made node (a create's or a join's CREATED): its pid on its host, and
//  where its children connect ("" if unknown). It is up.
void controller_node_up(topo_node_t *node, int32_t pid, const char *endpoint);

//  A new request of kind for command seq, to node, whose message goes to through
//  (the node itself, or a create's parent); its deadline counts from when the
//  nodes on the way are up.
request_t *controller_request(controller_t *self, int kind, uint64_t seq, int32_t node,
                              topo_node_t *through);

//  Sends msg (taken) for request to target, down the path the topology gives.
void controller_send(controller_t *self, request_t *request, wire_msg_t **msg,
                     topo_node_t *target);

//  A create or join reported failed: its parent's late success will end the child.
void controller_bury(controller_t *self, request_t *request);

//  --- joins.c: workers that join through --listen -----------------------------------

//  A JOIN on --listen (node_handlers_t's on_join; owner: the controller).
void joins_on_join(void *owner, const char *route, wire_msg_t **msg);

//  How a join's request ends (its row in the controller's behaviours).
void joins_refused(void *arg, request_t *request, int status, const char *text);
void joins_unanswered(void *arg, request_t *request);
void joins_timeout(void *arg, request_t *request);
void joins_made(void *arg, request_t *request, int32_t pid, const char *endpoint);

#endif
