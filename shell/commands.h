/*  commands — the shell's command reference: one table that the `help` list, `help
    COMMAND` and the manual's COMMANDS section (mqtree --help=roff) are all made from.
    Adding a command (or an op) is a row here, next to its parser code. */
#ifndef MQTREE_COMMANDS_H
#define MQTREE_COMMANDS_H

#include <stddef.h>
#include <stdio.h>

//  The `help` list (topic empty), or every row of topic (a command's name or other
//  word: "exec", "kill", "run", "sets"): a fresh string the caller frees. NULL if no
//  row has that name.
char *commands_help(const char *topic, size_t length);

//  The manual's COMMANDS section in mdoc, from its .Sh line on.
void commands_roff(FILE *out);

#endif
