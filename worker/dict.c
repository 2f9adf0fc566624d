/*  dict — a node's integer dictionary (see dict.h): owns the chained table, its
    growth by size only, and the keyed hash of the names users choose. */
#include "dict.h"

#include <stdlib.h>
#include <string.h>

#include "../common/strhash.h"
#include "../common/mem.h"

typedef struct _entry_t entry_t;
struct _entry_t {
    entry_t *next;
    size_t hash;
    int64_t value;
    char name[]; //  NUL-terminated
};

struct _dict_t {
    entry_t **buckets;
    size_t bucket_count; //  a power of two
    size_t size;
};

#define INITIAL_BUCKETS 16

dict_t *dict_new(void)
{
    dict_t *self = (dict_t *)mem_calloc(1, sizeof(dict_t));
    self->bucket_count = INITIAL_BUCKETS;
    self->buckets = (entry_t **)mem_calloc(self->bucket_count, sizeof(entry_t *));
    return self;
}

void dict_destroy(dict_t **self_p)
{
    dict_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->bucket_count; index++)
        for (entry_t *entry = self->buckets[index], *next; entry; entry = next) {
            next = entry->next;
            free(entry);
        }
    free(self->buckets);
    free(self);
    *self_p = NULL;
}

static entry_t *s_find(dict_t *self, const char *name, size_t hash)
{
    for (entry_t *entry = self->buckets[hash & (self->bucket_count - 1)]; entry;
         entry = entry->next)
        if (entry->hash == hash && strcmp(entry->name, name) == 0)
            return entry;
    return NULL;
}

int64_t *dict_find(dict_t *self, const char *name)
{
    entry_t *entry = s_find(self, name, strhash(name));
    return entry ? &entry->value : NULL;
}

//  Doubles the buckets when there are more names than buckets: chains stay short
//  on average, and the table never outgrows the names it holds.
static void s_grow(dict_t *self)
{
    size_t count = self->bucket_count * 2;
    entry_t **buckets = (entry_t **)mem_calloc(count, sizeof(entry_t *));
    for (size_t index = 0; index < self->bucket_count; index++)
        for (entry_t *entry = self->buckets[index], *next; entry; entry = next) {
            next = entry->next;
            entry->next = buckets[entry->hash & (count - 1)];
            buckets[entry->hash & (count - 1)] = entry;
        }
    free(self->buckets);
    self->buckets = buckets;
    self->bucket_count = count;
}

void dict_set(dict_t *self, const char *name, int64_t value)
{
    size_t hash = strhash(name);
    entry_t *entry = s_find(self, name, hash);
    if (entry) {
        entry->value = value;
        return;
    }
    size_t length = strlen(name);
    entry = (entry_t *)mem_alloc(sizeof(entry_t) + length + 1);
    memcpy(entry->name, name, length + 1);
    entry->hash = hash;
    entry->value = value;
    entry->next = self->buckets[hash & (self->bucket_count - 1)];
    self->buckets[hash & (self->bucket_count - 1)] = entry;
    if (++self->size > self->bucket_count)
        s_grow(self);
}

size_t dict_size(dict_t *self)
{
    return self->size;
}
