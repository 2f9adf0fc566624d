/*  idmap — integer-keyed zhashx (see idmap.h): owns the key folding and the hasher
    and comparator that let a zhashx take an integer for a key without formatting it. */
#include "idmap.h"

static size_t s_hash(const void *key)
{
    //  Fibonacci hashing spreads consecutive ids over the table.
    return (size_t)(((uint64_t)(uintptr_t)key * 11400714819323198485ULL) >> 16);
}

static int s_compare(const void *a, const void *b)
{
    return (uintptr_t)a < (uintptr_t)b ? -1 : (uintptr_t)a > (uintptr_t)b;
}

static void *s_keep(const void *key)
{
    return (void *)key;
}

static void s_no_free(void **key)
{
    (void)key;
}

zhashx_t *idmap_new(void)
{
    zhashx_t *map = zhashx_new();
    zhashx_set_key_hasher(map, s_hash);
    zhashx_set_key_comparator(map, s_compare);
    zhashx_set_key_duplicator(map, s_keep);
    zhashx_set_key_destructor(map, s_no_free);
    return map;
}
