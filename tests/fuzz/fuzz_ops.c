/*  Fuzz target: the op table with any op name and argument text (sleep left out: it
    only waits). The first byte is the op name's length. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../worker/ops.h"
#include "fuzz.h"

static ops_t *s_ops;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_ops)
        s_ops = ops_new(); //  state carries over between inputs, as on a node
    if (size < 1)
        return 0;
    size_t name_length = data[0] % 8;
    if (1 + name_length > size)
        return 0;
    char op[16];
    memcpy(op, data + 1, name_length);
    op[name_length] = '\0';
    if (strcmp(op, "sleep") == 0)
        return 0;
    const char *args = (const char *)data + 1 + name_length;
    size_t length = size - 1 - name_length;
    char *result = NULL;
    int rc = ops_run(s_ops, op, args, length, &result, NULL);
    FUZZ_ASSERT(rc == 0 || rc == -1);
    FUZZ_ASSERT(result != NULL);
    FUZZ_ASSERT(rc == 0 || strlen(result) < 200);
    free(result);
    return 0;
}
