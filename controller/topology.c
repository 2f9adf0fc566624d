/*  topology — the controller's tree model (see topology.h): owns nodes, parents and
    states, the paths requests take, BST placement, and the sets commands resolve. */
#include "topology.h"

#include "../common/idmap.h"
#include "../common/mem.h"

struct _topology_t {
    topo_node_t *root;
    zhashx_t *nodes; //  id -> topo_node_t *, root included
};

static int s_compare_ids(const void *a, const void *b)
{
    int32_t left = ((const topo_node_t *)a)->id, right = ((const topo_node_t *)b)->id;
    return (left > right) - (left < right);
}

static topo_node_t *s_node_new(int32_t id, topo_node_t *parent)
{
    topo_node_t *node = (topo_node_t *)zmalloc(sizeof(topo_node_t));
    node->id = id;
    node->parent = parent;
    node->children = zlistx_new();
    zlistx_set_comparator(node->children, s_compare_ids);
    node->depth = parent ? parent->depth + 1 : 0;
    node->state = parent ? NODE_PENDING : NODE_UP;
    return node;
}

static void s_node_destroy(topo_node_t **node_p)
{
    topo_node_t *node = *node_p;
    if (node) {
        zlistx_destroy(&node->children);
        free(node->host);
        free(node->endpoint);
        free(node);
        *node_p = NULL;
    }
}

topology_t *topology_new(pid_t controller_pid)
{
    topology_t *self = (topology_t *)zmalloc(sizeof(topology_t));
    self->nodes = idmap_new();
    zhashx_set_destructor(self->nodes, (zhashx_destructor_fn *)s_node_destroy);
    self->root = s_node_new(TOPOLOGY_ROOT, NULL);
    self->root->pid = controller_pid;
    zhashx_insert(self->nodes, idmap_key(TOPOLOGY_ROOT), self->root);
    return self;
}

void topology_destroy(topology_t **self_p)
{
    topology_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy(&self->nodes);
    free(self);
    *self_p = NULL;
}

topo_node_t *topology_root(topology_t *self)
{
    return self->root;
}

topo_node_t *topology_find(topology_t *self, int32_t id)
{
    return (topo_node_t *)zhashx_lookup(self->nodes, idmap_key(id));
}

topo_node_t *topology_find_pid(topology_t *self, pid_t pid)
{
    for (topo_node_t *node = (topo_node_t *)zhashx_first(self->nodes); node;
         node = (topo_node_t *)zhashx_next(self->nodes))
        if (node->pid == pid && node != self->root && !node->remote)
            return node;
    return NULL;
}

size_t topology_size(topology_t *self)
{
    return zhashx_size(self->nodes) - 1;
}

const char *topology_child_host(const topo_node_t *parent, const char *host)
{
    return host[0] ? host : parent->host;
}

topo_node_t *topology_add(topology_t *self, int32_t id, topo_node_t *parent)
{
    if (topology_find(self, id))
        return NULL;
    topo_node_t *node = s_node_new(id, parent);
    zhashx_insert(self->nodes, idmap_key(id), node);
    zlistx_insert(parent->children, node, false);
    return node;
}

static void s_forget_subtree(topology_t *self, topo_node_t *node)
{
    for (topo_node_t *child = (topo_node_t *)zlistx_first(node->children); child;
         child = (topo_node_t *)zlistx_next(node->children))
        s_forget_subtree(self, child);
    zhashx_delete(self->nodes, idmap_key(node->id));
}

void topology_remove(topology_t *self, topo_node_t *node)
{
    if (!node || !node->parent)
        return;
    void *handle = zlistx_find(node->parent->children, node);
    if (handle)
        zlistx_detach(node->parent->children, handle);
    s_forget_subtree(self, node);
}

bool topology_within(topo_node_t *node, topo_node_t *ancestor)
{
    for (; node; node = node->parent)
        if (node == ancestor)
            return true;
    return false;
}

topo_node_t *topology_blocker(topo_node_t *node)
{
    topo_node_t *blocker = NULL;
    for (; node && node->parent; node = node->parent)
        if (node->state == NODE_DEAD || node->state == NODE_STOPPED)
            blocker = node;
    return blocker;
}

bool topology_down(const topo_node_t *node)
{
    return node->state == NODE_DEAD || node->state == NODE_STOPPED || node->lost;
}

topo_node_t *topology_unavailable_from(topo_node_t *node)
{
    topo_node_t *down = NULL;
    for (; node && node->parent; node = node->parent)
        if (topology_down(node))
            down = node;
    return down;
}

size_t topology_path(topo_node_t *node, int32_t *hops)
{
    size_t depth = node->depth;
    for (size_t index = depth; index > 0; index--, node = node->parent)
        hops[index - 1] = node->id;
    return depth;
}

void topology_walk(topo_node_t *node, topology_visit_fn *visit, void *arg)
{
    visit(node, arg);
    for (topo_node_t *child = (topo_node_t *)zlistx_first(node->children); child;
         child = (topo_node_t *)zlistx_next(node->children))
        topology_walk(child, visit, arg);
}

topo_node_t *topology_bst_parent(topology_t *self, int32_t id)
{
    topo_node_t *node = (topo_node_t *)zlistx_first(self->root->children);
    if (!node)
        return self->root;
    while (true) {
        topo_node_t *left = NULL, *right = NULL;
        for (topo_node_t *child = (topo_node_t *)zlistx_first(node->children); child;
             child = (topo_node_t *)zlistx_next(node->children))
            if (child->id < node->id)
                left = child;
            else
                right = child;
        topo_node_t *next = id < node->id ? left : right;
        if (!next)
            return node;
        node = next;
    }
}

typedef struct {
    const nodeset_spec_t *spec;
    nodeset_t *targets;
    nodeset_t *named; //  the nodes the spec's ids name
} resolve_t;

static void s_resolve_named(topo_node_t *node, void *arg)
{
    resolve_t *resolve = (resolve_t *)arg;
    if (!node->parent)
        return;
    bool named = nodeset_contains(resolve->spec->ids, node->id);
    if (named)
        nodeset_add(resolve->named, node->id);
    if (named || resolve->spec->all)
        nodeset_add(resolve->targets, node->id);
}

static void s_resolve_whole(topo_node_t *node, void *arg)
{
    if (node->parent)
        nodeset_add((nodeset_t *)arg, node->id);
}

//  Adds to reach the nodes of node's subtree that are targets or above one: one
//  walk, children first. Returns whether node is one of them.
static bool s_reach(topo_node_t *node, const nodeset_t *targets, nodeset_t *reach)
{
    bool on_the_way = false;
    for (topo_node_t *child = (topo_node_t *)zlistx_first(node->children); child;
         child = (topo_node_t *)zlistx_next(node->children))
        on_the_way |= s_reach(child, targets, reach);
    if (!node->parent)
        return on_the_way; //  the root (the controller) is no node of a set
    on_the_way |= nodeset_contains(targets, node->id);
    if (on_the_way)
        nodeset_add(reach, node->id);
    return on_the_way;
}

void topology_resolve(topology_t *self, const nodeset_spec_t *spec, nodeset_t *targets,
                      nodeset_t *missing, nodeset_t *reach)
{
    resolve_t resolve = {spec, targets, nodeset_new()};
    topology_walk(self->root, s_resolve_named, &resolve);
    nodeset_merge(missing, spec->ids);
    nodeset_subtract(missing, resolve.named);
    nodeset_destroy(&resolve.named);
    for (size_t range = 0; range < nodeset_ranges(spec->subtrees); range++) {
        nodeset_range_t roots = nodeset_range(spec->subtrees, range);
        for (int64_t id = roots.first; id <= roots.last; id++) {
            topo_node_t *root = topology_find(self, (int32_t)id);
            if (root && root->parent)
                topology_walk(root, s_resolve_whole, targets);
            else
                nodeset_add(missing, (int32_t)id);
        }
    }
    s_reach(self->root, targets, reach);
}

const char *topology_state_name(node_state_t state)
{
    static const char *names[] = {"starting", "up", "stopped", "dead", "removing"};
    return names[state];
}

typedef struct {
    int32_t *ids;
    size_t count, size;
} id_list_t;

static void s_collect_id(topo_node_t *node, void *arg)
{
    id_list_t *list = (id_list_t *)arg;
    if (!node->parent)
        return;
    if (list->count == list->size) {
        list->size = list->size ? list->size * 2 : 64;
        list->ids = (int32_t *)mem_realloc(list->ids, list->size * sizeof(int32_t));
        assert(list->ids);
    }
    list->ids[list->count++] = node->id;
}

int32_t *topology_ids(topo_node_t *node, size_t *count)
{
    id_list_t list = {(int32_t *)mem_alloc(sizeof(int32_t)), 0, 1};
    assert(list.ids);
    topology_walk(node, s_collect_id, &list);
    *count = list.count;
    return list.ids;
}

static int s_compare_int32(const void *a, const void *b)
{
    int32_t left = *(const int32_t *)a, right = *(const int32_t *)b;
    return (left > right) - (left < right);
}

int32_t *topology_ids_sorted(topo_node_t *node, size_t *count)
{
    int32_t *ids = topology_ids(node, count);
    qsort(ids, *count, sizeof(int32_t), s_compare_int32);
    return ids;
}
