/*  process — what every mqtree process does with signals and its parent, before and
    around its poll loop. (The run directory is run_dir.h.) */
#ifndef MQTREE_PROCESS_H
#define MQTREE_PROCESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

//  Opens /dev/null on each of descriptors 0-2 that whoever started us left closed:
//  the next thing opened would take its number (a signalfd read as input, a socket
//  written to as output). Returns which were closed (bit 1 << fd), or -1.
int process_open_std_fds(void);

//  Blocks the given signals (0-terminated list) in the calling thread, so threads
//  created later (ZeroMQ's I/O threads, op threads) inherit the mask, and returns a
//  signalfd (non-blocking, close-on-exec) that delivers them to the poll loop.
//  Call before any ZeroMQ or czmq call. Returns -1 on failure.
int process_signalfd(const int *signals);

//  Reads one pending signal from a signalfd: its number, or 0 if none is pending.
int process_signalfd_read(int fd);

//  Asks the kernel to SIGKILL this process when its parent dies, then checks the
//  parent is still expected_parent (it may have died before the request). Returns -1
//  if the parent is already gone.
int process_die_with_parent(pid_t expected_parent);

//  A pidfd of the parent process, readable once the parent has exited: the loop
//  learns of its parent's death as an event, with no timer. Returns -1 if the
//  kernel has no pidfd (errno ENOSYS) or the parent is already gone (ESRCH).
int process_parent_fd(pid_t expected_parent);

//  Path of the mqtree-worker binary next to the running executable (or named by
//  MQTREE_WORKER, for running under valgrind), or NULL. Caller frees.
char *process_worker_path(void);

//  Whether pid is a process that ends by itself now (a node already sent SIGKILL).
typedef bool(process_expected_fn)(pid_t pid, void *arg);

//  Waits for every child process, so that nothing started under a subreaper is left
//  when it goes, but never for long. A child that expected (if given) does not know
//  of and that runs in a session of its own is SIGKILLed as soon as it is seen: a
//  process handed to this subreaper that no one ends (a program that left its
//  run's session, its keeper killed). Past cap_ms whatever is still there (read
//  from /proc) is SIGKILLed. Each with a warning; all are reaped. SIGCHLD is
//  blocked meanwhile.
void process_reap_all(int cap_ms, process_expected_fn *expected, void *arg);

//  Formats into a freshly allocated string; aborts on out-of-memory like czmq does.
char *process_format(const char *format, ...) __attribute__((format(printf, 1, 2)));
//  The same with a va_list.
char *process_vformat(const char *format, va_list args)
    __attribute__((format(printf, 1, 0)));

#endif
