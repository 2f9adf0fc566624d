/*  samples — the clock and the percentiles both bench programs report with. */
#ifndef MQTREE_BENCH_SAMPLES_H
#define MQTREE_BENCH_SAMPLES_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline int64_t samples_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int samples_compare(const void *a, const void *b)
{
    int64_t left = *(const int64_t *)a, right = *(const int64_t *)b;
    return (left > right) - (left < right);
}

//  Prints "<name>_p50_us N" and "<name>_p99_us N"; sorts samples.
static inline void samples_report(const char *name, int64_t *samples, size_t count)
{
    qsort(samples, count, sizeof(int64_t), samples_compare);
    printf("%s_p50_us %" PRId64 "\n", name, samples[count / 2]);
    printf("%s_p99_us %" PRId64 "\n", name, samples[count * 99 / 100]);
}

#endif
