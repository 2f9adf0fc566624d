/*  joins — workers that join the tree by themselves through --listen (see
    controller_internal.h): owns who may join where, the answer, and the join's end. */
#include "controller_internal.h"

#include <string.h>

#include "../common/log.h"
#include "../common/text.h"

//  The joiner's parent could not adopt it. (Its success is a CREATED.)
void joins_refused(void *arg, request_t *request, int status, const char *text)
{
    (void)status;
    controller_t *self = (controller_t *)arg;
    topo_node_t *node = controller_node(self, request->node);
    if (!node)
        return;
    log_warn("node %d did not join: %s", request->node, *text ? text : "no answer");
    topology_remove(self->topology, node);
}

//  The joiner's node said HELLO to its parent: it is in the tree.
void joins_made(void *arg, request_t *request, int32_t pid, const char *endpoint)
{
    controller_t *self = (controller_t *)arg;
    topo_node_t *node = controller_node(self, request->node);
    if (!node)
        return;
    controller_node_up(node, pid, endpoint);
    event_t event = {.kind = EVENT_NODE_JOINED, .node = node->id, .pid = node->pid,
                     .host = node->host ? node->host : "?"};
    self->sink(self->sink_arg, NULL, &event);
}

void joins_unanswered(void *arg, request_t *request)
{
    joins_refused(arg, request, WIRE_UNAVAILABLE, "");
}

void joins_timeout(void *arg, request_t *request)
{
    controller_bury((controller_t *)arg, request);
    joins_unanswered(arg, request);
}

//  Why a worker may not join as node id under parent_id (NULL: it may). *parent is
//  where it goes: the named node, or in a BST the one its key leads to.
static const char *s_join_refusal(controller_t *self, int32_t id, int32_t parent_id,
                                  topo_node_t **parent, char *text, size_t size)
{
    *parent = self->config.tree.bst ? topology_bst_parent(self->topology, id)
                                    : topology_find(self->topology, parent_id);
    if (id == TOPOLOGY_ROOT)
        snprintf(text, size, "Invalid id -1 (-1 is the controller)");
    else if (topology_find(self->topology, id))
        snprintf(text, size, "Node %d already exists", id);
    else if (!*parent)
        snprintf(text, size, "Parent %d not found", parent_id);
    else if (topology_blocker(*parent))
        snprintf(text, size, "Parent %d is unavailable", (*parent)->id);
    else if (self->config.nodes_max && topology_size(self->topology) >= self->config.nodes_max)
        snprintf(text, size, "Too many nodes (limit %zu)", self->config.nodes_max);
    else
        return NULL;
    return text;
}

//  A JOIN on --listen: the joiner is told where to connect (its parent's endpoint;
//  under -1, this one) and its parent to expect it (ADOPT). The Joined line comes
//  when it has said HELLO there; a joiner refused is told why, and the tree is
//  untouched.
void joins_on_join(void *owner, const char *route, wire_msg_t **msg)
{
    controller_t *self = (controller_t *)owner;
    wire_msg_t *join = *msg;
    char refusal[128];
    topo_node_t *parent;
    const char *why = s_join_refusal(self, join->node, join->parent, &parent, refusal,
                                     sizeof refusal);
    const char *endpoint = NULL;
    if (!why) {
        endpoint = parent->id == TOPOLOGY_ROOT ? self->config.listen : parent->endpoint;
        if (!endpoint) {
            snprintf(refusal, sizeof refusal, "Parent %d has no endpoint yet", parent->id);
            why = refusal;
        }
    }
    if (why) {
        wire_msg_t *answer = wire_reply_new(join->request_id, TOPOLOGY_ROOT, WIRE_ERROR,
                                            why, strlen(why));
        node_join_reply(self->node, route, &answer);
        log_info("refused a worker joining as node %d: %s", join->node, why);
        return;
    }
    //  Its routing id at its parent follows from a join number of ours (children.h).
    //  1 to 2^31 - 1 (0 names no join: the worker refuses it).
    uint32_t number = ++self->joins & 0x7fffffffu;
    if (!number)
        number = self->joins = 1;
    wire_msg_t *admit = wire_msg_new(WIRE_ADMIT);
    admit->request_id = join->request_id;
    admit->node = TOPOLOGY_ROOT;
    admit->pid = (int32_t)number;
    wire_bytes_copy(&admit->endpoint, endpoint, strlen(endpoint));
    node_join_reply(self->node, route, &admit);
    topo_node_t *node = topology_add(self->topology, join->node, parent);
    node->host = text_escape((const char *)join->host.data, join->host.size);
    node->remote = true;
    request_t *request = controller_request(self, CMD_JOIN, 0, node->id, parent);
    node->made_by = request->id;
    wire_msg_t *adopt = wire_msg_new(WIRE_ADOPT);
    adopt->child = node->id;
    adopt->pid = (int32_t)number;
    wire_bytes_copy(&adopt->host, join->host.data, join->host.size);
    controller_send(self, request, &adopt, parent);
}
