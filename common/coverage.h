/*  coverage — writing gcov counts from a process that never calls exit().

    Only in a coverage build (cmake -DMQTREE_COVERAGE=ON, scripts/coverage): gcov
    writes a process's counts to the .gcda files when it calls exit(). A worker never
    does: it ends by SIGKILL (from its parent, or its parent-death signal) or _exit.
    coverage_flush() merges the counts so far into the .gcda files and starts them
    again from zero; the worker calls it shortly after each time it is woken (not
    while idle), and before _exit.
    In every other build it is nothing. */
#ifndef MQTREE_COVERAGE_H
#define MQTREE_COVERAGE_H

//  How long after being woken a worker writes its counts: what it ran in the last
//  such span before a SIGKILL is lost. A write costs about 30 us (18 files), so a
//  busy worker spends at most 0.2 % of a core on it.
#define COVERAGE_FLUSH_MS 20

#ifdef MQTREE_COVERAGE
void coverage_flush(void);
#else
static inline void coverage_flush(void)
{
}
#endif

#endif
