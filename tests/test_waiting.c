/*  Unit test: the order rule — what waits for a create or remove in flight, and
    that released commands run in the order read. */
#include "../controller/waiting.h"
#include "check.h"

#include <stdlib.h>

static uint64_t s_ran[64];
static size_t s_ran_count;

static void s_run(void *arg, command_t *command, uint64_t seq)
{
    (void)arg;
    (void)command;
    s_ran[s_ran_count++] = seq;
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
    waiting_t *waiting = waiting_new(topology, requests, false, s_run, NULL);
    node_t *root = topology_root(topology);
    node_t *one = topology_add(topology, 1, root);
    one->state = NODE_UP;
    node_t *two = topology_add(topology, 2, one); //  its create is in flight

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

    //  Node 2's create is answered: the commands that waited run in the order read.
    two->state = NODE_UP;
    waiting_release(waiting);
    //  create 3 ran; node 3 is now pending in a real controller: model it.
    uint64_t second[] = {1, 5, 8, 2, 3};
    CHECK(s_ran_count >= 5 && !memcmp(s_ran, second, 5 * sizeof(uint64_t)));

    //  A remove also waits for requests in flight below it.
    topology_t *other = topology_new(1);
    requests_t *flying = requests_new();
    waiting_t *second_waiting = waiting_new(other, flying, false, s_run, NULL);
    node_t *five = topology_add(other, 5, topology_root(other));
    five->state = NODE_UP;
    request_t *request = requests_add(flying, CMD_EXEC, 1, 5, 5, 1000);
    s_ran_count = 0;
    s_submit(second_waiting, "remove 5", 20);
    s_submit(second_waiting, "pingall", 21); //  behind the remove
    CHECK(s_ran_count == 0 && waiting_size(second_waiting) == 2);
    requests_remove(flying, request);
    waiting_release(second_waiting);
    uint64_t third[] = {20, 21};
    CHECK(s_ran_is(third, 2));

    waiting_destroy(&second_waiting);
    requests_destroy(&flying);
    topology_destroy(&other);
    waiting_destroy(&waiting);
    CHECK(waiting == NULL);
    requests_destroy(&requests);
    topology_destroy(&topology);
    return check_report("waiting");
}
