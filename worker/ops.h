/*  ops — what `exec` can ask of a node: one table of {name, handler}, and the node's
    local state (its integer dictionary and its timer). No sockets, so the op thread
    runs it and the unit tests call it directly; all is computation but run, which
    starts a program (run.h) when the tree allows it. */
#ifndef MQTREE_OPS_H
#define MQTREE_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _ops_t ops_t;

ops_t *ops_new(void);
void ops_destroy(ops_t **self_p);

//  How many names the dictionary may hold (10^6 unless told).
void ops_set_dictionary_max(ops_t *self, size_t names);

//  The longest result text an op may build (LIMITS_REPLY_MAX unless told; 0 keeps
//  the current cap). A longer one is refused with "Reply too large" and never built
//  whole: find stops at the cap.
void ops_set_reply_max(ops_t *self, size_t bytes);

//  Whether the run op may start programs (--allow-run; off unless told).
void ops_set_run(ops_t *self, bool allowed);

//  The deadline of the request whose op runs next (wire_now_us's clock; 0: none):
//  run's time limit.
void ops_set_deadline(ops_t *self, int64_t deadline_us);

//  Whether the op named op[0..length) changes the node (set, timer, run), rather than
//  only reading it: in a tree-wide command a node's own answer of such an op is sent
//  ahead of its subtree's (fanout.h), since one that took effect must not be lost.
bool ops_changes(const char *op, size_t length);

//  Runs op on the argument text args[0..length) (the rest of the exec line, not
//  NUL-terminated). Sets *result to a freshly allocated text, possibly empty and
//  NUL-terminated, that the caller frees, and *size (if not NULL) to its length: run's
//  output may hold NUL bytes. Returns 0 if the op succeeded, -1 if *result is an
//  error message.
int ops_run(ops_t *self, const char *op, const char *args, size_t length, char **result,
            size_t *size);

#endif
