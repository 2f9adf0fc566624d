/*  Fuzz target: folds and node sets. The input, read as a fold's wire form: what
    decodes encodes back to the very bytes, merges into an empty fold of its reduction
    as itself, and cannot be merged twice (every id would be claimed twice); merged
    into a fold with a limit, it keeps every id, and the texts within the limit (the
    rest counted as too large). Read as a node set typed by a user: what parses
    formats to a set that parses back to the same ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/nodeset.h"
#include "../../common/wire.h"
#include "../../node/fold.h"
#include "fuzz.h"

static bool s_same(const fold_t *fold, const uint8_t *data, size_t size)
{
    size_t again_size;
    uint8_t *again = fold_encode(fold, &again_size);
    bool same = again_size == size && memcmp(again, data, size) == 0;
    free(again);
    return same;
}

//  Merged into a fold whose limit is half the input: the same ids, texts within it.
static void s_limited(const fold_t *fold, size_t limit)
{
    fold_t *limited = fold_new(fold_reduction(fold));
    fold_limit(limited, limit);
    FUZZ_ASSERT(fold_merge(limited, fold));
    FUZZ_ASSERT(nodeset_count(fold_ids(limited)) == nodeset_count(fold_ids(fold)));
    size_t count = fold_size(limited), texts = 0;
    fold_group_t *groups = (fold_group_t *)calloc(count + 1, sizeof *groups);
    fold_groups(limited, groups);
    for (size_t index = 0; index < count; index++)
        if (groups[index].status != WIRE_ERROR ||
            groups[index].size != strlen(FOLD_TOO_LARGE) ||
            memcmp(groups[index].text, FOLD_TOO_LARGE, groups[index].size))
            texts += groups[index].size;
    FUZZ_ASSERT(texts <= limit);
    free(groups);
    fold_destroy(&limited);
}

static void s_fold(const uint8_t *data, size_t size)
{
    const char *reason = NULL;
    fold_t *fold = fold_decode(data, size, &reason);
    FUZZ_ASSERT((fold == NULL) == (reason != NULL));
    if (!fold)
        return;
    FUZZ_ASSERT(s_same(fold, data, size));
    //  A fold's reduction is its first byte.
    fold_t *merged = fold_new((reduce_t)data[0]);
    FUZZ_ASSERT(fold_merge(merged, fold));
    FUZZ_ASSERT(s_same(merged, data, size));
    FUZZ_ASSERT(nodeset_empty(fold_ids(fold)) || !fold_merge(merged, fold));
    fold_destroy(&merged);
    s_limited(fold, size / 2 + 1);
    fold_destroy(&fold);
}

static void s_nodeset(const uint8_t *data, size_t size)
{
    nodeset_spec_t spec;
    const char *reason = NULL;
    if (nodeset_parse((const char *)data, size, &spec, &reason) == 0) {
        char *text = nodeset_format(spec.ids);
        nodeset_spec_t again;
        if (*text) {
            FUZZ_ASSERT(nodeset_parse(text, strlen(text), &again, &reason) == 0);
            char *back = nodeset_format(again.ids);
            FUZZ_ASSERT(strcmp(back, text) == 0);
            free(back);
            nodeset_spec_release(&again);
        }
        free(text);
    } else
        FUZZ_ASSERT(reason != NULL);
    nodeset_spec_release(&spec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_fold(data, size);
    s_nodeset(data, size);
    return 0;
}
