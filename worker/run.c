/*  run — the run op: a program started with an argv, its output read within the
    request's time (see run.h). */
#define _GNU_SOURCE
#include "run.h"
#include "../common/mem.h"
#include "../common/process.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

//  Words are echoed in errors, cut so a 1 GB argument makes a short message.
#define SHOWN 40
//  Where a program without a slash is looked for when PATH is unset.
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

extern char **environ;

static int s_fail(char **result, size_t *size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fail(char **result, size_t *size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    *result = process_vformat(format, args);
    va_end(args);
    *size = strlen(*result);
    return -1;
}

static int64_t s_now_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

//  The blank-separated words of args as an argv (NULL-terminated), *count of them.
static char **s_words(const char *args, size_t length, size_t *count)
{
    char **words = (char **)mem_calloc(length / 2 + 2, sizeof(char *));
    *count = 0;
    for (size_t at = 0; at < length;) {
        while (at < length && (args[at] == ' ' || args[at] == '\t'))
            at++;
        size_t start = at;
        while (at < length && args[at] != ' ' && args[at] != '\t')
            at++;
        if (at > start)
            words[(*count)++] = mem_strndup(args + start, at - start);
    }
    return words;
}

static void s_words_free(char **words)
{
    for (char **word = words; *word; word++)
        free(*word);
    free(words);
}

//  The file to execute for program: itself if it names a path, else the first
//  executable of that name along PATH. NULL, errno set, if there is none.
static char *s_resolve(const char *program)
{
    if (strchr(program, '/'))
        return mem_strdup(program);
    const char *path = getenv("PATH");
    char *dirs = mem_strdup(path && *path ? path : DEFAULT_PATH);
    char *found = NULL, *saved = NULL;
    for (char *dir = strtok_r(dirs, ":", &saved); dir && !found;
         dir = strtok_r(NULL, ":", &saved)) {
        char *candidate = process_format("%s/%s", dir, program);
        if (access(candidate, X_OK) == 0)
            found = candidate;
        else
            free(candidate);
    }
    free(dirs);
    if (!found)
        errno = ENOENT;
    return found;
}

//  A process of our own, without the C library's fork (whose handlers take locks
//  that another thread of the worker may have held at the copy): 0 in the child.
//  The plain clone system call, which valgrind knows too (not clone3).
static long s_clone(int exit_signal)
{
    return syscall(SYS_clone, (unsigned long)exit_signal, NULL, NULL, NULL, NULL);
}

//  What the report pipe carries, in records of two ints that each writer writes
//  whole (atomic, under PIPE_BUF): the program's pid from the keeper, then the errno
//  of a clone or exec that failed. Its end (every writer gone: an exec closes it) is
//  the program's start.
enum { REPORT_PID = 1, REPORT_ERROR = 2 };

static void s_report(int report, int kind, int value)
{
    int record[2] = {kind, value};
    ssize_t written = write(report, record, sizeof record);
    (void)written;
}

//  The program, after the second clone: system calls only until exec. An exec
//  that fails tells its errno on report.
static void s_program(const char *file, char **argv, int output, int null_fd, int report,
                      pid_t keeper)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != keeper)
        _exit(127); //  the keeper ended before the prctl: no orphan
    dup2(null_fd, STDIN_FILENO);
    dup2(output, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
    //  Nothing else the worker holds (or inherited) reaches the program: every other
    //  descriptor closes at exec (report too, which is how a good exec is seen).
    syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    //  The worker blocks signals for its signalfd and ignores SIGPIPE, the keeper
    //  blocks those it waits for: a program starts with none of that.
    struct sigaction standard = {.sa_handler = SIG_DFL};
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &standard, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(file, argv, environ);
    s_report(report, REPORT_ERROR, errno);
    _exit(127);
}

//  The keeper's direct children, into pids (at most max): how many. Its orphaned
//  descendants are among them (it is their subreaper). -1 if the kernel cannot say.
static int s_children(pid_t keeper, pid_t *pids, int max)
{
    char path[64] = "/proc/self/task/", *at = path + strlen(path), digits[16];
    int length = 0;
    for (pid_t rest = keeper; rest; rest /= 10)
        digits[length++] = (char)('0' + rest % 10);
    while (length)
        *at++ = digits[--length];
    memcpy(at, "/children", sizeof "/children");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char text[4096];
    ssize_t got = read(fd, text, sizeof text - 1);
    close(fd);
    int count = 0;
    pid_t pid = 0;
    for (ssize_t index = 0; index < got && count < max; index++) {
        if (text[index] >= '0' && text[index] <= '9')
            pid = pid * 10 + (text[index] - '0');
        else if (pid) {
            pids[count++] = pid;
            pid = 0;
        }
    }
    if (pid && count < max)
        pids[count++] = pid;
    return count;
}

//  Ends the program's group and every process it left behind: a process that
//  leaves the group (setsid, job control) becomes the keeper's child once its parent
//  is gone, and is killed there, with its own group, until none is left.
static void s_kill_descendants(pid_t keeper, pid_t program)
{
    kill(-program, SIGKILL);
    kill(program, SIGKILL);
    while (true) {
        pid_t pids[256];
        int count = s_children(keeper, pids, 256);
        for (int index = 0; index < count; index++) {
            kill(-pids[index], SIGKILL);
            kill(pids[index], SIGKILL);
        }
        pid_t reaped = waitpid(-1, NULL, 0);
        if (reaped < 0 && errno == ECHILD)
            return;
    }
}

//  The keeper, a clone child with no exit signal: the loop's waitpid(-1) never sees
//  it (an exec would make a process an ordinary child again, so the keeper does not
//  exec). It starts the program in a process group of its own, waits for it, ends
//  whatever it left behind (it is their subreaper) and exits with its status: the
//  exit code, or 128 + the signal that ended it. SIGHUP (the op gave up, or the
//  worker died: PR_SET_PDEATHSIG) ends all of it at once.
//  The keeper's copies of the program's file and words, kept where memcheck (which
//  checks the keeper's end too) sees them: the keeper exits without freeing them,
//  as it may not call free (see s_clone).
static const char *volatile s_kept_file;
static char **volatile s_kept_words;

static void s_keeper(const char *file, char **argv, int output, int null_fd, int report,
                     int life, pid_t worker)
{
    (void)life; //  held open until the keeper ends: its end is the pipe's
    s_kept_file = file;
    s_kept_words = argv;
    sigset_t awaited;
    sigemptyset(&awaited);
    sigaddset(&awaited, SIGCHLD);
    sigaddset(&awaited, SIGHUP);
    sigprocmask(SIG_BLOCK, &awaited, NULL);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    prctl(PR_SET_PDEATHSIG, SIGHUP);
    if (getppid() != worker)
        _exit(127); //  the worker ended before the prctl: no orphan
    pid_t keeper = (pid_t)syscall(SYS_getpid);
    long program = s_clone(SIGCHLD);
    if (program == 0)
        s_program(file, argv, output, null_fd, report, keeper);
    if (program < 0) {
        s_report(report, REPORT_ERROR, errno);
        _exit(127);
    }
    //  Its group is the worker's to end should the keeper itself be killed.
    s_report(report, REPORT_PID, (int)program);
    close(output);
    close(report);
    int status = SIGKILL; //  as if killed, when told to end first
    bool ended = false;
    while (!ended) {
        siginfo_t info;
        int sig = sigwaitinfo(&awaited, &info);
        if (sig == SIGHUP)
            break;
        int got;
        pid_t pid;
        while ((pid = waitpid(-1, &got, WNOHANG)) > 0)
            if (pid == (pid_t)program) {
                status = got;
                ended = true;
            }
    }
    s_kill_descendants(keeper, (pid_t)program);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

//  Ends the run (the keeper ends everything the program started first, when asked)
//  and reaps the keeper: the program's status. A keeper killed (from outside, or here
//  when it would not end) ended nothing: the program died with it (PDEATHSIG), but
//  what it started in its group lives on, and is ended here. (A group is only
//  reused once all of its processes are gone; what left it, with setsid, is ended
//  by the controller at exit.)
static int s_end(pid_t keeper, bool stop, int life, pid_t program)
{
    if (stop) {
        //  A keeper stopped from outside (SIGSTOP) is continued to hear it: it ends
        //  what the program started, even what left its group, as only it can.
        kill(keeper, SIGHUP);
        kill(keeper, SIGCONT);
        //  The keeper is ours: it ends at once. Should it not, it goes.
        struct pollfd ended = {life, POLLIN, 0};
        if (poll(&ended, 1, 2000) == 0)
            kill(keeper, SIGKILL);
    }
    siginfo_t info = {0};
    while (waitid(P_PID, (id_t)keeper, &info, WEXITED | __WCLONE) != 0 && errno == EINTR)
        ;
    if (info.si_code == CLD_EXITED)
        return info.si_status;
    if (program > 0)
        kill(-program, SIGKILL);
    return 128 + info.si_status;
}

typedef struct {
    char *data;
    size_t used, size;
} output_t;

//  Reads what is there: 1 at its end, 0 for more to come, -1 over max.
static int s_read(int fd, output_t *out, size_t max)
{
    while (true) {
        if (out->used == out->size) {
            out->size = out->size ? out->size * 2 : 4096;
            out->data = (char *)mem_realloc(out->data, out->size + 1);
        }
        ssize_t got = read(fd, out->data + out->used, out->size - out->used);
        if (got == 0)
            return 1;
        if (got < 0)
            return errno == EINTR ? 0 : errno == EAGAIN ? 0 : 1;
        out->used += (size_t)got;
        if (out->used > max)
            return -1;
    }
}

int run_program(const char *args, size_t length, int64_t deadline_us, size_t output_max,
                char **result, size_t *size)
{
    size_t count;
    char **argv = s_words(args, length, &count);
    if (!count) {
        s_words_free(argv);
        return s_fail(result, size, "Expected: run program [args...]");
    }
    char *file = s_resolve(argv[0]);
    if (!file) {
        int rc = s_fail(result, size, "Cannot run '%.*s': %s", SHOWN, argv[0],
                        strerror(errno));
        s_words_free(argv);
        return rc;
    }
    int output[2] = {-1, -1}, report[2] = {-1, -1}, life[2] = {-1, -1};
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    int rc = -1;
    if (null_fd < 0 || pipe2(output, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0 ||
        pipe2(life, O_CLOEXEC) != 0) {
        rc = s_fail(result, size, "Cannot run '%.*s': %s", SHOWN, argv[0],
                    strerror(errno));
        goto done;
    }
    pid_t worker = getpid();
    long pid = s_clone(0);
    if (pid == 0)
        s_keeper(file, argv, output[1], null_fd, report[1], life[1], worker);
    if (pid < 0) {
        rc = s_fail(result, size, "Cannot run '%.*s': %s", SHOWN, argv[0],
                    strerror(errno));
        goto done;
    }
    close(output[1]);
    close(report[1]);
    close(life[1]);
    output[1] = report[1] = life[1] = -1;
    int error = 0, record[2];
    pid_t program = 0;
    ssize_t got;
    while ((got = read(report[0], record, sizeof record)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got != sizeof record)
            break;
        if (record[0] == REPORT_PID)
            program = (pid_t)record[1];
        else
            error = record[1];
    }
    if (error) {
        s_end((pid_t)pid, false, life[0], program);
        rc = s_fail(result, size, "Cannot run '%.*s': %s", SHOWN, argv[0],
                    strerror(error));
        goto done;
    }
    fcntl(output[0], F_SETFL, O_NONBLOCK);
    if (!deadline_us)
        deadline_us = s_now_us() + (int64_t)RUN_TIME_MAX_MS * 1000;
    output_t out = {NULL, 0, 0};
    bool exited = false, closed = false, over = false;
    //  Its output until it ends (or closes it and ends), the deadline, or the cap.
    while (!exited && !over) {
        int64_t left = deadline_us - s_now_us();
        if (left <= 0)
            break;
        struct pollfd polls[2] = {{life[0], POLLIN, 0}, {output[0], POLLIN, 0}};
        int64_t wait_ms = (left + 999) / 1000;
        int ready =
            poll(polls, closed ? 1 : 2, wait_ms < INT32_MAX ? (int)wait_ms : INT32_MAX);
        if (ready < 0 && errno != EINTR)
            break;
        if (ready <= 0)
            continue;
        //  Once it ended, what it wrote is in the pipe, unless something it started
        //  holds the pipe open: that is not waited for.
        exited = polls[0].revents & (POLLIN | POLLHUP);
        if (!closed) {
            int state = s_read(output[0], &out, output_max);
            over = state < 0;
            closed = state > 0;
        }
    }
    int status = s_end((pid_t)pid, !exited || over, life[0], program);
    if (over || !exited) {
        if (over)
            rc = s_fail(result, size, "Output over %zu bytes: the program was killed",
                        output_max);
        else
            rc = s_fail(result, size, "Time limit reached: the program was killed");
        free(out.data);
        goto done;
    }
    if (out.used && out.data[out.used - 1] == '\n')
        out.used--;
    char prefix[24];
    int prefix_length = snprintf(prefix, sizeof prefix, out.used ? "%d: " : "%d", status);
    *size = (size_t)prefix_length + out.used;
    *result = (char *)mem_alloc(*size + 1);
    memcpy(*result, prefix, (size_t)prefix_length);
    if (out.used)
        memcpy(*result + prefix_length, out.data, out.used);
    (*result)[*size] = '\0';
    free(out.data);
    rc = 0;
done:
    for (int i = 0; i < 2; i++) {
        if (output[i] >= 0)
            close(output[i]);
        if (report[i] >= 0)
            close(report[i]);
        if (life[i] >= 0)
            close(life[i]);
    }
    if (null_fd >= 0)
        close(null_fd);
    free(file);
    s_words_free(argv);
    return rc;
}
