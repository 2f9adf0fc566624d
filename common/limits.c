/*  limits — fd, process and socket budgets of one mqtree process (see limits.h): owns
    reading the kernel's limits at start, raising what may be raised, and the sums. */
#include "limits.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

#include "numbers.h"

//  A /proc/sys value, or 0 if it cannot be read.
static size_t s_proc_value(const char *path)
{
    FILE *file = fopen(path, "r");
    if (!file)
        return 0;
    unsigned long long value = 0;
    if (fscanf(file, "%llu", &value) != 1)
        value = 0;
    fclose(file);
    return (size_t)value;
}

size_t limits_raise_fds(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return 1024;
    rlim_t wanted = limit.rlim_max;
    //  The kernel refuses a soft limit above fs.nr_open, whatever the hard one says.
    if (wanted == RLIM_INFINITY) {
        size_t nr_open = s_proc_value("/proc/sys/fs/nr_open");
        wanted = nr_open ? (rlim_t)nr_open : limit.rlim_cur;
    }
    if (wanted > limit.rlim_cur) {
        struct rlimit raised = {wanted, limit.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            limit.rlim_cur = wanted;
    }
    return limit.rlim_cur == RLIM_INFINITY ? SIZE_MAX : (size_t)limit.rlim_cur;
}

size_t limits_fds_for(const char *program)
{
    size_t fds = limits_raise_fds();
    if (fds >= LIMITS_FD_MIN)
        return fds;
    fprintf(stderr, "%s: only %zu file descriptors may be open (ulimit -n); %d are needed\n",
            program, fds, LIMITS_FD_MIN);
    return 0;
}

size_t limits_children_max(size_t fds)
{
    return fds > LIMITS_FD_RESERVE ? fds - LIMITS_FD_RESERVE : 0;
}

size_t limits_nodes_max_of(size_t pid_max, size_t threads_max, size_t nproc)
{
    size_t tasks = SIZE_MAX;
    if (pid_max)
        tasks = MIN(tasks, pid_max);
    if (threads_max)
        tasks = MIN(tasks, threads_max);
    if (nproc)
        tasks = MIN(tasks, nproc);
    if (tasks == SIZE_MAX)
        tasks = 32768; //  nothing readable: the kernel's default pid_max
    size_t nodes = tasks / LIMITS_THREADS_PER_NODE;
    return nodes > 1 ? nodes - 1 : 0;
}

size_t limits_nodes_max(void)
{
    struct rlimit nproc;
    size_t nproc_max = 0;
    if (getrlimit(RLIMIT_NPROC, &nproc) == 0 && nproc.rlim_cur != RLIM_INFINITY)
        nproc_max = (size_t)nproc.rlim_cur;
    return limits_nodes_max_of(s_proc_value("/proc/sys/kernel/pid_max"),
                               s_proc_value("/proc/sys/kernel/threads-max"), nproc_max);
}

size_t limits_sockets_max(size_t fds)
{
    return MIN(fds, (size_t)LIMITS_SOCKETS_MAX);
}
