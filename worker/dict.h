/*  dict — a node's integer dictionary (set/get): a chained hash table of its own that
    grows only with its size. czmq's zhashx also grows on every lookup that walks a
    chain longer than its limit, which with a million names asked for an 8 GB table
    (found by the ops fuzzer). Names are hashed with SipHash under a random key, so
    users cannot make them collide either. */
#ifndef MQTREE_DICT_H
#define MQTREE_DICT_H

#include <stddef.h>
#include <stdint.h>

typedef struct _dict_t dict_t;

dict_t *dict_new(void);
void dict_destroy(dict_t **self_p);

//  The value stored under name, or NULL.
int64_t *dict_find(dict_t *self, const char *name);

//  Stores value under name (a copy of name is kept).
void dict_set(dict_t *self, const char *name, int64_t value);

size_t dict_size(dict_t *self);

#endif
