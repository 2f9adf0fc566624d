/*  Unit test: the controller's heartbeat view prints each change once. */
#include "../controller/heartbeat.h"
#include "check.h"

static char s_lines[4096];
static int64_t s_now = 1000000000;

static void s_output(void *arg, const result_t *result, const event_t *event)
{
    (void)arg;
    CHECK(!result && event);
    char *line = output_text.event(event);
    strcat(s_lines, line);
    strcat(s_lines, "\n");
    free(line);
}

static topo_node_t *s_add(topology_t *topology, int32_t id, topo_node_t *parent)
{
    topo_node_t *node = topology_add(topology, id, parent);
    node->state = NODE_UP;
    return node;
}

int main(void)
{
    topology_t *topology = topology_new(1);
    topo_node_t *root = topology_root(topology);
    topo_node_t *one = s_add(topology, 1, root);
    topo_node_t *two = s_add(topology, 2, one);
    topo_node_t *three = s_add(topology, 3, two);
    topo_node_t *four = s_add(topology, 4, root);
    heartbeat_t *heartbeat = heartbeat_new(topology, s_output, NULL);

    //  Off: nothing is printed whatever happens.
    two->state = NODE_DEAD;
    heartbeat_update(heartbeat, s_now);
    CHECK_STR(s_lines, "");
    two->state = NODE_UP;

    heartbeat_set_interval(heartbeat, 100);
    CHECK(heartbeat_interval(heartbeat) == 100);
    heartbeat_update(heartbeat, s_now);
    CHECK_STR(s_lines, "");

    //  A lost node, and everything behind it, once.
    heartbeat_set_lost(heartbeat, two, true);
    heartbeat_update(heartbeat, s_now);
    CHECK_STR(s_lines, "Heartbit: node 2 is unavailable now\n"
                       "Heartbit: node 3 is unavailable now\n");
    s_lines[0] = '\0';
    //  A new interval while on says nothing again (the lines once repeated).
    heartbeat_set_interval(heartbeat, 200);
    heartbeat_set_interval(heartbeat, 100);
    heartbeat_update(heartbeat, s_now);
    CHECK_STR(s_lines, "");
    two->state = NODE_STOPPED; //  also stopped: no new line
    heartbeat_update(heartbeat, s_now);
    CHECK_STR(s_lines, "");
    two->state = NODE_UP; //  continued, but its beats are not back yet
    heartbeat_update(heartbeat, s_now);
    CHECK_STR(s_lines, "");
    heartbeat_set_lost(heartbeat, two, false);
    CHECK(heartbeat_update(heartbeat, s_now) == s_now + 100000);
    //  Node 2 is back by its parent's word; node 3 was only behind it: what node 2
    //  saw of it may still be on its way, so it is said an interval later.
    CHECK_STR(s_lines, "Heartbit: node 2 is available again\n");
    s_lines[0] = '\0';
    s_now += 99999;
    CHECK(heartbeat_update(heartbeat, s_now) == s_now + 1);
    CHECK_STR(s_lines, "");
    s_now += 1;
    CHECK(heartbeat_update(heartbeat, s_now) == -1);
    CHECK_STR(s_lines, "Heartbit: node 3 is available again\n");
    s_lines[0] = '\0';

    //  Node -1 reports two of its own children lost (node/heartbeat.c watches
    //  the beats, the same at every level), then one back.
    heartbeat_set_lost(heartbeat, four, true);
    heartbeat_update(heartbeat, s_now);
    CHECK_STR(s_lines, "Heartbit: node 4 is unavailable now\n");
    s_lines[0] = '\0';
    heartbeat_set_lost(heartbeat, one, true);
    heartbeat_update(heartbeat, s_now);
    CHECK_STR(s_lines, "Heartbit: node 1 is unavailable now\n"
                       "Heartbit: node 2 is unavailable now\n"
                       "Heartbit: node 3 is unavailable now\n");
    s_lines[0] = '\0';
    heartbeat_set_lost(heartbeat, four, false);
    heartbeat_update(heartbeat, s_now);
    CHECK_STR(s_lines, "Heartbit: node 4 is available again\n");
    s_lines[0] = '\0';

    //  Node 1 back (its link healed): nodes 2 and 3, only behind it, wait an
    //  interval; its old report that it lost node 2 meanwhile comes within it, so
    //  node 2 is never said back and then lost again. Changes between two updates
    //  are said once, as they stand.
    heartbeat_set_lost(heartbeat, one, false);
    heartbeat_update(heartbeat, s_now);
    CHECK_STR(s_lines, "Heartbit: node 1 is available again\n");
    s_lines[0] = '\0';
    s_now += 50000;
    heartbeat_set_lost(heartbeat, two, true);
    CHECK(heartbeat_update(heartbeat, s_now) == -1);
    s_now += 100000;
    heartbeat_update(heartbeat, s_now);
    CHECK_STR(s_lines, "");
    //  Node 2 back by node 1's word: at once; node 3 behind it, an interval later.
    heartbeat_set_lost(heartbeat, two, false);
    heartbeat_update(heartbeat, s_now);
    CHECK_STR(s_lines, "Heartbit: node 2 is available again\n");
    s_lines[0] = '\0';
    s_now += 100000;
    heartbeat_update(heartbeat, s_now);
    CHECK_STR(s_lines, "Heartbit: node 3 is available again\n");
    s_lines[0] = '\0';
    heartbeat_set_lost(heartbeat, one, true);
    heartbeat_update(heartbeat, s_now);
    s_lines[0] = '\0';

    //  A death below a lost node changes nothing visible; switching off and on
    //  forgets the past and reports what is known dead at once.
    three->state = NODE_DEAD;
    heartbeat_update(heartbeat, s_now);
    CHECK_STR(s_lines, "");
    heartbeat_set_interval(heartbeat, 0);
    heartbeat_set_interval(heartbeat, 50);
    heartbeat_update(heartbeat, s_now);
    CHECK_STR(s_lines, "Heartbit: node 3 is unavailable now\n");

    heartbeat_destroy(&heartbeat);
    topology_destroy(&topology);
    return check_report("heartbeat");
}
