/*  parser — one line of the shell's command language into a command (README, Commands).
    Syntax only: whether a node exists is the controller's question. */
#ifndef MQTREE_PARSER_H
#define MQTREE_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/nodeset.h"
#include "../node/fold.h"

typedef enum {
    CMD_CREATE = 1,
    CMD_REMOVE,
    CMD_EXEC,
    CMD_PING,
    CMD_PINGALL,
    CMD_HEARTBEAT,
    CMD_TREE,
    CMD_HELP,
    CMD_EXIT,
    CMD_STATS,
    CMD_JOIN,      //  never parsed: a worker joining through --listen (controller.c)
    CMD_BROADCAST, //  never parsed: the request of a pingall or an exec or ping to a set
} command_kind_t;

//  How `exec` is written: with an op word (any), or the bare forms of the lab variants.
typedef enum { EXEC_ANY, EXEC_SUM, EXEC_FIND, EXEC_DICT, EXEC_TIMER } exec_syntax_t;

//  The bare forms' words, in exec_syntax_t's order after any: --exec's table row
//  (which stores the index of the word given) and the shell's help both quote them.
#define EXEC_SYNTAX_BARE "sum|find|dict|timer"

//  The longest host name of create @host.
#define COMMAND_HOST_MAX 255

typedef struct {
    command_kind_t kind;
    int32_t id;     //  create, remove, exec, ping
    nodeset_spec_t *set; //  exec, ping: the nodes a set names, instead of id (NULL: id)
    char *set_word;      //  ... and the set as typed
    uint8_t reduce;      //  exec to a set: --reduce (reduce_t, REDUCE_NONE if not given)
    int32_t parent; //  create: -1 when not given
    bool has_parent;
    bool has_id;             //  tree: a subtree was asked for
    bool endpoints;          //  tree --endpoints
    char host[COMMAND_HOST_MAX + 1]; //  create @host: where it runs ("" : its parent's)
    int64_t interval_ms;     //  heartbeat
    //  exec: the op's name, a word of line or the bare form's (not NUL-terminated:
    //  any length; a node answers an unknown one), then its argument text, pointing
    //  into line (owned by the command), so a line of 10^8 numbers is never copied
    //  or split here. help: the topic, in args.
    const char *op;
    size_t op_length;
    const char *args;
    size_t args_length;
    char *line;
} command_t;

//  Why a line did not parse: the reason, escaped (text.h), as the reply line shows
//  it after "Error: "; for an exec whose id parsed, the node the line names, which
//  the reply line shows too ("Error:10: Usage: ...").
typedef struct {
    char *why;
    int32_t id;
    bool names_node;
} parse_error_t;

//  Parses line[0..length), which must be NUL-terminated at length and is taken over
//  in every case. Returns 1 and sets *command, 0 for a blank or comment line, or -1
//  and fills *error, whose why the caller frees (parse_error_clear).
int parser_parse(char *line, size_t length, exec_syntax_t syntax, command_t **command,
                 parse_error_t *error);

//  Frees the reason and zeroes the error.
void parse_error_clear(parse_error_t *self);

void command_destroy(command_t **self_p);

//  Whether host may name where a node runs (create @host): letters, digits and
//  ._:@%-[] only, not starting with '-', at most COMMAND_HOST_MAX bytes.
bool parser_host_valid(const char *host, size_t length);

//  "any", "sum", "find", "dict", "timer" -> syntax; -1 if unknown.
int parser_exec_syntax(const char *name, exec_syntax_t *syntax);

#endif
