/*  fuzz — the one entry point every fuzz target defines (libFuzzer's), so the same
    target runs under libFuzzer (scripts/fuzz) and, on its corpus and every input that
    once crashed it, as a plain ctest regression test (fuzz_replay.c). */
#ifndef MQTREE_FUZZ_H
#define MQTREE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

//  Aborts with a message when an invariant does not hold: libFuzzer keeps the input.
#define FUZZ_ASSERT(condition)                                                           \
    do {                                                                                 \
        if (!(condition)) {                                                              \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,         \
                    #condition);                                                         \
            abort();                                                                     \
        }                                                                                \
    } while (0)

#endif
