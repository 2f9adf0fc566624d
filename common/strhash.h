/*  strhash — a keyed hash for strings that users choose (dictionary names), for
    zhashx_set_key_hasher. czmq's default string hash is trivially collidable, and
    zhashx grows its table on every lookup that walks a long chain: names with one
    hash made a node's table ask for 8 GB (found by the ops fuzzer). SipHash-2-4 with
    a random key per process cannot be steered into collisions. */
#ifndef MQTREE_STRHASH_H
#define MQTREE_STRHASH_H

#include <stddef.h>

//  SipHash-2-4 of the NUL-terminated string key, under this process's random key.
size_t strhash(const void *key);
//  The same of length bytes, which may hold NULs.
size_t strhash_bytes(const void *bytes, size_t length);

#endif
