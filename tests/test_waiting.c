/*  Unit test: the order rule — what waits for a create or remove in flight, and
    that released commands run in the order read. */
#include "../controller/waiting.h"
#include "check.h"

#include <stdlib.h>

static uint64_t s_ran[64];
static size_t s_ran_count;

//  Runs a command as the controller would, as far as the order rule can see: a
//  create puts its node in the topology, pending; a remove marks its node removing.
//  arg is the topology.
static void s_run(void *arg, command_t *command, uint64_t seq)
{
    topology_t *topology = (topology_t *)arg;
    s_ran[s_ran_count++] = seq;
    if (command->kind == CMD_CREATE)
        CHECK(topology_add(topology, command->id,
                           topology_find(topology, command->parent)) != NULL);
    else if (command->kind == CMD_REMOVE)
        topology_find(topology, command->id)->state = NODE_REMOVING;
}

static command_t *s_command(const char *text)
{
    size_t length = strlen(text);
    char *line = malloc(length + 1);
    memcpy(line, text, length + 1);
    command_t *command = NULL;
    char *error = NULL;
    CHECK(parser_parse(line, length, EXEC_ANY, &command, &error) == 1);
    free(error);
    return command;
}

static void s_submit(waiting_t *waiting, const char *text, uint64_t seq)
{
    command_t *command = s_command(text);
    waiting_submit(waiting, &command, seq);
    CHECK(command == NULL);
}

static bool s_ran_is(const uint64_t *expected, size_t count)
{
    return s_ran_count == count && !memcmp(s_ran, expected, count * sizeof(uint64_t));
}

int main(void)
{
    topology_t *topology = topology_new(1);
    requests_t *requests = requests_new();
    waiting_t *waiting = waiting_new(topology, requests, false, s_run, topology);
    topo_node_t *root = topology_root(topology);
    topo_node_t *one = topology_add(topology, 1, root);
    one->state = NODE_UP;
    topo_node_t *two = topology_add(topology, 2, one); //  its create is in flight

    s_submit(waiting, "exec 1 sum 1 1", 1); //  independent: runs
    s_submit(waiting, "exec 2 sum 1 1", 2); //  names a pending node: waits
    s_submit(waiting, "create 3 2", 3);     //  its parent is pending: waits
    s_submit(waiting, "exec 3 sum 1 1", 4); //  names a node a waiting create makes
    s_submit(waiting, "ping 1", 5);         //  independent: runs
    s_submit(waiting, "remove 1", 6);       //  its subtree holds a pending node
    s_submit(waiting, "exec 1 get X", 7);   //  behind the waiting remove of 1
    s_submit(waiting, "create 9", 8);       //  independent: runs
    uint64_t first[] = {1, 5, 8};
    CHECK(s_ran_is(first, 3));
    CHECK(waiting_size(waiting) == 5);

    CHECK(topology_find(topology, 9)->state == NODE_PENDING); //  create 9 ran

    //  Node 2's create is answered: the commands that waited for it alone run, in
    //  the order read. create 3 makes node 3 pending, so exec 3 waits for it, the
    //  remove of 1 waits (node 3 is below 1), and exec 1 behind the remove.
    two->state = NODE_UP;
    waiting_release(waiting);
    uint64_t second[] = {1, 5, 8, 2, 3};
    CHECK(s_ran_is(second, 5));
    CHECK(waiting_size(waiting) == 3);
    topo_node_t *three = topology_find(topology, 3);
    CHECK(three && three->parent == two && three->state == NODE_PENDING);

    //  Node 3 is up: exec 3 runs, then remove 1; exec 1 now waits for that remove.
    three->state = NODE_UP;
    waiting_release(waiting);
    uint64_t third_step[] = {1, 5, 8, 2, 3, 4, 6};
    CHECK(s_ran_is(third_step, 7));
    CHECK(waiting_size(waiting) == 1);
    CHECK(one->state == NODE_REMOVING);

    //  The remove is done: exec 1 runs (and will answer Not found).
    topology_remove(topology, one);
    waiting_release(waiting);
    uint64_t all[] = {1, 5, 8, 2, 3, 4, 6, 7};
    CHECK(s_ran_is(all, 8));
    CHECK(waiting_size(waiting) == 0);

    //  A remove also waits for requests in flight below it.
    topology_t *other = topology_new(1);
    requests_t *flying = requests_new();
    waiting_t *second_waiting = waiting_new(other, flying, false, s_run, other);
    topo_node_t *five = topology_add(other, 5, topology_root(other));
    five->state = NODE_UP;
    request_t *request = requests_add(flying, CMD_EXEC, 1, 5, 5, 1000);
    s_ran_count = 0;
    s_submit(second_waiting, "remove 5", 20);
    s_submit(second_waiting, "pingall", 21); //  behind the remove
    CHECK(s_ran_count == 0 && waiting_size(second_waiting) == 2);
    requests_remove(flying, request);
    waiting_release(second_waiting);
    uint64_t removing[] = {20};
    CHECK(s_ran_is(removing, 1) && waiting_size(second_waiting) == 1);
    //  pingall waits for the remove itself too, as typed lines would.
    topology_remove(other, five);
    waiting_release(second_waiting);
    uint64_t third[] = {20, 21};
    CHECK(s_ran_is(third, 2) && waiting_size(second_waiting) == 0);

    //  A remove waits for a pingall in flight: the pingall reports the tree it was
    //  sent to, and the remove would take a node out from under it.
    topo_node_t *six = topology_add(other, 6, topology_root(other));
    six->state = NODE_UP;
    request_t *pingall = requests_add(flying, CMD_PINGALL, 22, -1, -1, 1000);
    s_ran_count = 0;
    s_submit(second_waiting, "remove 6", 23);
    s_submit(second_waiting, "exec 6 get X", 24); //  behind the remove
    CHECK(s_ran_count == 0 && waiting_size(second_waiting) == 2);
    requests_remove(flying, pingall);
    waiting_wake(second_waiting, -1);
    uint64_t fourth[] = {23};
    CHECK(s_ran_is(fourth, 1) && waiting_size(second_waiting) == 1);

    waiting_destroy(&second_waiting);
    requests_destroy(&flying);
    topology_destroy(&other);
    waiting_destroy(&waiting);
    CHECK(waiting == NULL);
    requests_destroy(&requests);
    topology_destroy(&topology);
    return check_report("waiting");
}
