/*  Unit test: every kind of result and event, as its result line and as the JSON
    object of --json, both exactly. */
#include "../controller/output.h"
#include "check.h"

#include <stdlib.h>

#include "../controller/parser.h"

static const int32_t s_missing[] = {7, 10, 15};

#define OK RESULT_OK
#define ERROR RESULT_ERROR
#define UNAVAILABLE RESULT_UNAVAILABLE

//  A folded reply: groups by first id.
static const result_group_t s_groups[] = {
    {OK, "1-4,6", "5"},
    {OK, "5", "'x' not found"},
    {UNAVAILABLE, "7-9", ""},
    {ERROR, "10", "Not found"},
    {OK, "11", ""},
};

//  The result (seq, kind, status, id, has_id, shows_id, value, error), its line, and
//  its JSON object when it took 1.5 ms.
static const struct {
    result_t result;
    const char *line;
    const char *json;
} s_cases[] = {
    //  create
    {{7, CMD_CREATE, OK, 5, true, false, {.pid = 4242}, NULL},
     "Ok: 4242",
     "{\"cmd\":\"create\",\"id\":5,\"ok\":true,\"result\":\"4242\",\"ms\":1.5}"},
    {{7, CMD_CREATE, ERROR, 5, true, false, {0}, "Already exists"},
     "Error: Already exists",
     "{\"cmd\":\"create\",\"id\":5,\"ok\":false,\"error\":\"Already "
     "exists\",\"ms\":1.5}"},
    {{7, CMD_CREATE, UNAVAILABLE, 5, true, false, {0}, NULL},
     "Error: Parent is unavailable",
     "{\"cmd\":\"create\",\"id\":5,\"ok\":false,\"error\":\"Parent is unavailable\","
     "\"ms\":1.5}"},
    //  remove, heartbeat
    {{7, CMD_REMOVE, OK, 2, true, false, {0}, NULL},
     "Ok",
     "{\"cmd\":\"remove\",\"id\":2,\"ok\":true,\"ms\":1.5}"},
    {{7, CMD_REMOVE, ERROR, 2, true, false, {0}, "Not found"},
     "Error: Not found",
     "{\"cmd\":\"remove\",\"id\":2,\"ok\":false,\"error\":\"Not found\",\"ms\":1.5}"},
    {{7, CMD_HEARTBEAT, OK, 0, false, false, {0}, NULL},
     "Ok",
     "{\"cmd\":\"heartbeat\",\"ok\":true,\"ms\":1.5}"},
    //  exec: the line names the node
    {{7, CMD_EXEC, OK, 10, true, true, {.text = "6"}, NULL},
     "Ok:10: 6",
     "{\"cmd\":\"exec\",\"id\":10,\"ok\":true,\"result\":\"6\",\"ms\":1.5}"},
    {{7, CMD_EXEC, OK, 10, true, true, {.text = ""}, NULL},
     "Ok:10",
     "{\"cmd\":\"exec\",\"id\":10,\"ok\":true,\"ms\":1.5}"},
    {{7, CMD_EXEC, OK, -3, true, true, {.text = "0;7"}, NULL},
     "Ok:-3: 0;7",
     "{\"cmd\":\"exec\",\"id\":-3,\"ok\":true,\"result\":\"0;7\",\"ms\":1.5}"},
    {{7, CMD_EXEC, ERROR, 10, true, true, {0}, "Not found"},
     "Error:10: Not found",
     "{\"cmd\":\"exec\",\"id\":10,\"ok\":false,\"error\":\"Not found\",\"ms\":1.5}"},
    {{7, CMD_EXEC, UNAVAILABLE, 10, true, true, {0}, NULL},
     "Error:10: Node is unavailable",
     "{\"cmd\":\"exec\",\"id\":10,\"ok\":false,\"error\":\"Node is unavailable\","
     "\"ms\":1.5}"},
    //  A node's empty error keeps its separator.
    {{7, CMD_EXEC, ERROR, 10, true, true, {0}, ""},
     "Error:10: ",
     "{\"cmd\":\"exec\",\"id\":10,\"ok\":false,\"error\":\"\",\"ms\":1.5}"},
    //  ping, pingall
    {{7, CMD_PING, OK, 3, true, false, {.answered = true}, NULL},
     "Ok: 1",
     "{\"cmd\":\"ping\",\"id\":3,\"ok\":true,\"result\":\"1\",\"ms\":1.5}"},
    {{7, CMD_PING, OK, 3, true, false, {.answered = false}, NULL},
     "Ok: 0",
     "{\"cmd\":\"ping\",\"id\":3,\"ok\":true,\"result\":\"0\",\"ms\":1.5}"},
    {{7, CMD_PINGALL, OK, 0, false, false, {.unavailable = {NULL, 0}}, NULL},
     "Ok: -1",
     "{\"cmd\":\"pingall\",\"ok\":true,\"result\":\"-1\",\"ms\":1.5}"},
    {{7, CMD_PINGALL, OK, 0, false, false, {.unavailable = {s_missing, 3}}, NULL},
     "Ok: 7;10;15",
     "{\"cmd\":\"pingall\",\"ok\":true,\"result\":\"7;10;15\",\"ms\":1.5}"},
    //  exec and ping to a set: folded, one line per group
    {{7, CMD_EXEC, OK, 0, false, false, {.groups = {s_groups, 5, "all", NULL}}, NULL},
     "Ok:1-4,6: 5\nOk:5: 'x' not found\nError:7-9: Node is unavailable\n"
     "Error:10: Not found\nOk:11",
     "{\"cmd\":\"exec\",\"set\":\"all\",\"ok\":false,\"groups\":["
     "{\"ids\":\"1-4,6\",\"ok\":true,\"result\":\"5\"},"
     "{\"ids\":\"5\",\"ok\":true,\"result\":\"'x' not found\"},"
     "{\"ids\":\"7-9\",\"ok\":false,\"error\":\"Node is unavailable\"},"
     "{\"ids\":\"10\",\"ok\":false,\"error\":\"Not found\"},"
     "{\"ids\":\"11\",\"ok\":true}],\"ms\":1.5}"},
    {{7, CMD_EXEC, OK, 0, false, false, {.groups = {s_groups, 1, "1-6", "sum"}}, NULL},
     "Ok:1-4,6: 5",
     "{\"cmd\":\"exec\",\"set\":\"1-6\",\"reduce\":\"sum\",\"ok\":true,\"groups\":["
     "{\"ids\":\"1-4,6\",\"ok\":true,\"result\":\"5\"}],\"ms\":1.5}"},
    {{7, CMD_PING, OK, 0, false, false, {.groups = {s_groups + 4, 1, "11", NULL}}, NULL},
     "Ok:11",
     "{\"cmd\":\"ping\",\"set\":\"11\",\"ok\":true,\"groups\":["
     "{\"ids\":\"11\",\"ok\":true}],\"ms\":1.5}"},
    //  A set that names nothing: an error of the command, no node named.
    {{7, CMD_EXEC, ERROR, 0, false, false, {.groups = {NULL, 0, "all", NULL}},
      "No node in the set"},
     "Error: No node in the set",
     "{\"cmd\":\"exec\",\"set\":\"all\",\"ok\":false,\"error\":\"No node in the "
     "set\",\"ms\":1.5}"},
    //  stats
    {{7, CMD_STATS, OK, 0, false, false, {.stats = {40, 3, 1234, 5678}}, NULL},
     "Ok: nodes 40, children 3, received 1234, sent 5678",
     "{\"cmd\":\"stats\",\"ok\":true,\"stats\":{\"nodes\":40,\"children\":3,"
     "\"received\":1234,\"sent\":5678},\"ms\":1.5}"},
    //  tree and help: lines
    {{7,
      CMD_TREE,
      OK,
      1,
      true,
      false,
      {.text = "1 pid 42 up depth 1\n1 node: 1 up"},
      NULL},
     "1 pid 42 up depth 1\n1 node: 1 up",
     "{\"cmd\":\"tree\",\"id\":1,\"ok\":true,"
     "\"lines\":[\"1 pid 42 up depth 1\",\"1 node: 1 up\"],\"ms\":1.5}"},
    {{7, CMD_TREE, ERROR, 9, true, false, {0}, "Not found"},
     "Error: Not found",
     "{\"cmd\":\"tree\",\"id\":9,\"ok\":false,\"error\":\"Not found\",\"ms\":1.5}"},
    {{7, CMD_HELP, OK, 0, false, false, {.text = "ping id\n  Ok: 1"}, NULL},
     "ping id\n  Ok: 1",
     "{\"cmd\":\"help\",\"ok\":true,\"lines\":[\"ping id\",\"  Ok: 1\"],\"ms\":1.5}"},
    //  Lines the parser refused: no command; exec's usage errors name the node.
    {{7, RESULT_NO_COMMAND, ERROR, 0, false, false, {0}, "Invalid id 'x'"},
     "Error: Invalid id 'x'",
     "{\"cmd\":null,\"ok\":false,\"error\":\"Invalid id 'x'\",\"ms\":1.5}"},
    {{7, RESULT_NO_COMMAND, ERROR, 10, false, true, {0}, "Usage: exec id op [args...]"},
     "Error:10: Usage: exec id op [args...]",
     "{\"cmd\":null,\"ok\":false,\"error\":\"Usage: exec id op [args...]\",\"ms\":1.5}"},
};

static void s_test_results(void)
{
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        char *line = output_text.result(&s_cases[i].result, 1.5);
        CHECK_STR(line, s_cases[i].line);
        free(line);
        char *json = output_json.result(&s_cases[i].result, 1.5);
        CHECK_STR(json, s_cases[i].json);
        free(json);
    }
}

//  Only exec's lines name the node; a fresh result is an Ok with no value.
static void s_test_result_for(void)
{
    result_t exec = result_for(4, CMD_EXEC, true, 10);
    CHECK(exec.seq == 4 && exec.status == RESULT_OK && exec.id == 10 && exec.shows_id);
    result_t ping = result_for(4, CMD_PING, true, 10);
    CHECK(ping.has_id && !ping.shows_id && !ping.value.answered);
    result_t pingall = result_for(4, CMD_PINGALL, false, -1);
    CHECK(!pingall.has_id && pingall.value.unavailable.count == 0);
}

static void s_test_events(void)
{
    event_t lost = {.kind = EVENT_NODE_UNAVAILABLE, .node = 3};
    event_t back = {.kind = EVENT_NODE_AVAILABLE, .node = 3};
    char *text = output_text.event(&lost);
    CHECK_STR(text, "Heartbit: node 3 is unavailable now");
    free(text);
    text = output_text.event(&back);
    CHECK_STR(text, "Heartbit: node 3 is available again");
    free(text);
    text = output_json.event(&lost);
    CHECK_STR(text, "{\"event\":\"heartbeat\",\"id\":3,\"state\":\"unavailable\"}");
    free(text);
    text = output_json.event(&back);
    CHECK_STR(text, "{\"event\":\"heartbeat\",\"id\":3,\"state\":\"available\"}");
    free(text);
    event_t joined = {.kind = EVENT_NODE_JOINED, .node = 7, .pid = 4242, .host = "n12"};
    text = output_text.event(&joined);
    CHECK_STR(text, "Joined: node 7 (pid 4242 on n12)");
    free(text);
    text = output_json.event(&joined);
    CHECK_STR(text, "{\"event\":\"joined\",\"id\":7,\"pid\":4242,\"host\":\"n12\"}");
    free(text);
}

int main(void)
{
    s_test_results();
    s_test_result_for();
    s_test_events();
    return check_report("output");
}
