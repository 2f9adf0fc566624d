/*  ops — what `exec` can ask of a node: one table of {name, handler}, and the node's
    local state (its integer dictionary and its timer). Pure computation: no sockets,
    so the op thread runs it and the unit tests call it directly. */
#ifndef MQTREE_OPS_H
#define MQTREE_OPS_H

#include <stddef.h>

typedef struct _ops_t ops_t;

ops_t *ops_new(void);
void ops_destroy(ops_t **self_p);

//  How many names the dictionary may hold (10^6 unless told).
void ops_set_dictionary_max(ops_t *self, size_t names);

//  The longest result text an op may build (LIMITS_REPLY_MAX unless told; 0 keeps
//  the current cap). A longer one is refused with "Reply too large" and never built
//  whole: find stops at the cap.
void ops_set_reply_max(ops_t *self, size_t bytes);

//  Runs op on the argument text args[0..length) (the rest of the exec line, not
//  NUL-terminated). Sets *result to a freshly allocated text, possibly empty, that the
//  caller frees. Returns 0 if the op succeeded, -1 if *result is an error message.
int ops_run(ops_t *self, const char *op, const char *args, size_t length, char **result);

#endif
