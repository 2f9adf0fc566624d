/*  Fuzz target: the shell's command parser, every --exec syntax. The first byte picks
    the syntax; the rest is one line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../controller/parser.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    exec_syntax_t syntax = (exec_syntax_t)(data[0] % 5);
    size_t length = size - 1;
    char *line = (char *)malloc(length + 1);
    memcpy(line, data + 1, length);
    line[length] = '\0';
    command_t *command = NULL;
    //  The parser takes the line (and frees it on an error): what is checked of it
    //  then is read now.
    size_t blanks = strspn(line, " \t");
    bool exec_line = length - blanks >= 5 && memcmp(line + blanks, "exec", 4) == 0 &&
                     (line[blanks + 4] == ' ' || line[blanks + 4] == '\t');
    parse_error_t error;
    int rc = parser_parse(line, length, syntax, &command, &error);
    FUZZ_ASSERT(rc >= -1 && rc <= 1);
    if (rc == 1) {
        FUZZ_ASSERT(command && !error.why);
        FUZZ_ASSERT(command->kind >= CMD_CREATE && command->kind <= CMD_STATS);
        //  A set instead of an id: exec and ping only, as typed, with a known reduction
        //  (exec only).
        if (command->set) {
            FUZZ_ASSERT(command->kind == CMD_EXEC || command->kind == CMD_PING);
            FUZZ_ASSERT(command->set_word && strstr(line, command->set_word));
            FUZZ_ASSERT(command->set->all || !nodeset_empty(command->set->ids) ||
                        !nodeset_empty(command->set->subtrees));
        }
        FUZZ_ASSERT(command->reduce < REDUCE_KINDS);
        FUZZ_ASSERT(command->kind == CMD_EXEC || command->reduce == REDUCE_NONE);
        if (command->kind == CMD_EXEC) {
            //  One word: no blank, no NUL; the line's own or a bare form's name.
            FUZZ_ASSERT(command->op_length > 0);
            FUZZ_ASSERT(!memchr(command->op, ' ', command->op_length) &&
                        !memchr(command->op, '\t', command->op_length) &&
                        !memchr(command->op, '\0', command->op_length));
            FUZZ_ASSERT(command->args >= command->line);
            FUZZ_ASSERT(command->args + command->args_length <= command->line + length);
        }
        if (command->kind == CMD_CREATE)
            FUZZ_ASSERT(command->id != -1);
        if (command->kind == CMD_HEARTBEAT)
            FUZZ_ASSERT(command->interval_ms >= 0 && command->interval_ms <= INT32_MAX);
    } else if (rc == -1) {
        FUZZ_ASSERT(!command && error.why && *error.why);
        //  One line, short, and saying what went wrong: an echoed word is cut to 40
        //  bytes, each of which may be escaped into 4 characters (\xNN).
        FUZZ_ASSERT(strlen(error.why) < 4 * 40 + 100);
        FUZZ_ASSERT(!strchr(error.why, '\n'));
        //  A node named only by an exec whose id parsed.
        FUZZ_ASSERT(!error.names_node || exec_line);
    } else
        FUZZ_ASSERT(!command && !error.why);
    command_destroy(&command);
    parse_error_clear(&error);
    return 0;
}
