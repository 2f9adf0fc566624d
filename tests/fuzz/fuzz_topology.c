/*  Fuzz target: the topology model under random create/remove sequences, in general
    and BST placement. Each 5-byte step is an operation and an id (small ids, so they
    collide often); invariants are checked after every step: parent links both ways,
    depths, BST order, no id twice, size. */
#include <czmq.h>

#include "../../controller/topology.h"
#include "fuzz.h"

typedef struct {
    size_t visited;
    bool bst;
} check_t;

static void s_check(topo_node_t *node, void *arg)
{
    check_t *check = (check_t *)arg;
    check->visited++;
    if (node->parent) {
        FUZZ_ASSERT(node->depth == node->parent->depth + 1);
        FUZZ_ASSERT(zlistx_find(node->parent->children, node) != NULL);
    } else
        FUZZ_ASSERT(node->depth == 0 && node->id == TOPOLOGY_ROOT);
    FUZZ_ASSERT(!check->bst || !node->parent || zlistx_size(node->children) <= 2);
    //  BST order: every node lies strictly on its side of each ancestor below the root.
    if (check->bst)
        for (topo_node_t *child = node, *above = node->parent; above && above->parent;
             child = above, above = above->parent) {
            bool left = child->id < above->id;
            FUZZ_ASSERT(left ? node->id < above->id : node->id > above->id);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool bst = data[0] & 1;
    topology_t *topology = topology_new(1);
    zhashx_t *present = zhashx_new(); //  the model: id -> "1"
    for (size_t offset = 1; offset + 5 <= size; offset += 5) {
        int32_t id = (int32_t)((data[offset + 1] << 8 | data[offset + 2]) % 64) - 8;
        int32_t parent_id = (int32_t)(data[offset + 3] % 64) - 8;
        char key[16];
        snprintf(key, sizeof key, "%d", id);
        if (data[offset] % 3 != 2) {
            topo_node_t *parent = bst ? topology_bst_parent(topology, id)
                                 : topology_find(topology, parent_id);
            bool exists = topology_find(topology, id) != NULL || id == TOPOLOGY_ROOT;
            topo_node_t *node = parent ? topology_add(topology, id, parent) : NULL;
            FUZZ_ASSERT(!node || !exists);
            if (node) {
                node->state = (node_state_t)(data[offset + 4] % 5);
                zhashx_insert(present, key, (void *)"1");
            }
        } else {
            topo_node_t *node = topology_find(topology, id);
            if (node && node->parent) {
                //  The model forgets the whole subtree too.
                zlist_t *gone = zlist_new();
                zhashx_t *all = present;
                for (char *name = (char *)zhashx_first(all); name;
                     name = (char *)zhashx_next(all)) {
                    const char *name_key = (const char *)zhashx_cursor(all);
                    topo_node_t *other = topology_find(topology, atoi(name_key));
                    if (other && topology_within(other, node))
                        zlist_append(gone, (void *)name_key);
                }
                for (char *name = (char *)zlist_first(gone); name;
                     name = (char *)zlist_next(gone))
                    zhashx_delete(present, name);
                zlist_destroy(&gone);
                topology_remove(topology, node);
            }
        }
        check_t check = {0, bst};
        topology_walk(topology_root(topology), s_check, &check);
        FUZZ_ASSERT(check.visited == topology_size(topology) + 1);
        FUZZ_ASSERT(topology_size(topology) == zhashx_size(present));
        for (const char *name = (const char *)zhashx_first(present); name;
             name = (const char *)zhashx_next(present)) {
            topo_node_t *node = topology_find(topology, atoi(zhashx_cursor(present)));
            FUZZ_ASSERT(node != NULL);
            //  A path leads there from the root.
            int32_t hops[128];
            if (node->depth <= 128) {
                size_t depth = topology_path(node, hops);
                FUZZ_ASSERT(depth == node->depth && hops[depth - 1] == node->id);
            }
        }
    }
    zhashx_destroy(&present);
    topology_destroy(&topology);
    return 0;
}
