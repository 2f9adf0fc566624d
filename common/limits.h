/*  limits — what one mqtree process can hold, computed once at start from the
    kernel's limits, so that what does not fit is refused with an error reply
    instead of ending in an abort inside libzmq.

    The cause this guards against: libzmq 4.3 asserts (aborts the process) when
    accept() on an ipc endpoint finds no file descriptor left, so a node with one
    child too many died, and took its whole subtree with it. Each child costs its
    parent exactly one descriptor (its connection to the parent's ROUTER); the
    rest of a node's descriptors (16 for a worker, 12 for the controller: stdio,
    signalfd, pidfd, ZeroMQ's eventfds and epolls, the ROUTER's listener, the
    upstream connection) are a constant that a fixed reserve covers. */
#ifndef MQTREE_LIMITS_H
#define MQTREE_LIMITS_H

#include <stddef.h>

//  Descriptors kept back from children: the node's own (at most 16 measured),
//  connections of children already reaped that libzmq closes a moment later, a
//  few foreign connections, and the shell's history file.
#define LIMITS_FD_RESERVE 48

//  The fewest descriptors a node runs with: the reserve and room for 16 children.
//  Below it libzmq and czmq abort in their set-up, or a node could have no child.
#define LIMITS_FD_MIN (LIMITS_FD_RESERVE + 16)

//  Threads of one worker process: main loop, ZeroMQ's I/O thread and reaper, the
//  op thread. Each is a task counted against pid_max, threads-max and RLIMIT_NPROC.
#define LIMITS_THREADS_PER_NODE 4

//  ZeroMQ sockets a process may open. A node opens four (ROUTER, DEALER, the op
//  thread's pipe pair), the controller one: connections are not sockets. libzmq
//  allocates 12 bytes per slot at context start, so sizing this to a large fd
//  limit would cost every worker memory for nothing.
#define LIMITS_SOCKETS_MAX 1024

//  The default --max-reply: the longest result text a node builds and sends up.
//  A `find` of one letter in a 50 MB text would otherwise answer 439 MB.
#define LIMITS_REPLY_MAX ((size_t)16 << 20)

//  Raises the soft RLIMIT_NOFILE to the hard one (capped by fs.nr_open when the
//  hard one is unlimited) and returns the soft limit in force afterwards. Call at
//  start, before any descriptor-hungry work.
size_t limits_raise_fds(void);

//  limits_raise_fds, then 0 (said on stderr, for program) if that is below
//  LIMITS_FD_MIN: the process cannot run.
size_t limits_fds_for(const char *program);

//  The most children one node may have with fds descriptors: fds minus the
//  reserve, one per child; 0 when fds does not exceed the reserve.
size_t limits_children_max(size_t fds);

//  The most nodes a tree may have: the smallest task budget among pid_max,
//  threads-max and RLIMIT_NPROC (0 for unlimited), divided by the threads of
//  one node, less one node's worth for the controller itself.
size_t limits_nodes_max_of(size_t pid_max, size_t threads_max, size_t nproc);

//  The same, read from this machine (/proc/sys/kernel, getrlimit).
size_t limits_nodes_max(void);

//  How many ZeroMQ sockets to allow with fds descriptors.
size_t limits_sockets_max(size_t fds);

#endif
