/*  check — the few assertion helpers the unit tests share. A failed check reports
    its place and the test goes on, so one run shows every failure. */
#ifndef MQTREE_CHECK_H
#define MQTREE_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures = 0;
static int check_count = 0;

#define CHECK(condition)                                                                 \
    do {                                                                                 \
        check_count++;                                                                   \
        if (!(condition)) {                                                              \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,             \
                    #condition);                                                         \
        }                                                                                \
    } while (0)

#define CHECK_STR(actual, expected)                                                      \
    do {                                                                                 \
        const char *check_actual = (actual), *check_expected = (expected);               \
        check_count++;                                                                   \
        if (!check_actual || strcmp(check_actual, check_expected) != 0) {                \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: got '%s', expected '%s'\n", __FILE__, __LINE__,      \
                    check_actual ? check_actual : "(null)", check_expected);             \
        }                                                                                \
    } while (0)

static inline int check_report(const char *unit)
{
    printf("%s: %d checks, %d failed\n", unit, check_count, check_failures);
    return check_failures ? 1 : 0;
}

#endif
