/*  process — what every mqtree process does around its loop (see process.h): owns
    signals, the tie to its parent's life, binary lookup, formatting (aborts on OOM). */
#define _GNU_SOURCE
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <czmq.h>

#include "log.h"
#include "mem.h"

int process_open_std_fds(void)
{
    int closed = 0;
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        //  The lowest free number: this one, as those below are open.
        if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
            return -1;
        closed |= 1 << fd;
    }
    return closed;
}

int process_signalfd(const int *signals)
{
    sigset_t mask;
    sigemptyset(&mask);
    for (; *signals; signals++)
        sigaddset(&mask, *signals);
    if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0)
        return -1;
    return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

int process_signalfd_read(int fd)
{
    struct signalfd_siginfo info;
    ssize_t got = read(fd, &info, sizeof info);
    if (got != (ssize_t)sizeof info)
        return 0;
    return (int)info.ssi_signo;
}

int process_die_with_parent(pid_t expected_parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        return -1;
    //  The parent may have died between our spawn and the prctl: then the signal
    //  will never come, and getppid() already names our new reaper.
    if (getppid() != expected_parent) {
        errno = ESRCH;
        return -1;
    }
    return 0;
}

int process_parent_fd(pid_t expected_parent)
{
    int fd = pidfd_open(expected_parent, 0);
    if (fd < 0)
        return -1;
    //  The pid may have been a dead parent's, reused: only if it is still our
    //  parent after the open does the fd watch the right process.
    if (getppid() != expected_parent) {
        close(fd);
        errno = ESRCH;
        return -1;
    }
    return fd;
}

char *process_vformat(const char *format, va_list args)
{
    char *text = NULL;
    if (vasprintf(&text, format, args) < 0)
        abort();
    return text;
}

char *process_format(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *text = process_vformat(format, args);
    va_end(args);
    return text;
}

char *process_worker_path(void)
{
    //  Under a tool such as valgrind /proc/self/exe is the tool: the environment
    //  may name the worker binary instead.
    const char *chosen = getenv("MQTREE_WORKER");
    if (chosen && *chosen)
        return access(chosen, X_OK) == 0 ? mem_strdup(chosen) : NULL;
    char self[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length < 0)
        return NULL;
    self[length] = '\0';
    char *path = process_format("%s/mqtree-worker", dirname(self));
    if (access(path, X_OK) != 0) {
        free(path);
        return NULL;
    }
    return path;
}

//  The session of pid (/proc/PID/stat), or -1.
static pid_t s_session_of(pid_t pid)
{
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "r");
    size_t size = file ? fread(stat, 1, sizeof stat - 1, file) : 0;
    if (file)
        fclose(file);
    stat[size] = '\0';
    //  After the name, which may hold anything: state, parent, group, session.
    char *end = strrchr(stat, ')'), state;
    int parent, group, session;
    if (!end || sscanf(end + 1, " %c %d %d %d", &state, &parent, &group, &session) != 4)
        return -1;
    return (pid_t)session;
}

//  SIGKILLs every process whose parent we are (read from /proc: it may be one the
//  topology lost track of); with expected, only those it does not know of that run
//  in a session of their own (a keeper or a launcher whose node died is in ours,
//  and ends by itself). Returns how many.
static int s_kill_our_children(process_expected_fn *expected, void *arg)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)getpid(),
             (int)getpid());
    FILE *file = fopen(path, "r");
    int count = 0, pid;
    pid_t ours = getsid(0);
    while (file && fscanf(file, "%d", &pid) == 1)
        if (!expected || (!expected((pid_t)pid, arg) && s_session_of((pid_t)pid) != ours))
            count += kill(pid, SIGKILL) == 0;
    if (file)
        fclose(file);
    return count;
}

//  A stray is handed to us when its parent dies, which tells us nothing (SIGCHLD
//  comes only for our own children): while children remain, exit looks this often.
#define STRAY_LOOK_MS 50

void process_reap_all(int cap_ms, process_expected_fn *expected, void *arg)
{
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, &old);
    int64_t cap = zclock_mono() + cap_ms;
    int strays = 0;
    int64_t next_look = 0;
    bool warned = false;
    while (true) {
        pid_t pid;
        while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
            ;
        if (pid < 0 && errno == ECHILD)
            break;
        //  Orphans come to us as their parents die: each look may find new ones. (At
        //  most one look per STRAY_LOOK_MS: a tree of thousands ends in thousands of
        //  SIGCHLDs, and each look reads the list of our children.)
        int64_t now = zclock_mono();
        if (expected && now >= next_look) {
            strays += s_kill_our_children(expected, arg);
            next_look = now + STRAY_LOOK_MS;
        }
        int64_t left = cap - now;
        if (left <= 0) {
            int killed = s_kill_our_children(NULL, NULL);
            if (killed && !warned)
                log_warn("%d processes still running %d ms after exit; killed", killed,
                         cap_ms);
            warned = warned || killed;
            //  Orphans of those come to us next; look again soon.
            left = 100;
        } else if (expected && left > STRAY_LOOK_MS)
            left = STRAY_LOOK_MS;
        struct timespec wait = {left / 1000, (left % 1000) * 1000000};
        sigtimedwait(&chld, NULL, &wait);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (strays)
        log_warn("%d processes that no node accounts for (a program left in a session "
                 "of its own?) were still running at exit; killed", strays);
}

