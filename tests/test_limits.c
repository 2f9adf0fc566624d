/*  Unit test: the budgets computed from the kernel's limits (common/limits.c). */
#include "../common/limits.h"
#include "check.h"

#include <stdint.h>
#include <sys/resource.h>

static void s_children(void)
{
    //  One descriptor per child, after the reserve for the node's own.
    CHECK(limits_children_max(1024) == 1024 - LIMITS_FD_RESERVE);
    CHECK(limits_children_max(128) == 80);
    CHECK(limits_children_max(64) == 16);
    CHECK(limits_children_max(LIMITS_FD_RESERVE) == 0);
    CHECK(limits_children_max(3) == 0);
}

static void s_nodes(void)
{
    //  The smallest task budget, four threads a node, one node's worth kept for
    //  the controller; 0 means not known or unlimited.
    CHECK(limits_nodes_max_of(32768, 192725, 0) == 8191);
    CHECK(limits_nodes_max_of(32768, 192725, 164) == 40);
    CHECK(limits_nodes_max_of(4194304, 1000, 0) == 249);
    CHECK(limits_nodes_max_of(0, 0, 0) == 8191);
    CHECK(limits_nodes_max_of(32768, 0, 4) == 0);
    CHECK(limits_nodes_max() > 0);
}

static void s_raise(void)
{
    //  The soft limit goes up to the hard one, never above it.
    struct rlimit before;
    CHECK(getrlimit(RLIMIT_NOFILE, &before) == 0);
    struct rlimit lowered = {before.rlim_cur > 64 ? 64 : before.rlim_cur,
                             before.rlim_max};
    CHECK(setrlimit(RLIMIT_NOFILE, &lowered) == 0);
    size_t fds = limits_raise_fds();
    struct rlimit after;
    CHECK(getrlimit(RLIMIT_NOFILE, &after) == 0);
    CHECK(after.rlim_max == before.rlim_max);
    CHECK(fds == (size_t)after.rlim_cur);
    if (before.rlim_max != RLIM_INFINITY)
        CHECK(after.rlim_cur == before.rlim_max);
    CHECK(limits_sockets_max(64) == 64);
    CHECK(limits_sockets_max(1 << 20) == LIMITS_SOCKETS_MAX);
}

int main(void)
{
    s_children();
    s_nodes();
    s_raise();
    return check_report("limits");
}
