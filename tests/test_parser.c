/*  Unit test: the command language, every form the README's Commands lists, and garbage. */
#include "../controller/heartbeat.h"
#include "../controller/parser.h"
#include "../common/process.h"
#include "check.h"

#include <stdlib.h>

static command_t *s_command;
static parse_error_t s_parsed_error;
//  The error as its reply line shows it: "Error: why", or "Error:10: why" when it
//  names a node. NULL: none.
static char *s_error;

//  Parses a copy of bytes[0..length); returns the parser's result code.
static int s_parse_bytes(const char *bytes, size_t length, exec_syntax_t syntax)
{
    command_destroy(&s_command);
    free(s_error);
    s_error = NULL;
    char *line = (char *)malloc(length + 1);
    memcpy(line, bytes, length);
    line[length] = '\0';
    int rc = parser_parse(line, length, syntax, &s_command, &s_parsed_error);
    CHECK((rc == -1) == (s_parsed_error.why != NULL));
    if (s_parsed_error.why && s_parsed_error.names_node)
        s_error = process_format("Error:%d: %s", (int)s_parsed_error.id, s_parsed_error.why);
    else if (s_parsed_error.why)
        s_error = process_format("Error: %s", s_parsed_error.why);
    parse_error_clear(&s_parsed_error);
    return rc;
}

static int s_parse_with(const char *text, exec_syntax_t syntax)
{
    return s_parse_bytes(text, strlen(text), syntax);
}

static int s_parse(const char *text)
{
    return s_parse_with(text, EXEC_ANY);
}

static void s_expect_error(const char *text, const char *error)
{
    CHECK(s_parse(text) == -1);
    CHECK_STR(s_error, error);
}

static bool s_exec_is(int32_t id, const char *op, const char *args)
{
    return s_command && s_command->kind == CMD_EXEC && s_command->id == id &&
           s_command->op_length == strlen(op) &&
           memcmp(s_command->op, op, s_command->op_length) == 0 &&
           s_command->args_length == strlen(args) &&
           memcmp(s_command->args, args, s_command->args_length) == 0;
}

static void s_valid(void)
{
    CHECK(s_parse("create 10") == 1 && s_command->kind == CMD_CREATE);
    CHECK(s_command->id == 10 && s_command->parent == -1 && !s_command->has_parent);
    CHECK(s_parse("create 10 -1") == 1 && s_command->parent == -1 &&
          s_command->has_parent);
    CHECK(s_parse("  create\t11   10  ") == 1 && s_command->id == 11 &&
          s_command->parent == 10);
    CHECK(s_parse("remove 3") == 1 && s_command->kind == CMD_REMOVE &&
          s_command->id == 3);
    CHECK(s_parse("kill 3") == 1 && s_command->kind == CMD_REMOVE);
    CHECK(s_parse("ping 4") == 1 && s_command->kind == CMD_PING && s_command->id == 4);
    CHECK(s_parse("pingall") == 1 && s_command->kind == CMD_PINGALL);
    CHECK(s_parse("heartbeat 500") == 1 && s_command->kind == CMD_HEARTBEAT &&
          s_command->interval_ms == 500);
    CHECK(s_parse("heartbeat 0") == 1 && s_command->interval_ms == 0);
    CHECK(s_parse("tree") == 1 && s_command->kind == CMD_TREE && !s_command->has_id);
    CHECK(s_parse("tree -5") == 1 && s_command->has_id && s_command->id == -5);
    CHECK(s_parse("help exec") == 1 && s_command->kind == CMD_HELP &&
          s_command->args_length == 4 && !memcmp(s_command->args, "exec", 4));
    CHECK(s_parse("help") == 1 && s_command->kind == CMD_HELP);
    CHECK(s_parse("exit") == 1 && s_command->kind == CMD_EXIT);
    CHECK(s_parse("quit") == 1 && s_command->kind == CMD_EXIT);
    CHECK(s_parse("exec 10 sum 3 1 2 3") == 1 && s_exec_is(10, "sum", "3 1 2 3"));
    CHECK(s_parse("exec 10 find abracadabra abra") == 1 &&
          s_exec_is(10, "find", "abracadabra abra"));
    CHECK(s_parse("exec 10 set MyVar 5") == 1 && s_exec_is(10, "set", "MyVar 5"));
    CHECK(s_parse("exec 10 get MyVar  ") == 1 && s_exec_is(10, "get", "MyVar"));
    CHECK(s_parse("exec 10 timer start") == 1 && s_exec_is(10, "timer", "start"));
    CHECK(s_parse("exec 10 sleep 500") == 1 && s_exec_is(10, "sleep", "500"));
    CHECK(s_parse("exec -5 ping") == 1 && s_exec_is(-5, "ping", ""));
}

static void s_blank(void)
{
    CHECK(s_parse("") == 0 && !s_command && !s_error);
    CHECK(s_parse("   \t ") == 0);
    CHECK(s_parse("# create 1") == 0);
    CHECK(s_parse("   #comment") == 0);
}

static void s_bare_syntaxes(void)
{
    CHECK(s_parse_with("exec 10 3 1 2 3", EXEC_SUM) == 1 &&
          s_exec_is(10, "sum", "3 1 2 3"));
    CHECK(s_parse_with("exec 10 abracadabra abra", EXEC_FIND) == 1 &&
          s_exec_is(10, "find", "abracadabra abra"));
    CHECK(s_parse_with("exec 10 MyVar 5", EXEC_DICT) == 1 &&
          s_exec_is(10, "set", "MyVar 5"));
    CHECK(s_parse_with("exec 10 MyVar", EXEC_DICT) == 1 && s_exec_is(10, "get", "MyVar"));
    CHECK(s_parse_with("exec 10 MyVar 5 6", EXEC_DICT) == -1);
    CHECK_STR(s_error, "Error:10: Usage: exec id name [value]");
    CHECK(s_parse_with("exec 12 time", EXEC_TIMER) == 1 &&
          s_exec_is(12, "timer", "time"));
    CHECK(s_parse_with("exec 12", EXEC_TIMER) == -1);
    CHECK_STR(s_error, "Error:12: Usage: exec id start|stop|time");
    exec_syntax_t syntax;
    CHECK(parser_exec_syntax("dict", &syntax) == 0 && syntax == EXEC_DICT);
    CHECK(parser_exec_syntax("mul", &syntax) == -1);
}

static void s_garbage(void)
{
    s_expect_error("create", "Error: Usage: create id [parent] [@host]");
    s_expect_error("create x", "Error: Invalid id 'x'");
    s_expect_error("create 1 x", "Error: Invalid id 'x'");
    s_expect_error("create 1 2 3", "Error: Usage: create id [parent] [@host]");
    s_expect_error("create -1", "Error: Invalid id '-1' (-1 is the controller)");
    s_expect_error("create 2147483648", "Error: Invalid id '2147483648'");
    s_expect_error("create -0", "Error: Invalid id '-0'");
    s_expect_error("create 1e3", "Error: Invalid id '1e3'");
    s_expect_error("remove", "Error: Usage: remove id");
    s_expect_error("remove 1 2", "Error: Usage: remove id");
    s_expect_error("ping", "Error: Usage: ping id");
    s_expect_error("pingall 1", "Error: Usage: pingall");
    s_expect_error("heartbeat", "Error: Usage: heartbeat ms");
    s_expect_error("heartbeat -5", "Error: Invalid interval '-5' (0 to 2147483647 ms)");
    s_expect_error("heartbeat 99999999999",
                   "Error: Invalid interval '99999999999' (0 to 2147483647 ms)");
    s_expect_error("heartbeat 5 6", "Error: Usage: heartbeat ms");
    //  Below the measured floor: refused, whatever the words after it.
    char floor_error[64], floor_line[32];
    snprintf(floor_error, sizeof floor_error,
             "Error: heartbeat must be 0 or at least %d ms", HEARTBEAT_MIN_MS);
    s_expect_error("heartbeat 1", floor_error);
    snprintf(floor_line, sizeof floor_line, "heartbeat %d", HEARTBEAT_MIN_MS - 1);
    s_expect_error(floor_line, floor_error);
    snprintf(floor_line, sizeof floor_line, "heartbeat %d", HEARTBEAT_MIN_MS);
    CHECK(s_parse(floor_line) == 1 && s_command->interval_ms == HEARTBEAT_MIN_MS);
    CHECK(s_parse("heartbeat 2147483647") == 1 && s_command->interval_ms == INT32_MAX);
    s_expect_error("exec", "Error: Usage: exec id op [args...]");
    s_expect_error("exec 10", "Error:10: Usage: exec id op [args...]");
    s_expect_error("exec x sum 1 1", "Error: Invalid id 'x'");
    //  An op of any length goes to the nodes, which say whether they have it.
    CHECK(s_parse("exec 10 averyveryverylongopname x") == 1 &&
          s_exec_is(10, "averyveryverylongopname", "x"));
    s_expect_error("tree 1 2", "Error: Usage: tree [--endpoints] [id]");
    s_expect_error("tree x", "Error: Invalid id 'x'");
    s_expect_error("exit now", "Error: Usage: exit");
    s_expect_error("CREATE 1", "Error: Unknown command 'CREATE' (try help)");
    s_expect_error("frobnicate", "Error: Unknown command 'frobnicate' (try help)");
    //  A long word is cut in the message.
    char long_line[2000];
    memset(long_line, 'z', sizeof long_line - 1);
    long_line[sizeof long_line - 1] = '\0';
    CHECK(s_parse(long_line) == -1 && strlen(s_error) < 100);
    //  A NUL inside the line.
    CHECK(s_parse_bytes("ping 1\0x", 8, EXEC_ANY) == -1);
    CHECK_STR(s_error, "Error: The line contains a NUL byte");
    //  ... but a comment is ignored, NUL or not: a script's replies stay one a line.
    CHECK(s_parse_bytes(" #ping\0x", 8, EXEC_ANY) == 0 && !s_error);
}

//  Sets where exec and ping take an id; --reduce at the end of a set's exec only.
static void s_sets(void)
{
    CHECK(s_parse("exec 1-3,9 get x") == 1 && s_command->set && s_exec_is(0, "get", "x"));
    CHECK(nodeset_count(s_command->set->ids) == 4 && !s_command->set->all);
    CHECK_STR(s_command->set_word, "1-3,9");
    CHECK(s_command->reduce == REDUCE_NONE);
    CHECK(s_parse("exec all sum 2 1 1 --reduce sum") == 1 && s_command->set->all &&
          s_exec_is(0, "sum", "2 1 1") && s_command->reduce == REDUCE_SUM);
    CHECK(s_parse("exec 3/ get x  --reduce   count  ") == 1 &&
          nodeset_contains(s_command->set->subtrees, 3) && s_exec_is(0, "get", "x") &&
          s_command->reduce == REDUCE_COUNT);
    CHECK(s_parse("exec 2,4 find --reduce max") == 1 && s_exec_is(0, "find", "") &&
          s_command->reduce == REDUCE_MAX);
    //  A single id keeps --reduce as argument text, as before sets.
    CHECK(s_parse("exec 2 find a --reduce") == 1 && !s_command->set &&
          s_exec_is(2, "find", "a --reduce"));
    CHECK(s_parse("ping 1-5") == 1 && s_command->kind == CMD_PING && s_command->set);
    CHECK(s_parse("ping all") == 1 && s_command->set->all);
    CHECK(s_parse("stats") == 1 && s_command->kind == CMD_STATS);
    CHECK(s_parse_with("exec 1-2 3 1 2 3", EXEC_SUM) == 1 && s_exec_is(0, "sum", "3 1 2 3"));
    s_expect_error("exec 1-3 get x --reduce", "Error: Usage: --reduce sum|min|max|count");
    s_expect_error("exec 1-3 get x --reduce avg",
                   "Error: Unknown reduction 'avg' (sum, min, max or count)");
    s_expect_error("exec 3-1 get x", "Error: Invalid node set '3-1': a range must go up");
    s_expect_error("exec 1-3", "Error: Usage: exec id op [args...]");
    s_expect_error("ping 1,,2", "Error: Invalid node set '1,,2': an empty item");
    s_expect_error("ping all 3", "Error: Usage: ping id");
    s_expect_error("stats 1", "Error: Usage: stats");
}

int main(void)
{
    s_valid();
    s_sets();
    s_blank();
    s_bare_syntaxes();
    s_garbage();
    command_destroy(&s_command);
    free(s_error);
    return check_report("parser");
}
