/*  Unit test: the controller's tree model, for general and BST placement. */
#include "../controller/topology.h"
#include "check.h"

static void s_collect(topo_node_t *node, void *arg)
{
    char *out = (char *)arg;
    sprintf(out + strlen(out), "%d ", node->id);
}

static void s_general(void)
{
    topology_t *topology = topology_new(100);
    topo_node_t *root = topology_root(topology);
    CHECK(root->id == TOPOLOGY_ROOT && root->depth == 0 && root->pid == 100);
    CHECK(topology_find(topology, -1) == root && topology_size(topology) == 0);
    topo_node_t *one = topology_add(topology, 1, root);
    topo_node_t *two = topology_add(topology, 2, one);
    topo_node_t *three = topology_add(topology, 3, two);
    topo_node_t *five = topology_add(topology, 5, one);
    topo_node_t *four = topology_add(topology, 4, one);
    CHECK(one && two && three && four && five);
    CHECK(topology_add(topology, 2, root) == NULL); //  no id twice
    CHECK(topology_add(topology, -1, root) == NULL);
    CHECK(three->depth == 3 && three->state == NODE_PENDING);
    CHECK(topology_size(topology) == 5);

    int32_t hops[8];
    CHECK(topology_path(three, hops) == 3 && hops[0] == 1 && hops[1] == 2 &&
          hops[2] == 3);
    CHECK(topology_path(one, hops) == 1 && hops[0] == 1);

    char order[64] = "";
    topology_walk(root, s_collect, order);
    CHECK_STR(order, "-1 1 2 3 4 5 "); //  children in ascending order

    CHECK(topology_within(three, one) && topology_within(three, three));
    CHECK(!topology_within(one, three) && !topology_within(four, two));

    //  Availability: the highest dead or stopped node on the way blocks.
    one->state = two->state = three->state = four->state = five->state = NODE_UP;
    CHECK(topology_blocker(three) == NULL);
    three->state = NODE_STOPPED;
    CHECK(topology_blocker(three) == three);
    two->state = NODE_DEAD;
    CHECK(topology_blocker(three) == two && topology_blocker(two) == two);
    CHECK(topology_blocker(four) == NULL);

    two->pid = 222;
    CHECK(topology_find_pid(topology, 222) == two);
    CHECK(topology_find_pid(topology, 100) == NULL); //  the root is no worker

    topology_remove(topology, two);
    CHECK(topology_find(topology, 2) == NULL && topology_find(topology, 3) == NULL);
    CHECK(topology_size(topology) == 3);
    order[0] = '\0';
    topology_walk(root, s_collect, order);
    CHECK_STR(order, "-1 1 4 5 ");
    topology_remove(topology, root); //  refused
    CHECK(topology_size(topology) == 3);
    CHECK(topology_add(topology, 2, five) != NULL); //  ids come back
    topology_destroy(&topology);
    CHECK(topology == NULL);
    topology_destroy(&topology);
}

static topo_node_t *s_bst_insert(topology_t *topology, int32_t id)
{
    return topology_add(topology, id, topology_bst_parent(topology, id));
}

static void s_bst(void)
{
    topology_t *topology = topology_new(1);
    CHECK(topology_bst_parent(topology, 8) == topology_root(topology));
    topo_node_t *eight = s_bst_insert(topology, 8);
    topo_node_t *eleven = s_bst_insert(topology, 11);
    topo_node_t *six = s_bst_insert(topology, 6);
    topo_node_t *thirteen = s_bst_insert(topology, 13);
    topo_node_t *nine = s_bst_insert(topology, 9);
    topo_node_t *seven = s_bst_insert(topology, 7);
    CHECK(eight->parent == topology_root(topology));
    CHECK(eleven->parent == eight && six->parent == eight);
    CHECK(thirteen->parent == eleven && nine->parent == eleven);
    CHECK(seven->parent == six);
    CHECK(topology_bst_parent(topology, 10) == nine);
    CHECK(topology_bst_parent(topology, 5) == six);

    //  Sorted ids make a chain.
    topology_t *chain = topology_new(1);
    topo_node_t *last = NULL;
    for (int32_t id = 1; id <= 200; id++)
        last = s_bst_insert(chain, id);
    CHECK(last->depth == 200 && last->parent->id == 199);
    topology_destroy(&chain);
    topology_destroy(&topology);
}

//  Resolves word against topology; each set as "targets | missing | reach".
static char *s_resolved(topology_t *topology, const char *word)
{
    static char text[256];
    nodeset_spec_t spec;
    const char *reason;
    CHECK(nodeset_parse(word, strlen(word), &spec, &reason) == 0);
    nodeset_t *targets = nodeset_new(), *missing = nodeset_new(), *reach = nodeset_new();
    topology_resolve(topology, &spec, targets, missing, reach);
    char *t = nodeset_format(targets), *m = nodeset_format(missing),
         *r = nodeset_format(reach);
    snprintf(text, sizeof text, "%s | %s | %s", t, m, r);
    free(t);
    free(m);
    free(r);
    nodeset_destroy(&targets);
    nodeset_destroy(&missing);
    nodeset_destroy(&reach);
    nodeset_spec_release(&spec);
    return text;
}

//  Node sets against the tree:  -1 ─ 1 ─ 2 ─ 3      and -1 ─ 10 ─ 11
//                                     └─ 4 ─ 7
static void s_resolve(void)
{
    topology_t *topology = topology_new(100);
    topo_node_t *root = topology_root(topology);
    topo_node_t *one = topology_add(topology, 1, root);
    topo_node_t *two = topology_add(topology, 2, one);
    topology_add(topology, 3, two);
    topo_node_t *four = topology_add(topology, 4, one);
    topology_add(topology, 7, four);
    topology_add(topology, 11, topology_add(topology, 10, root));
    CHECK_STR(s_resolved(topology, "all"), "1-4,7,10-11 |  | 1-4,7,10-11");
    CHECK_STR(s_resolved(topology, "3,7"), "3,7 |  | 1-4,7");
    CHECK_STR(s_resolved(topology, "2-8"), "2-4,7 | 5-6,8 | 1-4,7");
    CHECK_STR(s_resolved(topology, "4/"), "4,7 |  | 1,4,7");
    CHECK_STR(s_resolved(topology, "2/,11,99/,-5"), "2-3,11 | -5,99 | 1-3,10-11");
    CHECK_STR(s_resolved(topology, "0-2147483647"), "1-4,7,10-11 | 0,5-6,8-9,12-2147483647 | 1-4,7,10-11");
    CHECK_STR(s_resolved(topology, "-1/"), " | -1 | "); //  the controller is no node
    topology_destroy(&topology);
    //  An empty tree: everything named is missing.
    topology = topology_new(100);
    CHECK_STR(s_resolved(topology, "all,1-3"), " | 1-3 | ");
    topology_destroy(&topology);
}

int main(void)
{
    s_general();
    s_bst();
    s_resolve();
    return check_report("topology");
}
