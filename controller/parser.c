/*  parser — the shell's command language (see parser.h): owns the words of every
    command, their usage errors, and the command_t each line becomes. */
#define _GNU_SOURCE
#include "parser.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "../common/numbers.h"
#include "../common/process.h"
#include "../common/text.h"
#include "heartbeat.h"
#include "topology.h"
#include "../common/mem.h"

//  Words are echoed in errors, cut so that 1 MB of garbage makes a short line.
#define SHOWN 40

typedef struct {
    const char *begin;
    size_t length;
} word_t;

typedef struct {
    const char *cursor;
    const char *end;
} scanner_t;

static bool s_blank(char c)
{
    return c == ' ' || c == '\t';
}

static word_t s_word(scanner_t *scanner)
{
    while (scanner->cursor < scanner->end && s_blank(*scanner->cursor))
        scanner->cursor++;
    const char *begin = scanner->cursor;
    while (scanner->cursor < scanner->end && !s_blank(*scanner->cursor))
        scanner->cursor++;
    return (word_t){begin, (size_t)(scanner->cursor - begin)};
}

//  The rest of the line after the blanks that follow the last word read.
static word_t s_rest(scanner_t *scanner)
{
    while (scanner->cursor < scanner->end && s_blank(*scanner->cursor))
        scanner->cursor++;
    const char *end = scanner->end;
    while (end > scanner->cursor && s_blank(end[-1]))
        end--;
    return (word_t){scanner->cursor, (size_t)(end - scanner->cursor)};
}

static bool s_is(word_t word, const char *text)
{
    return word.length == strlen(text) && memcmp(word.begin, text, word.length) == 0;
}

static int s_fail(parse_error_t *error, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

//  Error texts echo the user's words: escaped (text.h), so that a control byte in a
//  word cannot break the reply's line or reach the terminal. The formats themselves
//  hold none, nor a backslash: escaping the whole text escapes just the words.
static int s_fail(parse_error_t *error, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *raw = process_vformat(format, args);
    va_end(args);
    free(error->why);
    error->why = text_escape(raw, strlen(raw));
    free(raw);
    return -1;
}

//  An exec's arguments do not fit its usage: the reply names its node, if it names
//  one (not a set).
static int s_exec_usage(parse_error_t *error, const command_t *command, const char *usage)
{
    if (!command->set) {
        error->id = command->id;
        error->names_node = true;
    }
    return s_fail(error, "Usage: %s", usage);
}

void parse_error_clear(parse_error_t *self)
{
    free(self->why);
    *self = (parse_error_t){0};
}

static int s_id(word_t word, int32_t *id, parse_error_t *error)
{
    char text[16];
    if (word.length > 0 && word.length < sizeof text) {
        memcpy(text, word.begin, word.length);
        text[word.length] = '\0';
        if (id_parse(text, id) == 0)
            return 0;
    }
    return s_fail(error, "Invalid id '%.*s'", (int)MIN(word.length, SHOWN),
                  word.begin);
}

static int s_no_more(scanner_t *scanner, const char *usage, parse_error_t *error)
{
    if (s_word(scanner).length)
        return s_fail(error, "Usage: %s", usage);
    return 0;
}

bool parser_host_valid(const char *host, size_t length)
{
    //  A host name or address, maybe user@host: it goes into the launcher's command
    //  line, so no word of it may look like an option or mean anything to a shell.
    if (length == 0 || length > COMMAND_HOST_MAX || host[0] == '-')
        return false;
    for (size_t i = 0; i < length; i++)
        if (!isalnum((unsigned char)host[i]) && !strchr("._:@%-[]", host[i]))
            return false;
    return true;
}

//  "@host" as the last word of a create: where its node runs.
static int s_host(word_t word, command_t *command, parse_error_t *error)
{
    if (!parser_host_valid(word.begin + 1, word.length - 1))
        return s_fail(error, "Invalid host '%.*s'", (int)MIN(word.length, SHOWN),
                      word.begin);
    memcpy(command->host, word.begin + 1, word.length - 1);
    command->host[word.length - 1] = '\0';
    return 0;
}

static int s_create(scanner_t *scanner, command_t *command, parse_error_t *error)
{
    const char *usage = "create id [parent] [@host]";
    word_t id = s_word(scanner);
    if (!id.length)
        return s_fail(error, "Usage: %s", usage);
    if (s_id(id, &command->id, error))
        return -1;
    if (command->id == TOPOLOGY_ROOT)
        return s_fail(error, "Invalid id '-1' (-1 is the controller)");
    command->parent = TOPOLOGY_ROOT;
    word_t next = s_word(scanner);
    if (next.length && next.begin[0] != '@') {
        if (s_id(next, &command->parent, error))
            return -1;
        command->has_parent = true;
        next = s_word(scanner);
    }
    if (next.length && next.begin[0] == '@' && s_host(next, command, error))
        return -1;
    if (next.length && next.begin[0] != '@')
        return s_fail(error, "Usage: %s", usage);
    return s_no_more(scanner, usage, error);
}

static int s_one_id(scanner_t *scanner, command_t *command, const char *usage,
                    parse_error_t *error)
{
    word_t id = s_word(scanner);
    if (!id.length)
        return s_fail(error, "Usage: %s", usage);
    if (s_id(id, &command->id, error))
        return -1;
    return s_no_more(scanner, usage, error);
}

static void s_set_op(command_t *command, const char *op, size_t length, word_t args)
{
    command->op = op;
    command->op_length = length;
    command->args = args.begin;
    command->args_length = args.length;
}

//  An op of a bare form, named by the parser.
static void s_set_bare(command_t *command, const char *name, word_t args)
{
    s_set_op(command, name, strlen(name), args);
}

//  A node set where a command takes an id (nodeset.h), parsed into command->set.
static int s_set(word_t word, command_t *command, parse_error_t *error)
{
    command->set = (nodeset_spec_t *)zmalloc(sizeof(nodeset_spec_t));
    command->set_word = mem_strndup(word.begin, word.length);
    const char *reason;
    if (nodeset_parse(word.begin, word.length, command->set, &reason) != 0)
        return s_fail(error, "Invalid node set '%.*s': %s",
                      (int)MIN(word.length, SHOWN), word.begin, reason);
    return 0;
}

//  The words a set's exec may end with: "--reduce sum|min|max|count", taken off
//  the end of what the scanner has left.
static int s_reduce(scanner_t *scanner, command_t *command, parse_error_t *error)
{
    const char *end = scanner->end;
    while (end > scanner->cursor && s_blank(end[-1]))
        end--;
    const char *kind = end;
    while (kind > scanner->cursor && !s_blank(kind[-1]))
        kind--;
    const char *option = kind;
    while (option > scanner->cursor && s_blank(option[-1]))
        option--;
    const char *option_end = option;
    while (option > scanner->cursor && !s_blank(option[-1]))
        option--;
    word_t flag = {option, (size_t)(option_end - option)};
    word_t value = {kind, (size_t)(end - kind)};
    if (s_is(value, "--reduce"))
        return s_fail(error, "Usage: --reduce sum|min|max|count");
    if (!s_is(flag, "--reduce"))
        return 0;
    reduce_t reduce = fold_reduce_named(value.begin, value.length);
    if (reduce != REDUCE_NONE) {
        command->reduce = (uint8_t)reduce;
        scanner->end = option;
        return 0;
    }
    return s_fail(error, "Unknown reduction '%.*s' (sum, min, max or count)",
                  (int)MIN(value.length, SHOWN), value.begin);
}

static int s_exec(scanner_t *scanner, exec_syntax_t syntax, command_t *command,
                  parse_error_t *error)
{
    static const char *usages[] = {
        [EXEC_ANY] = "exec id op [args...]",      [EXEC_SUM] = "exec id n k1 ... kn",
        [EXEC_FIND] = "exec id text pattern",     [EXEC_DICT] = "exec id name [value]",
        [EXEC_TIMER] = "exec id start|stop|time",
    };
    word_t id = s_word(scanner);
    if (!id.length)
        return s_fail(error, "Usage: %s", usages[syntax]);
    //  Errors name the node ("Error:10: ..."), or for a set name none.
    if (nodeset_is_set(id.begin, id.length)) {
        if (s_set(id, command, error) || s_reduce(scanner, command, error))
            return -1;
    } else if (s_id(id, &command->id, error))
        return -1;
    if (syntax == EXEC_ANY) {
        word_t op = s_word(scanner);
        if (!op.length)
            return s_exec_usage(error, command, usages[syntax]);
        //  Which ops there are is the nodes' to say, for every node it names.
        s_set_op(command, op.begin, op.length, s_rest(scanner));
        return 0;
    }
    word_t rest = s_rest(scanner);
    if (!rest.length)
        return s_exec_usage(error, command, usages[syntax]);
    if (syntax == EXEC_SUM)
        s_set_bare(command, "sum", rest);
    else if (syntax == EXEC_FIND)
        s_set_bare(command, "find", rest);
    else if (syntax == EXEC_TIMER)
        s_set_bare(command, "timer", rest);
    else {
        //  The dict form has no op word: one word reads, two words write.
        scanner_t words = {rest.begin, rest.begin + rest.length};
        s_word(&words);
        bool has_value = s_word(&words).length > 0;
        if (s_word(&words).length)
            return s_exec_usage(error, command, usages[syntax]);
        s_set_bare(command, has_value ? "set" : "get", rest);
    }
    return 0;
}

//  ping id, or ping SET.
static int s_ping(scanner_t *scanner, command_t *command, parse_error_t *error)
{
    word_t id = s_word(scanner);
    if (!id.length)
        return s_fail(error, "Usage: ping id");
    if (nodeset_is_set(id.begin, id.length) ? s_set(id, command, error)
                                            : s_id(id, &command->id, error))
        return -1;
    return s_no_more(scanner, "ping id", error);
}

static int s_heartbeat(scanner_t *scanner, command_t *command, parse_error_t *error)
{
    word_t interval = s_word(scanner);
    if (!interval.length)
        return s_fail(error, "Usage: heartbeat ms");
    bool digits = true;
    for (size_t i = 0; i < interval.length; i++)
        digits &= interval.begin[i] >= '0' && interval.begin[i] <= '9';
    int64_t value;
    if (!digits ||
        int64_parse(interval.begin, interval.begin + interval.length, &value) ||
        value > INT32_MAX)
        return s_fail(error, "Invalid interval '%.*s' (0 to %d ms)",
                      (int)MIN(interval.length, SHOWN), interval.begin, INT32_MAX);
    if (s_no_more(scanner, "heartbeat ms", error))
        return -1;
    //  Shorter intervals only flood the tree and the screen with false losses.
    if (value && value < HEARTBEAT_MIN_MS)
        return s_fail(error, "heartbeat must be 0 or at least %d ms",
                      HEARTBEAT_MIN_MS);
    command->interval_ms = value;
    return 0;
}

int parser_parse(char *line, size_t length, exec_syntax_t syntax, command_t **command,
                 parse_error_t *error)
{
    *command = NULL;
    *error = (parse_error_t){0};
    //  malloc, not zmalloc: glibc's calloc never takes from the per-thread cache, and
    //  a piped script makes one command per line.
    command_t *parsed = (command_t *)mem_alloc(sizeof(command_t));
    *parsed = (command_t){.line = line};
    scanner_t scanner = {line, line + length};
    word_t word = s_word(&scanner);
    int rc = -1;
    if (!word.length || word.begin[0] == '#')
        rc = 0; //  a comment is ignored whatever it holds
    else if (memchr(line, '\0', length))
        s_fail(error, "The line contains a NUL byte");
    else if (s_is(word, "create")) {
        parsed->kind = CMD_CREATE;
        rc = s_create(&scanner, parsed, error) ? -1 : 1;
    } else if (s_is(word, "remove") || s_is(word, "kill")) {
        parsed->kind = CMD_REMOVE;
        rc = s_one_id(&scanner, parsed, "remove id", error) ? -1 : 1;
    } else if (s_is(word, "exec")) {
        parsed->kind = CMD_EXEC;
        rc = s_exec(&scanner, syntax, parsed, error) ? -1 : 1;
    } else if (s_is(word, "ping")) {
        parsed->kind = CMD_PING;
        rc = s_ping(&scanner, parsed, error) ? -1 : 1;
    } else if (s_is(word, "pingall")) {
        parsed->kind = CMD_PINGALL;
        rc = s_no_more(&scanner, "pingall", error) ? -1 : 1;
    } else if (s_is(word, "heartbeat")) {
        parsed->kind = CMD_HEARTBEAT;
        rc = s_heartbeat(&scanner, parsed, error) ? -1 : 1;
    } else if (s_is(word, "tree")) {
        parsed->kind = CMD_TREE;
        word_t id = s_word(&scanner);
        if (s_is(id, "--endpoints")) {
            parsed->endpoints = true;
            id = s_word(&scanner);
        }
        parsed->has_id = id.length > 0;
        if (parsed->has_id && s_id(id, &parsed->id, error))
            rc = -1;
        else
            rc = s_no_more(&scanner, "tree [--endpoints] [id]", error) ? -1 : 1;
    } else if (s_is(word, "help")) {
        //  help [command]: the topic, if any, is left in args.
        parsed->kind = CMD_HELP;
        word_t topic = s_word(&scanner);
        parsed->args = topic.begin;
        parsed->args_length = topic.length;
        rc = s_no_more(&scanner, "help [command]", error) ? -1 : 1;
    } else if (s_is(word, "stats")) {
        parsed->kind = CMD_STATS;
        rc = s_no_more(&scanner, "stats", error) ? -1 : 1;
    } else if (s_is(word, "exit") || s_is(word, "quit")) {
        parsed->kind = CMD_EXIT;
        rc = s_no_more(&scanner, "exit", error) ? -1 : 1;
    } else
        s_fail(error, "Unknown command '%.*s' (try help)",
               (int)MIN(word.length, SHOWN), word.begin);
    if (rc == 1)
        *command = parsed;
    else
        command_destroy(&parsed);
    return rc;
}

void command_destroy(command_t **self_p)
{
    command_t *self = *self_p;
    if (!self)
        return;
    if (self->set) {
        nodeset_spec_release(self->set);
        free(self->set);
    }
    free(self->set_word);
    free(self->line);
    free(self);
    *self_p = NULL;
}

int parser_exec_syntax(const char *name, exec_syntax_t *syntax)
{
    static const char *names[] = {"any", "sum", "find", "dict", "timer"};
    for (int i = 0; i <= EXEC_TIMER; i++)
        if (strcmp(name, names[i]) == 0) {
            *syntax = (exec_syntax_t)i;
            return 0;
        }
    return -1;
}
