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
    parse_error_t error;
    CHECK(parser_parse(line, length, EXEC_ANY, &command, &error) == 1);
    parse_error_clear(&error);
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

//  Spawns are paced per host: the run callback takes a slot for every create, as
//  the controller does when it sends one.
static waiting_t *s_paced;
static spawn_slot_t *s_taken[64];

static void s_run_spawning(void *arg, command_t *command, uint64_t seq)
{
    topology_t *topology = (topology_t *)arg;
    if (command->kind == CMD_CREATE && !topology_find(topology, command->parent)) {
        s_ran[s_ran_count++] = seq; //  "Parent not found": no spawn, no slot
        return;
    }
    s_run(arg, command, seq);
    if (command->kind == CMD_CREATE)
        s_taken[seq] = waiting_spawn_started(s_paced, command->host[0] ? command->host : NULL);
}

//  The first create waiting for a slot may need none when its turn comes (its parent
//  died meanwhile): the slot goes on to the next one.
static void s_slot_passed_on(void)
{
    topology_t *topology = topology_new(1);
    requests_t *requests = requests_new();
    s_paced = waiting_new(topology, requests, false, 1, s_run_spawning, topology);
    topology_add(topology, 9, topology_root(topology))->state = NODE_UP;
    s_ran_count = 0;
    s_submit(s_paced, "create 1", 1);   //  takes the one slot
    s_submit(s_paced, "create 2 9", 2); //  waits for the slot
    s_submit(s_paced, "create 3 9", 3); //  waits behind create 2 (same parent)
    s_submit(s_paced, "create 4", 4);   //  waits for the slot
    uint64_t first[] = {1};
    CHECK(s_ran_is(first, 1) && waiting_size(s_paced) == 3);
    topology_remove(topology, topology_find(topology, 9)); //  node 9 died
    waiting_wake(s_paced, 9);
    topology_find(topology, 1)->state = NODE_UP;
    waiting_spawn_ended(s_paced, s_taken[1]);
    uint64_t all[] = {1, 2, 3, 4};
    CHECK(s_ran_is(all, 4) && waiting_size(s_paced) == 0);
    waiting_spawn_ended(s_paced, s_taken[4]);
    waiting_destroy(&s_paced);
    requests_destroy(&requests);
    topology_destroy(&topology);
}

static void s_spawns_paced(void)
{
    topology_t *topology = topology_new(1);
    requests_t *requests = requests_new();
    s_paced = waiting_new(topology, requests, false, 2, s_run_spawning, topology);
    topology_add(topology, 9, topology_root(topology))->state = NODE_UP;
    s_ran_count = 0;
    s_submit(s_paced, "create 1", 1);
    s_submit(s_paced, "create 2", 2);
    s_submit(s_paced, "create 3", 3);          //  this host's two slots are taken: waits
    s_submit(s_paced, "exec 3 sum 1 1", 4);    //  behind its node's create
    s_submit(s_paced, "create 4 9 @far", 5);   //  another host's slots: runs
    s_submit(s_paced, "exec 9 sum 1 1", 6);    //  independent: runs
    s_submit(s_paced, "create 5", 7);          //  its parent's earlier create waits
    uint64_t first[] = {1, 2, 5, 6};
    CHECK(s_ran_is(first, 4) && waiting_size(s_paced) == 3);
    //  Node 1's create ends: its slot goes to create 3 (its timeout only starts now),
    //  and exec 3 goes down behind it.
    topology_find(topology, 1)->state = NODE_UP;
    waiting_spawn_ended(s_paced, s_taken[1]);
    uint64_t second[] = {1, 2, 5, 6, 3, 4};
    CHECK(s_ran_is(second, 6) && waiting_size(s_paced) == 1);
    //  A slot of another host freed: nothing here waited for it.
    waiting_spawn_ended(s_paced, s_taken[5]);
    CHECK(s_ran_count == 6);
    topology_find(topology, 3)->state = NODE_UP;
    waiting_spawn_ended(s_paced, s_taken[3]);
    waiting_wake(s_paced, 3);
    uint64_t third[] = {1, 2, 5, 6, 3, 4, 7};
    CHECK(s_ran_is(third, 7) && waiting_size(s_paced) == 0);
    waiting_destroy(&s_paced);
    requests_destroy(&requests);
    topology_destroy(&topology);
}

int main(void)
{
    topology_t *topology = topology_new(1);
    requests_t *requests = requests_new();
    waiting_t *waiting = waiting_new(topology, requests, false, 0, s_run, topology);
    topo_node_t *root = topology_root(topology);
    topo_node_t *one = topology_add(topology, 1, root);
    one->state = NODE_UP;
    topo_node_t *two = topology_add(topology, 2, one); //  its create is in flight

    s_submit(waiting, "exec 1 sum 1 1", 1); //  independent: runs
    s_submit(waiting, "exec 2 sum 1 1", 2); //  names a pending node: goes, held at 1
    s_submit(waiting, "create 3 2", 3);     //  its parent is pending: goes, held at 1
    s_submit(waiting, "exec 3 sum 1 1", 4); //  names the node create 3 makes: goes
    s_submit(waiting, "ping 1", 5);         //  independent: runs
    s_submit(waiting, "remove 1", 6);       //  its subtree holds a pending node
    s_submit(waiting, "exec 1 get X", 7);   //  behind the waiting remove of 1
    s_submit(waiting, "create 9", 8);       //  independent: runs
    //  A command for one node goes down past creates in flight (their parents hold
    //  it); a command on a whole subtree waits for them here.
    uint64_t first[] = {1, 2, 3, 4, 5, 8};
    CHECK(s_ran_is(first, 6));
    CHECK(waiting_size(waiting) == 2);
    CHECK(topology_find(topology, 9)->state == NODE_PENDING); //  create 9 ran
    topo_node_t *three = topology_find(topology, 3);
    CHECK(three && three->parent == two && three->state == NODE_PENDING);

    //  Node 2's create is answered: the remove of 1 still waits for node 3's.
    two->state = NODE_UP;
    waiting_release(waiting);
    CHECK(s_ran_is(first, 6));
    CHECK(waiting_size(waiting) == 2);

    //  Node 3 is up: remove 1 runs; exec 1 now waits for that remove.
    three->state = NODE_UP;
    waiting_release(waiting);
    uint64_t third_step[] = {1, 2, 3, 4, 5, 8, 6};
    CHECK(s_ran_is(third_step, 7));
    CHECK(waiting_size(waiting) == 1);
    CHECK(one->state == NODE_REMOVING);

    //  The remove is done: exec 1 runs (and will answer Not found).
    topology_remove(topology, one);
    waiting_release(waiting);
    uint64_t all[] = {1, 2, 3, 4, 5, 8, 6, 7};
    CHECK(s_ran_is(all, 8));
    CHECK(waiting_size(waiting) == 0);

    //  In a binary search tree a command for a node being created waits for its
    //  create's answer: where a node is, and where a create goes, depend on it.
    topology_t *bst = topology_new(1);
    waiting_t *bst_waiting = waiting_new(bst, requests, true, 0, s_run, bst);
    topo_node_t *ten = topology_add(bst, 10, topology_root(bst));
    s_ran_count = 0;
    s_submit(bst_waiting, "exec 10 sum 1 1", 30);
    CHECK(s_ran_count == 0 && waiting_size(bst_waiting) == 1);
    ten->state = NODE_UP;
    waiting_release(bst_waiting);
    uint64_t bst_ran[] = {30};
    CHECK(s_ran_is(bst_ran, 1) && waiting_size(bst_waiting) == 0);
    waiting_destroy(&bst_waiting);
    topology_destroy(&bst);

    //  A BST create held while its parent was node 7, which is removed meanwhile:
    //  when it is looked at again, it still waits behind a set command read before
    //  it (which waits for node 0's create), or the set would see node 15.
    bst = topology_new(1);
    bst_waiting = waiting_new(bst, requests, true, 0, s_run, bst);
    topo_node_t *seven = topology_add(bst, 7, topology_root(bst));
    seven->state = NODE_REMOVING;
    s_ran_count = 0;
    s_submit(bst_waiting, "ping all", 50);
    s_submit(bst_waiting, "create 15", 51);
    CHECK(s_ran_count == 0 && waiting_size(bst_waiting) == 2);
    topology_remove(bst, seven);
    topology_add(bst, 1, topology_root(bst))->state = NODE_UP;
    topology_add(bst, 0, topology_find(bst, 1)); //  pending
    waiting_wake(bst_waiting, 7);
    CHECK(s_ran_count == 0 && waiting_size(bst_waiting) == 2);
    topology_find(bst, 0)->state = NODE_UP;
    waiting_wake(bst_waiting, 0);
    uint64_t in_order[] = {50, 51};
    CHECK(s_ran_is(in_order, 2) && waiting_size(bst_waiting) == 0);
    waiting_destroy(&bst_waiting);
    topology_destroy(&bst);

    //  A create of an id whose create is in flight waits for its answer (the id may
    //  be free again then), and what names the id waits behind it.
    topology_t *again = topology_new(1);
    waiting_t *again_waiting = waiting_new(again, requests, false, 0, s_run, again);
    topo_node_t *eleven = topology_add(again, 11, topology_root(again));
    s_ran_count = 0;
    s_submit(again_waiting, "create 11", 40);
    s_submit(again_waiting, "exec 11 sum 1 1", 41);
    CHECK(s_ran_count == 0 && waiting_size(again_waiting) == 2);
    topology_remove(again, eleven); //  its create failed
    waiting_wake(again_waiting, 11);
    uint64_t again_ran[] = {40, 41};
    CHECK(s_ran_is(again_ran, 2) && waiting_size(again_waiting) == 0);
    //  Behind a stopped node a command does not go down past a create: it would be
    //  refused at once, and the create's answer is what tells what it gets.
    topo_node_t *twenty = topology_add(again, 20, topology_root(again));
    twenty->state = NODE_STOPPED;
    topo_node_t *twenty_one = topology_add(again, 21, twenty);
    s_ran_count = 0;
    s_submit(again_waiting, "exec 21 sum 1 1", 42);
    CHECK(s_ran_count == 0 && waiting_size(again_waiting) == 1);
    topology_remove(again, twenty_one);
    waiting_wake(again_waiting, 21);
    uint64_t stopped_ran[] = {42};
    CHECK(s_ran_is(stopped_ran, 1) && waiting_size(again_waiting) == 0);
    waiting_destroy(&again_waiting);
    topology_destroy(&again);

    //  A remove also waits for requests in flight below it.
    topology_t *other = topology_new(1);
    requests_t *flying = requests_new();
    waiting_t *second_waiting = waiting_new(other, flying, false, 0, s_run, other);
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
    request_t *pingall = requests_add(flying, CMD_BROADCAST, 22, -1, -1, 1000);
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
    s_spawns_paced();
    s_slot_passed_on();
    return check_report("waiting");
}
