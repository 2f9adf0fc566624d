/*  driver — drives the real mqtree shell the way a user's script does: commands
    written to its stdin, replies timestamped as they are read from its stdout. The
    mqtree figures of scripts/bench therefore include the shell. Output: "name value"
    lines on stdout.

    driver MQTREE exec DEPTH SAMPLES [mqtree options...]
    driver MQTREE pipeline DEPTH MESSAGES [options...]
    driver MQTREE create NODES [options...]
    driver MQTREE chaincreate NODES [options...]
    driver MQTREE scale NODES FANOUT SAMPLES [options...]
    driver MQTREE pingall NODES random|balanced|chain SAMPLES STOPPED [options...]
    driver MQTREE hexec DEPTH SAMPLES HOST[,HOST...] [options...]
    driver MQTREE hcreate NODES HOST [options...]

    hexec and hcreate are the multi-host figures: the driver runs inside host 0
    (`ip netns exec`), the shell with --transport tcp --launcher ..., and nodes are
    created @HOST. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "samples.h"

extern char **environ;

//  Generous: a reply that takes this long means something is broken.
#define LINE_DEADLINE_MS 60000

typedef struct {
    pid_t pid;
    FILE *in; //  its stdin
    int out;  //  its stdout
    char buffer[1 << 16];
    size_t used;
} shell_t;

static void s_fail(const char *what)
{
    fprintf(stderr, "driver: %s\n", what);
    exit(1);
}

static void s_start(shell_t *shell, const char *binary, char **options, int count)
{
    int to_shell[2], from_shell[2];
    if (pipe2(to_shell, O_CLOEXEC) || pipe2(from_shell, O_CLOEXEC))
        s_fail("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_shell[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_shell[1], 1);
    char **argv = calloc((size_t)count + 2, sizeof(char *));
    argv[0] = (char *)binary;
    for (int i = 0; i < count; i++)
        argv[i + 1] = options[i];
    if (posix_spawn(&shell->pid, binary, &actions, NULL, argv, environ) != 0)
        s_fail("cannot start mqtree");
    free(argv);
    posix_spawn_file_actions_destroy(&actions);
    close(to_shell[0]);
    close(from_shell[1]);
    shell->in = fdopen(to_shell[1], "w");
    shell->out = from_shell[0];
    shell->used = 0;
}

static void s_send(shell_t *shell, const char *line)
{
    fputs(line, shell->in);
    fputc('\n', shell->in);
    fflush(shell->in);
}

//  Reads one reply line into line (without its newline).
static void s_line(shell_t *shell, char *line, size_t size)
{
    while (true) {
        char *newline = memchr(shell->buffer, '\n', shell->used);
        if (newline) {
            size_t length = (size_t)(newline - shell->buffer);
            snprintf(line, size, "%.*s", (int)length, shell->buffer);
            memmove(shell->buffer, newline + 1, shell->used - length - 1);
            shell->used -= length + 1;
            return;
        }
        struct pollfd item = {shell->out, POLLIN, 0};
        if (poll(&item, 1, LINE_DEADLINE_MS) <= 0)
            s_fail("no reply within the deadline");
        ssize_t got = read(shell->out, shell->buffer + shell->used,
                           sizeof shell->buffer - shell->used);
        if (got <= 0)
            s_fail("mqtree closed its output");
        shell->used += (size_t)got;
    }
}

static void s_expect_prefix(shell_t *shell, const char *prefix, char *line, size_t size)
{
    s_line(shell, line, size);
    if (strncmp(line, prefix, strlen(prefix)) != 0) {
        fprintf(stderr, "driver: expected '%s...', got '%s'\n", prefix, line);
        exit(1);
    }
}

static void s_stop(shell_t *shell)
{
    fclose(shell->in);
    waitpid(shell->pid, NULL, 0);
    close(shell->out);
}

//  Builds nodes 1..count, creates all written at once (the shell must run with
//  --ordered), parents by shape. Returns the pids, index = node id.
static pid_t *s_build(shell_t *shell, int count, const char *shape)
{
    char line[256];
    unsigned seed = 1234;
    for (int node = 1; node <= count; node++) {
        int parent = node == 1                 ? -1
                     : !strcmp(shape, "chain") ? node - 1
                     : !strcmp(shape, "balanced")
                         ? node / 2
                         : 1 + (int)(rand_r(&seed) % (unsigned)(node - 1));
        fprintf(shell->in, "create %d %d\n", node, parent);
    }
    fflush(shell->in);
    pid_t *pids = calloc((size_t)count + 1, sizeof(pid_t));
    for (int node = 1; node <= count; node++) {
        s_expect_prefix(shell, "Ok: ", line, sizeof line);
        pids[node] = atoi(line + 4);
    }
    return pids;
}

//  command sent samples times, each after the answer to the last (a tenth more
//  first, not counted): the round trips in microseconds (the caller frees them).
static int64_t *s_closed_loop(shell_t *shell, const char *command, const char *expected,
                              int samples)
{
    char line[256];
    int64_t *times = calloc((size_t)samples, sizeof(int64_t));
    for (int i = -samples / 10; i < samples; i++) {
        int64_t start = samples_now_us();
        s_send(shell, command);
        s_expect_prefix(shell, expected, line, sizeof line);
        if (i >= 0)
            times[i] = samples_now_us() - start;
    }
    return times;
}

//  Depth 0 asks for a node that does not exist: the controller answers alone, so
//  this is the cost of the shell and its pipes without any ZeroMQ hop.
static void s_exec(shell_t *shell, int depth, int samples)
{
    if (depth > 0)
        free(s_build(shell, depth, "chain"));
    char command[64], expected[64];
    snprintf(command, sizeof command, "exec %d sum 1 1", depth);
    snprintf(expected, sizeof expected, depth ? "Ok:%d: 1" : "Error:%d: Not found",
             depth);
    int64_t *times = s_closed_loop(shell, command, expected, samples);
    char name[32];
    snprintf(name, sizeof name, "exec_d%d", depth);
    samples_report(name, times, (size_t)samples);
    free(times);
}

typedef struct {
    FILE *in;
    int depth;
    int messages;
} writer_t;

static void *s_writer(void *arg)
{
    writer_t *writer = arg;
    for (int i = 0; i < writer->messages; i++)
        fprintf(writer->in, "exec %d sum 1 1\n", writer->depth);
    fflush(writer->in);
    return NULL;
}

static void s_pipeline(shell_t *shell, int depth, int messages)
{
    free(s_build(shell, depth, "chain"));
    char line[256];
    writer_t writer = {shell->in, depth, messages};
    pthread_t thread;
    int64_t start = samples_now_us();
    pthread_create(&thread, NULL, s_writer, &writer);
    for (int i = 0; i < messages; i++)
        s_expect_prefix(shell, "Ok:", line, sizeof line);
    double seconds = (double)(samples_now_us() - start) / 1e6;
    pthread_join(thread, NULL);
    printf("pipeline_d%d_per_s %.0f\n", depth, messages / seconds);
}

static void s_create(shell_t *shell, int count)
{
    char command[64], line[256];
    unsigned seed = 99;
    int64_t *times = calloc((size_t)count, sizeof(int64_t));
    for (int node = 1; node <= count; node++) {
        int parent = node == 1 ? -1 : 1 + (int)(rand_r(&seed) % (unsigned)(node - 1));
        snprintf(command, sizeof command, "create %d %d", node, parent);
        int64_t start = samples_now_us();
        s_send(shell, command);
        s_expect_prefix(shell, "Ok: ", line, sizeof line);
        times[node - 1] = samples_now_us() - start;
    }
    samples_report("create", times, (size_t)count);
    free(times);
}

static void s_pingall(shell_t *shell, int count, const char *shape, int samples,
                      int stopped)
{
    pid_t *pids = s_build(shell, count, shape);
    char line[1 << 14];
    unsigned seed = 5;
    int victims[64];
    for (int i = 0; i < stopped && i < 64; i++) {
        victims[i] = 2 + (int)(rand_r(&seed) % (unsigned)(count - 1));
        kill(pids[victims[i]], SIGSTOP);
    }
    int64_t *times = calloc((size_t)samples, sizeof(int64_t));
    for (int i = -1; i < samples; i++) {
        int64_t start = samples_now_us();
        s_send(shell, "pingall");
        s_expect_prefix(shell, stopped ? "Ok: " : "Ok: -1", line, sizeof line);
        if (i >= 0)
            times[i] = samples_now_us() - start;
    }
    char name[64];
    snprintf(name, sizeof name, "pingall_%s_%d_stopped_%d", shape, count, stopped);
    samples_report(name, times, (size_t)samples);
    for (int i = 0; i < stopped && i < 64; i++)
        kill(pids[victims[i]], SIGCONT);
    free(times);
    free(pids);
}

//  A chain of count nodes, every create written at once: "chaincreate_per_node_us",
//  the time from the first create written to the last Ok read, per node.
static void s_chaincreate(shell_t *shell, int count)
{
    int64_t start = samples_now_us();
    free(s_build(shell, count, "chain"));
    printf("chaincreate_per_node_us %.0f\n",
           (double)(samples_now_us() - start) / count);
}

//  Whether pid is a process that has not ended (a zombie has ended).
static bool s_running(pid_t pid)
{
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "r");
    if (!file)
        return false;
    size_t got = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[got] = '\0';
    char *state = strrchr(text, ')');
    return state && state[1] == ' ' && state[2] != 'Z' && state[2] != 'X';
}

//  The sum of the numbers after key on the lines of /proc/PID/FILE that start with it
//  (0 if the process is gone): "Threads:" of status, "Pss:" (kB) of smaps_rollup.
static double s_proc_sum(pid_t pid, const char *file, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    FILE *stream = fopen(path, "r");
    double sum = 0;
    while (stream && fgets(line, sizeof line, stream))
        if (!strncmp(line, key, strlen(key)))
            sum += atof(line + strlen(key));
    if (stream)
        fclose(stream);
    return sum;
}

//  The tree at scale, as a user's script makes it: count creates, node 1 under the
//  controller and node i > 1 under (i - 2) / fanout + 1, all written at once, with
//  the shell's default options. Then samples closed-loop pingalls, then end of input
//  (the shell exits). The driver is a subreaper, so a worker that outlives the shell
//  becomes its child: it is counted, killed and reaped here. Prints scale_created,
//  scale_errors, scale_create_s, scale_idle_threads (the most of any worker),
//  scale_idle_pss_kb (mean), scale_pingall_p50_us, _p99_us, scale_pingall_wrong
//  (answers other than "Ok: -1"), scale_exit_ms (end of input to the shell's end),
//  scale_strays.
static void s_scale(shell_t *shell, int count, int fanout, int samples)
{
    char line[1 << 16];
    int64_t start = samples_now_us();
    for (int node = 1; node <= count; node++)
        fprintf(shell->in, "create %d %d\n", node, node == 1 ? -1 : (node - 2) / fanout + 1);
    fflush(shell->in);
    pid_t *pids = calloc((size_t)count, sizeof(pid_t));
    int created = 0, errors = 0;
    for (int reply = 0; reply < count; reply++) {
        s_line(shell, line, sizeof line);
        if (!strncmp(line, "Ok: ", 4))
            pids[created++] = atoi(line + 4);
        else
            errors++;
    }
    printf("scale_created %d\nscale_errors %d\n", created, errors);
    printf("scale_create_s %.1f\n", (double)(samples_now_us() - start) / 1e6);
    //  Idle: one second without commands (heartbeats off by default).
    struct timespec second = {1, 0};
    nanosleep(&second, NULL);
    int threads = 0;
    double pss = 0;
    for (int i = 0; i < created; i++) {
        int mine = (int)s_proc_sum(pids[i], "status", "Threads:");
        threads = mine > threads ? mine : threads;
        pss += s_proc_sum(pids[i], "smaps_rollup", "Pss:");
    }
    printf("scale_idle_threads %d\nscale_idle_pss_kb %.0f\n", threads,
           created ? pss / created : 0);
    int64_t *times = calloc((size_t)samples, sizeof(int64_t));
    int wrong = 0;
    for (int i = -1; i < samples; i++) {
        int64_t begun = samples_now_us();
        s_send(shell, "pingall");
        s_line(shell, line, sizeof line);
        if (i >= 0)
            times[i] = samples_now_us() - begun;
        wrong += strcmp(line, "Ok: -1") != 0;
    }
    samples_report("scale_pingall", times, (size_t)samples);
    printf("scale_pingall_wrong %d\n", wrong);
    free(times);
    int64_t begun = samples_now_us();
    s_stop(shell);
    printf("scale_exit_ms %.0f\n", (double)(samples_now_us() - begun) / 1000);
    int strays = 0;
    for (int i = 0; i < created; i++)
        if (s_running(pids[i])) {
            strays++;
            kill(pids[i], SIGKILL);
        }
    printf("scale_strays %d\n", strays);
    //  Reaps what was reparented here (strays, and zombies of the shell's own).
    while (waitpid(-1, NULL, WNOHANG) > 0 || (strays && waitpid(-1, NULL, 0) > 0))
        ;
    free(pids);
}

//  samples_report, and "<name>_p90_us N".
static void s_report_p90(const char *name, int64_t *times, size_t count)
{
    samples_report(name, times, count);
    printf("%s_p90_us %" PRId64 "\n", name, times[count * 90 / 100]);
}

//  A chain of depth nodes, node i created @hosts[(i - 1) % n] (hosts comma-separated),
//  then closed-loop `exec DEPTH sum 1 1`: "hexec_d<depth>_p50_us", p90, p99.
static void s_hexec(shell_t *shell, int depth, int samples, const char *hosts)
{
    char *list = strdup(hosts), *names[64], *save = NULL;
    int count = 0;
    for (char *name = strtok_r(list, ",", &save); name && count < 64;
         name = strtok_r(NULL, ",", &save))
        names[count++] = name;
    if (count == 0)
        s_fail("no hosts");
    char command[256], expected[64], line[256];
    for (int node = 1; node <= depth; node++) {
        snprintf(command, sizeof command, "create %d %d @%s", node,
                 node == 1 ? -1 : node - 1, names[(node - 1) % count]);
        s_send(shell, command);
        s_expect_prefix(shell, "Ok: ", line, sizeof line);
    }
    free(list);
    snprintf(command, sizeof command, "exec %d sum 1 1", depth);
    snprintf(expected, sizeof expected, "Ok:%d: 1", depth);
    int64_t *times = s_closed_loop(shell, command, expected, samples);
    char name[32];
    snprintf(name, sizeof name, "hexec_d%d", depth);
    s_report_p90(name, times, (size_t)samples);
    free(times);
}

//  count creates under the controller, alternately local (`create i -1`) and through
//  the launcher (`create i -1 @HOST`), each timed to its Ok: "hcreate_local_*" and
//  "hcreate_host_*".
static void s_hcreate(shell_t *shell, int count, const char *host)
{
    char command[256], line[256];
    int64_t *times[2] = {calloc((size_t)count, sizeof(int64_t)),
                         calloc((size_t)count, sizeof(int64_t))};
    size_t counts[2] = {0, 0};
    for (int node = 1; node <= count; node++) {
        int remote = node % 2 == 0;
        if (remote)
            snprintf(command, sizeof command, "create %d -1 @%s", node, host);
        else
            snprintf(command, sizeof command, "create %d -1", node);
        int64_t start = samples_now_us();
        s_send(shell, command);
        s_expect_prefix(shell, "Ok: ", line, sizeof line);
        times[remote][counts[remote]++] = samples_now_us() - start;
    }
    s_report_p90("hcreate_local", times[0], counts[0]);
    s_report_p90("hcreate_host", times[1], counts[1]);
    free(times[0]);
    free(times[1]);
}

int main(int argc, char *argv[])
{
    if (argc < 4)
        s_fail("usage: driver MQTREE exec|pipeline|create|pingall ARGS... [OPTIONS]");
    signal(SIGPIPE, SIG_IGN);
    const char *binary = argv[1], *scenario = argv[2];
    int fixed = !strcmp(scenario, "pingall")       ? 7
                : !strcmp(scenario, "hexec")       ? 6
                : !strcmp(scenario, "scale")       ? 6
                : !strcmp(scenario, "create")      ? 4
                : !strcmp(scenario, "chaincreate") ? 4
                                                   : 5;
    if (!strcmp(scenario, "scale"))
        prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (argc < fixed)
        s_fail("missing arguments");
    shell_t *shell = calloc(1, sizeof(shell_t));
    s_start(shell, binary, argv + fixed, argc - fixed);
    if (!strcmp(scenario, "exec"))
        s_exec(shell, atoi(argv[3]), atoi(argv[4]));
    else if (!strcmp(scenario, "pipeline"))
        s_pipeline(shell, atoi(argv[3]), atoi(argv[4]));
    else if (!strcmp(scenario, "create"))
        s_create(shell, atoi(argv[3]));
    else if (!strcmp(scenario, "chaincreate"))
        s_chaincreate(shell, atoi(argv[3]));
    else if (!strcmp(scenario, "scale")) {
        s_scale(shell, atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
        free(shell);
        return 0;
    } else if (!strcmp(scenario, "hexec"))
        s_hexec(shell, atoi(argv[3]), atoi(argv[4]), argv[5]);
    else if (!strcmp(scenario, "hcreate"))
        s_hcreate(shell, atoi(argv[3]), argv[4]);
    else if (!strcmp(scenario, "pingall"))
        s_pingall(shell, atoi(argv[3]), argv[4], atoi(argv[5]), atoi(argv[6]));
    else
        s_fail("unknown scenario");
    s_stop(shell);
    free(shell);
    return 0;
}
