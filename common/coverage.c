/*  coverage — writing gcov counts from a process that never calls exit() (see
    coverage.h). Compiled only with -DMQTREE_COVERAGE=ON. */
#include "coverage.h"

//  libgcov's interface (gcov-io.h is not installed): GCC's documented way for a
//  program to write its counts before it ends abnormally.
extern void __gcov_dump(void);
extern void __gcov_reset(void);

void coverage_flush(void)
{
    __gcov_dump();
    __gcov_reset();
}
