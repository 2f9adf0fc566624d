/*  Fuzz target: folds and node sets. The input, read as a fold's wire form: what
    decodes encodes back to the very bytes, merges into an empty fold of its reduction
    as itself, and cannot be merged twice (every id would be claimed twice). Read as
    a node set typed by a user: what parses formats to a set that parses back to
    the same ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/nodeset.h"
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
