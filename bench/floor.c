/*  floor — what raw libzmq and the OS do on this machine, with no mqtree code: the
    floor every mqtree figure in scripts/bench is compared with, measured in the same
    run. One binary, one mode per figure; the helper processes it needs (relays, echo
    leaves, beating nodes, idle workers) are this same binary in another mode.

    Topology mirrors mqtree's: a parent binds a ROUTER, a child connects a DEALER with
    its id as routing id. Helpers are spawned with posix_spawn by the measuring
    process. Output: "name value" lines on stdout. */
#define _GNU_SOURCE
#include <czmq.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "samples.h"

extern char **environ;

static char s_self[4096];
static char s_dir[256];

static pid_t s_spawn(char *const argv[])
{
    pid_t pid;
    if (posix_spawn(&pid, s_self, NULL, NULL, argv, environ) != 0) {
        perror("posix_spawn");
        exit(1);
    }
    return pid;
}

static char *s_endpoint(bool tcp, int index)
{
    return tcp ? strdup("tcp://127.0.0.1:*")
               : zsys_sprintf("ipc://%s/%d.sock", s_dir, index);
}

//  CURVE, as mqtree's tcp links: one tree certificate, every ROUTER a CURVE server
//  with its secret key, every DEALER a client that knows the server's public key
//  and uses the same pair. Set by the net* modes in FLOOR_CURVE_PUBLIC and
//  FLOOR_CURVE_SECRET, which helpers inherit (through `ip netns exec` too).
static const char *s_curve_public, *s_curve_secret;

static void s_curve_load(void)
{
    s_curve_public = getenv("FLOOR_CURVE_PUBLIC");
    s_curve_secret = getenv("FLOOR_CURVE_SECRET");
    if (!s_curve_public || !s_curve_secret)
        s_curve_public = s_curve_secret = NULL;
}

static zsock_t *s_router(const char *endpoint, char **bound)
{
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    if (s_curve_public) {
        zsock_set_curve_server(router, 1);
        zsock_set_curve_secretkey(router, s_curve_secret);
    }
    zsock_set_sndhwm(router, 0);
    zsock_set_rcvhwm(router, 0);
    zsock_set_router_mandatory(router, 1);
    if (zsock_bind(router, "%s", endpoint) < 0) {
        fprintf(stderr, "floor: cannot bind %s\n", endpoint);
        exit(1);
    }
    *bound = strdup(zsock_endpoint(router));
    return router;
}

static zsock_t *s_dealer(const char *endpoint, const char *identity)
{
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    if (s_curve_public) {
        zsock_set_curve_serverkey(dealer, s_curve_public);
        zsock_set_curve_publickey(dealer, s_curve_public);
        zsock_set_curve_secretkey(dealer, s_curve_secret);
    }
    zsock_set_sndhwm(dealer, 0);
    zsock_set_rcvhwm(dealer, 0);
    zsock_set_identity(dealer, identity);
    zsock_connect(dealer, "%s", endpoint);
    return dealer;
}

//  --- helper processes --------------------------------------------------------------

//  A relay's work: forwards down to child index+1 what comes from above, and up
//  everything from below; the last one echoes (a small ack for big payloads).
static void s_forward(zsock_t *up, zsock_t *down, int index, bool last)
{
    zpoller_t *poller = zpoller_new(up, down, NULL);
    while (true) {
        void *which = zpoller_wait(poller, -1);
        if (!which)
            break;
        zmsg_t *msg = zmsg_recv(which);
        if (!msg)
            break;
        if (which == up && last) {
            if (zframe_size(zmsg_first(msg)) > 1024) {
                zmsg_destroy(&msg);
                msg = zmsg_new();
                zmsg_addstr(msg, "ack");
            }
            zmsg_send(&msg, up);
        } else if (which == up) {
            char next[16];
            snprintf(next, sizeof next, "%d", index + 1);
            zmsg_pushstr(msg, next);
            zmsg_send(&msg, down);
        } else {
            zframe_t *routing = zmsg_pop(msg);
            zframe_destroy(&routing);
            zmsg_send(&msg, up);
        }
    }
}

//  relay PARENT INDEX LAST: DEALER up, ROUTER down; forwards down to child INDEX+1
//  and everything from below up. The last one echoes (a small ack for big payloads).
static int s_relay(const char *parent, int index, bool last, bool tcp)
{
    char identity[16];
    snprintf(identity, sizeof identity, "%d", index);
    zsock_t *up = s_dealer(parent, identity);
    char *bound = NULL;
    zsock_t *down = NULL;
    if (!last) {
        char *endpoint = s_endpoint(tcp, index);
        down = s_router(endpoint, &bound);
        free(endpoint);
        free(bound);
    }
    zstr_send(up, "ready");
    s_forward(up, down, index, last);
    return 0;
}

//  A chain: this process binds a ROUTER; relays 1..count hang below it, each spawned
//  here but connected to the one above. Returns the ROUTER once the chain's far end
//  has said ready (so every link is up).
typedef struct {
    zsock_t *router;
    pid_t *pids;
    int count;
} chain_t;

static chain_t s_chain_new(int count, bool tcp)
{
    chain_t chain = {NULL, calloc((size_t)count, sizeof(pid_t)), count};
    char *endpoint = s_endpoint(tcp, 0), *bound = NULL;
    chain.router = s_router(endpoint, &bound);
    free(endpoint);
    char *parent = bound;
    //  Each relay binds index's endpoint, known in advance for ipc; for tcp the
    //  ports are not, so tcp chains have one hop only.
    for (int index = 1; index <= count; index++) {
        char id[16];
        snprintf(id, sizeof id, "%d", index);
        char *argv[] = {
            "floor", "relay", parent, id, index == count ? "1" : "0", tcp ? "tcp" : "ipc",
            NULL};
        chain.pids[index - 1] = s_spawn(argv);
        if (parent != bound)
            free(parent);
        parent = zsys_sprintf("ipc://%s/%d.sock", s_dir, index);
    }
    if (parent != bound)
        free(parent);
    free(bound);
    //  Every relay says ready through the chain; the last one's means all are up.
    for (int heard = 0; heard < count; heard++) {
        zmsg_t *msg = zmsg_recv(chain.router);
        zmsg_destroy(&msg);
    }
    return chain;
}

static void s_chain_destroy(chain_t *chain)
{
    for (int i = 0; i < chain->count; i++) {
        kill(chain->pids[i], SIGKILL);
        waitpid(chain->pids[i], NULL, 0);
    }
    free(chain->pids);
    zsock_destroy(&chain->router);
}

//  FLOOR_FRAMES=N (default 1): the payload in N frames, the first of size bytes and
//  N - 1 more of 16 (an mqtree message is a header and up to 3 body frames, each a
//  CURVE box of its own on an encrypted link).
static zmsg_t *s_payload(size_t size)
{
    zmsg_t *msg = zmsg_new();
    zmsg_pushstr(msg, "1");
    zframe_t *frame = zframe_new(NULL, size);
    memset(zframe_data(frame), 'x', size);
    zmsg_append(msg, &frame);
    const char *frames = getenv("FLOOR_FRAMES");
    for (int extra = frames ? atoi(frames) - 1 : 0; extra > 0; extra--) {
        frame = zframe_new("0123456789abcdef", 16);
        zmsg_append(msg, &frame);
    }
    return msg;
}

//  --- measurements ------------------------------------------------------------------

static void s_measure_rtt(chain_t *chain, const char *name, int samples, bool p90);

static void s_round_trips(const char *name, int relays, bool tcp, int samples)
{
    chain_t chain = s_chain_new(relays, tcp);
    s_measure_rtt(&chain, name, samples, false);
    s_chain_destroy(&chain);
}

//  samples_report, and "<name>_p90_us N" (the multi-host figures print p90 too).
static void s_report_p90(const char *name, int64_t *times, size_t count)
{
    samples_report(name, times, count);
    printf("%s_p90_us %" PRId64 "\n", name, times[count * 90 / 100]);
}

static void s_measure_rtt(chain_t *chain, const char *name, int samples, bool p90)
{
    int64_t *times = calloc((size_t)samples, sizeof(int64_t));
    for (int i = -samples / 10; i < samples; i++) {
        zmsg_t *msg = s_payload(64);
        int64_t start = samples_now_us();
        zmsg_send(&msg, chain->router);
        msg = zmsg_recv(chain->router);
        if (!msg) {
            fprintf(stderr, "floor: no reply through the chain\n");
            exit(1);
        }
        if (i >= 0)
            times[i] = samples_now_us() - start;
        zmsg_destroy(&msg);
    }
    if (p90)
        s_report_p90(name, times, (size_t)samples);
    else
        samples_report(name, times, (size_t)samples);
    free(times);
}

static void s_pipeline(int relays, int messages, int window)
{
    chain_t chain = s_chain_new(relays, false);
    int64_t start = samples_now_us();
    int sent = 0, received = 0;
    while (received < messages) {
        while (sent < messages && sent - received < window) {
            zmsg_t *msg = s_payload(64);
            zmsg_send(&msg, chain.router);
            sent++;
        }
        zmsg_t *msg = zmsg_recv(chain.router);
        zmsg_destroy(&msg);
        received++;
    }
    double seconds = (double)(samples_now_us() - start) / 1e6;
    printf("pipeline_%d_per_s %.0f\n", relays, messages / seconds);
    s_chain_destroy(&chain);
}

static void s_transfer(size_t bytes, int samples)
{
    chain_t chain = s_chain_new(1, false);
    int64_t *times = calloc((size_t)samples, sizeof(int64_t));
    for (int i = 0; i < samples; i++) {
        zmsg_t *msg = s_payload(bytes);
        int64_t start = samples_now_us();
        zmsg_send(&msg, chain.router);
        msg = zmsg_recv(chain.router);
        times[i] = samples_now_us() - start;
        zmsg_destroy(&msg);
    }
    samples_report("transfer", times, (size_t)samples);
    free(times);
    s_chain_destroy(&chain);
}

//  child ENDPOINT ID: connect, say ready, then idle until killed.
static int s_child(const char *endpoint, const char *id, bool bind_router)
{
    zsock_t *up = s_dealer(endpoint, id);
    char *bound = NULL;
    zsock_t *down = NULL;
    if (bind_router) {
        char *mine = zsys_sprintf("ipc://%s/idle-%s.sock", s_dir, id);
        down = s_router(mine, &bound);
        free(mine);
    }
    zstr_send(up, "ready");
    zpoller_t *poller = zpoller_new(up, NULL);
    zpoller_wait(poller, -1);
    (void)down;
    free(bound);
    return 0;
}

static void s_spawn_floor(int count, const char *label, bool idle_workers)
{
    char *endpoint = s_endpoint(false, 0), *bound = NULL;
    zsock_t *router = s_router(endpoint, &bound);
    free(endpoint);
    pid_t *pids = calloc((size_t)count, sizeof(pid_t));
    int64_t *times = calloc((size_t)count, sizeof(int64_t));
    for (int i = 0; i < count; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", i + 1);
        char *argv[] = {"floor", idle_workers ? "idle-child" : "child", bound, id, NULL};
        int64_t start = samples_now_us();
        pids[i] = s_spawn(argv);
        zmsg_t *msg = zmsg_recv(router);
        times[i] = samples_now_us() - start;
        zmsg_destroy(&msg);
    }
    if (idle_workers) {
        //  Proportional set size: shared library pages split among the sharers.
        double total_kb = 0;
        for (int i = 0; i < count; i++) {
            char path[64], line[256];
            snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pids[i]);
            FILE *file = fopen(path, "r");
            while (file && fgets(line, sizeof line, file))
                if (strncmp(line, "Pss:", 4) == 0)
                    total_kb += atof(line + 4);
            if (file)
                fclose(file);
        }
        printf("idle_pss_mb %.3f\n", total_kb / count / 1024);
    } else
        samples_report(label, times, (size_t)count);
    for (int i = 0; i < count; i++) {
        kill(pids[i], SIGKILL);
        waitpid(pids[i], NULL, 0);
    }
    free(pids);
    free(times);
    free(bound);
    zsock_destroy(&router);
}

//  Sums the decimal numbers of text by a hand-written loop: the parse floor.
static int64_t s_sum_text(const char *text, size_t length)
{
    int64_t sum = 0, value = 0;
    bool negative = false, in_number = false;
    for (size_t i = 0; i <= length; i++) {
        char c = i < length ? text[i] : ' ';
        if (c >= '0' && c <= '9') {
            value = value * 10 + (c - '0');
            in_number = true;
        } else if (c == '-')
            negative = true;
        else if (in_number) {
            sum += negative ? -value : value;
            value = 0;
            negative = in_number = false;
        }
    }
    return sum;
}

//  The parse floor: one line of decimal numbers summed by a hand-written loop.
static void s_parse(long count)
{
    char *line = malloc((size_t)count * 12 + 1);
    size_t length = 0;
    unsigned seed = 42;
    for (long i = 0; i < count; i++)
        length +=
            (size_t)sprintf(line + length, "%d ", (int)(rand_r(&seed) % 2000) - 1000);
    int64_t start = samples_now_us();
    int64_t sum = s_sum_text(line, length);
    int64_t elapsed = samples_now_us() - start;
    printf("parse_ms %.1f\n", elapsed / 1000.0);
    printf("parse_line_bytes %zu\n", length);
    fprintf(stderr, "floor: sum %" PRId64 "\n", sum);
    free(line);
}

//  --- the ideal shell -----------------------------------------------------------------

//  sum-child ENDPOINT ID: the ideal shell's node. Answers "sum N K1..KN" with
//  "Ok:ID: <sum>" (the count word is summed too and taken off again).
static int s_sum_child(const char *endpoint, const char *id)
{
    zsock_t *up = s_dealer(endpoint, id);
    zstr_send(up, "ready");
    while (true) {
        zframe_t *frame = zframe_recv(up);
        if (!frame)
            break;
        const char *text = (const char *)zframe_data(frame);
        size_t length = zframe_size(frame);
        int64_t sum = 0;
        if (length > 4 && memcmp(text, "sum ", 4) == 0) {
            char *end;
            long long count = strtoll(text + 4, &end, 10);
            sum = s_sum_text(end, length - (size_t)(end - text));
            (void)count;
        }
        zstr_sendf(up, "Ok:%s: %" PRId64, id, sum);
        zframe_destroy(&frame);
    }
    return 0;
}

//  A line-at-a-time reader of a descriptor, for lines of any length.
typedef struct {
    char *data;
    size_t start, used, size;
    size_t scanned; //  bytes from start known to hold no newline
    bool ended;
} lines_t;

//  The next whole line (its newline replaced by '\0'), or NULL: then read more.
static char *s_next_line(lines_t *lines, size_t *length)
{
    char *from = lines->data + lines->start;
    char *newline = memchr(from + lines->scanned, '\n',
                           lines->used - lines->start - lines->scanned);
    if (!newline) {
        lines->scanned = lines->used - lines->start;
        return NULL;
    }
    lines->scanned = 0;
    *newline = '\0';
    *length = (size_t)(newline - from);
    lines->start += *length + 1;
    return from;
}

//  Reads what the descriptor has; false at its end.
static bool s_read_more(lines_t *lines, int fd)
{
    if (lines->start > 0) {
        memmove(lines->data, lines->data + lines->start, lines->used - lines->start);
        lines->used -= lines->start;
        lines->start = 0;
    }
    //  Grown by as much as it holds, when less than 64 KiB (a pipe's read) is free.
    if (lines->size - lines->used < 65536) {
        lines->size = lines->used * 2 + 65536;
        lines->data = realloc(lines->data, lines->size);
    }
    ssize_t got = read(fd, lines->data + lines->used, lines->size - lines->used);
    if (got <= 0)
        return false;
    lines->used += (size_t)got;
    return true;
}

static void s_free_hint(void *data, void *hint)
{
    (void)data;
    free(hint);
}

//  Prints the answer msg brings; returns the id of a node that says it is ready, or 0.
static int s_ideal_answer(zmsg_t *msg, pid_t *pids, size_t *waiting)
{
    if (!msg)
        exit(1);
    char *from = zmsg_popstr(msg), *text = zmsg_popstr(msg);
    int id = atoi(from), ready = 0;
    if (text && strcmp(text, "ready") == 0) {
        printf("Ok: %d\n", id > 0 && id < 64 ? (int)pids[id] : 0);
        ready = id;
    } else
        printf("%s\n", text ? text : "");
    (*waiting)--;
    free(from);
    free(text);
    zmsg_destroy(&msg);
    return ready;
}

//  ideal-shell: the least a shell can do. Reads lines on stdin: "create ID -1" spawns
//  a sum-child and answers "Ok: <pid>" when it is ready; "exec ID TEXT" sends TEXT
//  one ipc hop to node ID as one frame and prints its answer. Lines are read and
//  answers printed as they come (piped lines do not wait for answers); stdout is
//  flushed whenever there is nothing more to do. Ends at the end of stdin once every
//  answer is printed. Arguments after the mode are ignored (mqtree's options).
static void s_ideal_shell(void)
{
    char *endpoint = s_endpoint(false, 0), *bound = NULL;
    zsock_t *router = s_router(endpoint, &bound);
    free(endpoint);
    pid_t pids[64] = {0};
    lines_t input = {NULL, 0, 0, 0, 0, false};
    size_t waiting = 0;
    zmq_pollitem_t items[2] = {{zsock_resolve(router), 0, ZMQ_POLLIN, 0},
                               {NULL, STDIN_FILENO, ZMQ_POLLIN, 0}};
    while (!input.ended || waiting > 0) {
        fflush(stdout);
        if (zmq_poll(items, input.ended ? 1 : 2, -1) < 0)
            break;
        zmsg_t *msg;
        while ((msg = zmsg_recv_nowait(router)))
            s_ideal_answer(msg, pids, &waiting);
        if (input.ended || !items[1].revents) //  readable, or its end (POLLERR)
            continue;
        input.ended = !s_read_more(&input, STDIN_FILENO);
        char *line;
        size_t length;
        while ((line = s_next_line(&input, &length))) {
            //  Words by hand: sscanf would measure the whole (long) line first.
            char *rest;
            int id = 0, create = !strncmp(line, "create ", 7), exec = !strncmp(line, "exec ", 5);
            if (create || exec)
                id = (int)strtol(line + (create ? 7 : 5), &rest, 10);
            if (create && id > 0 && id < 64 && !strcmp(rest, " -1")) {
                char name[16];
                snprintf(name, sizeof name, "%d", id);
                char *argv[] = {"floor", "sum-child", bound, name, NULL};
                pids[id] = s_spawn(argv);
                //  A node takes lines once it is ready (the router drops what is
                //  sent to a peer not yet connected).
                waiting++;
                while (s_ideal_answer(zmsg_recv(router), pids, &waiting) != id)
                    ;
            } else if (exec && id > 0 && id < 64 && pids[id] && *rest == ' ') {
                size_t skip = (size_t)(rest + 1 - line);
                char name[16];
                snprintf(name, sizeof name, "%d", id);
                void *handle = zsock_resolve(router);
                zmq_send(handle, name, strlen(name), ZMQ_SNDMORE);
                if (length - skip < 65536)
                    zmq_send(handle, line + skip, length - skip, 0);
                else {
                    //  A long line is not copied: libzmq takes the buffer (and frees
                    //  it), the rest of the input moves to a new one.
                    char *base = input.data;
                    size_t rest = input.used - input.start;
                    input.size = rest + 65536;
                    input.data = malloc(input.size);
                    memcpy(input.data, base + input.start, rest);
                    input.used = rest;
                    input.start = input.scanned = 0;
                    zmq_msg_t msg;
                    zmq_msg_init_data(&msg, line + skip, length - skip, s_free_hint, base);
                    zmq_msg_send(&msg, handle, 0);
                }
                waiting++;
            } else
                printf("Error: the ideal shell knows no '%s'\n", line);
        }
    }
    for (int id = 0; id < 64; id++)
        if (pids[id]) {
            kill(pids[id], SIGKILL);
            waitpid(pids[id], NULL, 0);
        }
    free(input.data);
    free(bound);
    zsock_destroy(&router);
}

//  SIGKILLs the count processes of pids, the last first, and reaps them all: the time
//  that takes, in milliseconds. The last first: in a tree spawned top down, a node
//  outliving its parent would retry its connection every 100 ms, thousands of them,
//  and the measure would be of that storm.
static double s_end_all(pid_t *pids, int count)
{
    int64_t start = samples_now_us();
    for (int i = count - 1; i >= 0; i--)
        kill(pids[i], SIGKILL);
    for (int i = 0; i < count; i++)
        waitpid(pids[i], NULL, 0);
    return (double)(samples_now_us() - start) / 1000;
}

//  reap COUNT: the floor of ending a tree: COUNT idle children (spawned all at once)
//  get SIGKILL and are reaped; "reap_<count>_ms" is the time from the first kill to
//  the last reap.
static void s_reap_floor(int count)
{
    char *endpoint = s_endpoint(false, 0), *bound = NULL;
    zsock_t *router = s_router(endpoint, &bound);
    free(endpoint);
    pid_t *pids = calloc((size_t)count, sizeof(pid_t));
    for (int i = 0; i < count; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", i + 1);
        char *argv[] = {"floor", "idle-child", bound, id, NULL};
        pids[i] = s_spawn(argv);
    }
    for (int ready = 0; ready < count; ready++) {
        zmsg_t *msg = zmsg_recv(router);
        zmsg_destroy(&msg);
    }
    printf("reap_%d_ms %.1f\n", count, s_end_all(pids, count));
    free(pids);
    free(bound);
    zsock_destroy(&router);
}

//  --- the pingall floor --------------------------------------------------------------

//  pnode ID COUNT FANOUT: one node of a raw tree of COUNT (node i under
//  (i - 2) / FANOUT + 1, node 1 under the measuring process). Says "ready" once its
//  children have; then each "p" from above goes to every child, and one "p" goes up
//  when all have answered: a pingall's messages and nothing else.
static int s_pnode(int id, int count, int fanout)
{
    char name[16], *parent;
    snprintf(name, sizeof name, "%d", id);
    int above = id == 1 ? 0 : (id - 2) / fanout + 1;
    parent = above ? zsys_sprintf("ipc://%s/p-%d.sock", s_dir, above)
                   : zsys_sprintf("ipc://%s/0.sock", s_dir);
    zsock_t *up = s_dealer(parent, name);
    free(parent);
    int first = (id - 1) * fanout + 2, last = id * fanout + 1;
    last = last > count ? count : last;
    int children = last >= first ? last - first + 1 : 0;
    zsock_t *down = NULL;
    char *bound = NULL;
    if (children) {
        char *mine = zsys_sprintf("ipc://%s/p-%d.sock", s_dir, id);
        down = s_router(mine, &bound);
        free(mine);
    }
    zpoller_t *poller = zpoller_new(up, NULL);
    if (down)
        zpoller_add(poller, down);
    int waiting = children; //  answers (first "ready"s, then "p"s) still to come
    if (!waiting)
        zstr_send(up, "ready");
    while (true) {
        void *which = zpoller_wait(poller, -1);
        if (!which)
            break;
        zmsg_t *msg = zmsg_recv(which);
        zmsg_destroy(&msg);
        if (which == up) {
            if (!children) {
                zstr_send(up, "p");
                continue;
            }
            waiting = children;
            for (int child = first; child <= last; child++) {
                zstr_sendfm(down, "%d", child);
                zstr_send(down, "p");
            }
        } else if (--waiting == 0)
            zstr_send(up, "p"); //  the first time, it stands for "ready"
    }
    free(bound);
    return 0;
}

//  pingtree COUNT FANOUT SAMPLES: the raw tree above, then SAMPLES closed-loop waves
//  from the top: "pingtree_<count>_p50_us", p99; then "pingtree_<count>_reap_ms".
static void s_pingtree(int count, int fanout, int samples)
{
    char *endpoint = s_endpoint(false, 0), *bound = NULL;
    zsock_t *router = s_router(endpoint, &bound);
    free(endpoint);
    pid_t *pids = calloc((size_t)count, sizeof(pid_t));
    char counts[16], fanouts[16];
    snprintf(counts, sizeof counts, "%d", count);
    snprintf(fanouts, sizeof fanouts, "%d", fanout);
    for (int i = 0; i < count; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", i + 1);
        char *argv[] = {"floor", "pnode", id, counts, fanouts, NULL};
        pids[i] = s_spawn(argv);
    }
    zmsg_t *msg = zmsg_recv(router); //  node 1: the whole tree is up
    zmsg_destroy(&msg);
    int64_t *times = calloc((size_t)samples, sizeof(int64_t));
    for (int i = -1; i < samples; i++) {
        int64_t start = samples_now_us();
        zstr_sendm(router, "1");
        zstr_send(router, "p");
        msg = zmsg_recv(router);
        zmsg_destroy(&msg);
        if (i >= 0)
            times[i] = samples_now_us() - start;
    }
    char name[32];
    snprintf(name, sizeof name, "pingtree_%d", count);
    samples_report(name, times, (size_t)samples);
    //  The floor of ending such a tree.
    printf("pingtree_%d_reap_ms %.1f\n", count, s_end_all(pids, count));
    free(times);
    free(pids);
    free(bound);
    zsock_destroy(&router);
}

//  hbnode PARENT ID INTERVAL: DEALER up, ROUTER down; beats up every INTERVAL ms and
//  reads its children's beats.
static int s_hbnode(const char *parent, const char *id, int interval)
{
    zsock_t *up = s_dealer(parent, id);
    char *mine = zsys_sprintf("ipc://%s/hb-%s.sock", s_dir, id), *bound = NULL;
    zsock_t *down = s_router(mine, &bound);
    free(mine);
    zstr_send(up, "ready");
    zpoller_t *poller = zpoller_new(down, NULL);
    int64_t next = zclock_mono() + interval;
    while (true) {
        int64_t wait = next - zclock_mono();
        void *which = zpoller_wait(poller, (int)(wait > 0 ? wait : 0));
        if (which) {
            zmsg_t *msg = zmsg_recv(which);
            zmsg_destroy(&msg);
        } else if (zpoller_terminated(poller))
            break;
        if (zclock_mono() >= next) {
            zstr_send(up, "b");
            next += interval;
        }
    }
    free(bound);
    return 0;
}

static double s_busy_seconds(void)
{
    FILE *file = fopen("/proc/stat", "r");
    unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;
    int got = fscanf(file, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
                     &system, &idle, &iowait, &irq, &softirq, &steal);
    fclose(file);
    if (got != 8)
        return 0;
    return (double)(user + nice + system + irq + softirq + steal) / sysconf(_SC_CLK_TCK);
}

static void s_hbtree(int count, int interval, int seconds)
{
    char *endpoint = s_endpoint(false, 0), *bound = NULL;
    zsock_t *router = s_router(endpoint, &bound);
    free(endpoint);
    pid_t *pids = calloc((size_t)count, sizeof(pid_t));
    unsigned seed = 7;
    for (int i = 0; i < count; i++) {
        char id[16], interval_text[16];
        snprintf(id, sizeof id, "%d", i + 1);
        snprintf(interval_text, sizeof interval_text, "%d", interval);
        //  A random tree, as the mqtree figure uses: node i+1 under a random earlier one.
        int parent = i == 0 ? 0 : 1 + (int)(rand_r(&seed) % (unsigned)i);
        char *parent_endpoint = parent == 0
                                    ? strdup(bound)
                                    : zsys_sprintf("ipc://%s/hb-%d.sock", s_dir, parent);
        char *argv[] = {"floor", "hbnode", parent_endpoint, id, interval_text, NULL};
        pids[i] = s_spawn(argv);
        //  No wait for the bind: a child that connects first is reconnected by
        //  libzmq, and the settling second below covers it.
        free(parent_endpoint);
    }
    zpoller_t *poller = zpoller_new(router, NULL);
    int64_t settle = zclock_mono() + 1000;
    while (zclock_mono() < settle)
        if (zpoller_wait(poller, 100)) {
            zmsg_t *msg = zmsg_recv(router);
            zmsg_destroy(&msg);
        }
    double busy = s_busy_seconds();
    int64_t start = zclock_mono(), end = start + seconds * 1000;
    while (zclock_mono() < end)
        if (zpoller_wait(poller, (int)(end - zclock_mono()))) {
            zmsg_t *msg = zmsg_recv(router);
            zmsg_destroy(&msg);
        }
    double cores = (s_busy_seconds() - busy) / ((zclock_mono() - start) / 1000.0);
    printf("hbtree_cores %.3f\n", cores);
    zpoller_destroy(&poller);
    for (int i = 0; i < count; i++) {
        kill(pids[i], SIGKILL);
        waitpid(pids[i], NULL, 0);
    }
    free(pids);
    free(bound);
    zsock_destroy(&router);
}

//  --- across network namespaces ----------------------------------------------------
//  The multi-host floors: run inside host 0 by the caller (`ip netns exec H0 floor
//  net...`), with helpers started on other hosts through `ip netns exec NS`, the way
//  mqtree's netns launcher starts workers. A host is named NS=ADDR (its namespace and
//  its address); "-" is this host, spawned directly.

//  Spawns this binary with argv (argv[0] ignored) on host, "-" being here.
static pid_t s_spawn_on(const char *host, char *const argv[])
{
    if (!strcmp(host, "-"))
        return s_spawn(argv);
    char ns[128];
    snprintf(ns, sizeof ns, "%.*s", (int)strcspn(host, "="), host);
    int count = 0;
    while (argv[count])
        count++;
    char **full = calloc((size_t)count + 5, sizeof(char *));
    full[0] = "ip";
    full[1] = "netns";
    full[2] = "exec";
    full[3] = ns;
    full[4] = s_self;
    for (int i = 1; i < count; i++)
        full[4 + i] = argv[i];
    pid_t pid;
    //  `ip netns exec` execs the command in place: pid is the helper's own.
    if (posix_spawnp(&pid, "ip", NULL, NULL, full, environ) != 0) {
        perror("posix_spawnp ip");
        exit(1);
    }
    free(full);
    return pid;
}

static const char *s_host_address(const char *host)
{
    const char *equals = strchr(host, '=');
    return equals ? equals + 1 : "127.0.0.1";
}

//  curve|plain: with curve, a new tree key pair for this run, in the environment the
//  helpers inherit.
static void s_curve_mode(const char *mode)
{
    if (strcmp(mode, "curve") != 0)
        return;
    char public_key[41], secret_key[41];
    if (!zsys_has_curve() || zmq_curve_keypair(public_key, secret_key) != 0) {
        fprintf(stderr, "floor: libzmq has no CURVE\n");
        exit(1);
    }
    setenv("FLOOR_CURVE_PUBLIC", public_key, 1);
    setenv("FLOOR_CURVE_SECRET", secret_key, 1);
    s_curve_load();
}

static zmsg_t *s_recv_within(zsock_t *socket, int ms, const char *what)
{
    zpoller_t *poller = zpoller_new(socket, NULL);
    void *which = zpoller_wait(poller, ms);
    zpoller_destroy(&poller);
    if (!which) {
        fprintf(stderr, "floor: no %s within %d ms\n", what, ms);
        exit(1);
    }
    return zmsg_recv(socket);
}

//  netrelay PARENT INDEX LAST ADDR: a relay over tcp, its ROUTER bound on ADDR with
//  a port of the kernel's choosing, which its "ready" tells the chain's root.
static int s_netrelay(const char *parent, int index, bool last, const char *address)
{
    char identity[16];
    snprintf(identity, sizeof identity, "%d", index);
    zsock_t *up = s_dealer(parent, identity);
    char *bound = NULL;
    zsock_t *down = NULL;
    if (!last) {
        char *endpoint = zsys_sprintf("tcp://%s:*", address);
        down = s_router(endpoint, &bound);
        free(endpoint);
    }
    zstr_sendx(up, "ready", bound ? bound : "", NULL);
    free(bound);
    s_forward(up, down, index, last);
    return 0;
}

//  A chain of depth relays over tcp: relay i on hosts[(i - 1) % count], each started
//  once the one above it is up (it needs that one's port).
static chain_t s_netchain_new(int depth, const char *address, char **hosts, int count)
{
    chain_t chain = {NULL, calloc((size_t)depth, sizeof(pid_t)), depth};
    char *endpoint = zsys_sprintf("tcp://%s:*", address), *bound = NULL;
    chain.router = s_router(endpoint, &bound);
    free(endpoint);
    char *parent = bound;
    for (int index = 1; index <= depth; index++) {
        const char *host = hosts[(index - 1) % count];
        char id[16];
        snprintf(id, sizeof id, "%d", index);
        char *argv[] = {"floor",
                        "netrelay",
                        parent,
                        id,
                        index == depth ? "1" : "0",
                        (char *)s_host_address(host),
                        NULL};
        chain.pids[index - 1] = s_spawn_on(host, argv);
        zmsg_t *ready = s_recv_within(chain.router, 20000, "ready from a relay");
        zframe_t *routing = zmsg_pop(ready);
        zframe_destroy(&routing);
        char *word = zmsg_popstr(ready);
        free(word);
        free(parent);
        parent = zmsg_popstr(ready);
        zmsg_destroy(&ready);
    }
    free(parent);
    return chain;
}

//  netchain DEPTH SAMPLES curve|plain ADDR0 HOST...: round trips through depth relays
//  over tcp between hosts, 64 B; "netchain_<depth>_<mode>_p50_us" and p90, p99.
static void s_netchain(int depth, int samples, const char *mode, const char *address,
                       char **hosts, int count)
{
    s_curve_mode(mode);
    chain_t chain = s_netchain_new(depth, address, hosts, count);
    char name[64];
    snprintf(name, sizeof name, "netchain_%d_%s", depth, mode);
    s_measure_rtt(&chain, name, samples, true);
    s_chain_destroy(&chain);
}

//  netspawn COUNT curve|plain ADDR0 HOST: count children, alternately here (posix_spawn)
//  and on HOST (`ip netns exec`), each timed from its spawn to its "ready" over tcp
//  (CURVE handshake included): "netspawn_local_*" and "netspawn_host_*".
static void s_netspawn(int count, const char *mode, const char *address, const char *host)
{
    s_curve_mode(mode);
    char *endpoint = zsys_sprintf("tcp://%s:*", address), *bound = NULL;
    zsock_t *router = s_router(endpoint, &bound);
    free(endpoint);
    pid_t *pids = calloc((size_t)count, sizeof(pid_t));
    int64_t *times[2] = {calloc((size_t)count, sizeof(int64_t)),
                         calloc((size_t)count, sizeof(int64_t))};
    size_t counts[2] = {0, 0};
    for (int i = 0; i < count; i++) {
        int remote = i % 2;
        char id[16];
        snprintf(id, sizeof id, "%d", i + 1);
        char *argv[] = {"floor", "child", bound, id, NULL};
        int64_t start = samples_now_us();
        pids[i] = s_spawn_on(remote ? host : "-", argv);
        zmsg_t *msg = s_recv_within(router, 20000, "ready from a child");
        times[remote][counts[remote]++] = samples_now_us() - start;
        zmsg_destroy(&msg);
    }
    s_report_p90("netspawn_local", times[0], counts[0]);
    s_report_p90("netspawn_host", times[1], counts[1]);
    for (int i = 0; i < count; i++) {
        kill(pids[i], SIGKILL);
        waitpid(pids[i], NULL, 0);
    }
    free(pids);
    free(times[0]);
    free(times[1]);
    free(bound);
    zsock_destroy(&router);
}

int main(int argc, char *argv[])
{
    if (readlink("/proc/self/exe", s_self, sizeof s_self - 1) < 0)
        return 1;
    zsys_handler_set(NULL);
    s_curve_load();
    const char *dir = getenv("FLOOR_DIR");
    if (argc < 2) {
        fprintf(stderr, "usage: floor rtt|chain|pipeline|transfer|spawn|idle|parse|"
                        "reap|pingtree|ideal-shell|hbtree|netchain|netspawn ...\n");
        return 2;
    }
    const char *mode = argv[1];
    //  Helpers inherit the directory of their measuring process.
    if (dir)
        snprintf(s_dir, sizeof s_dir, "%s", dir);
    else {
        snprintf(s_dir, sizeof s_dir, "/tmp/floor-%d-XXXXXX", (int)getpid());
        if (!mkdtemp(s_dir))
            return 1;
        setenv("FLOOR_DIR", s_dir, 1);
    }
    int rc = 0;
    if (!strcmp(mode, "relay") && argc == 6)
        return s_relay(argv[2], atoi(argv[3]), atoi(argv[4]) == 1,
                       !strcmp(argv[5], "tcp"));
    else if (!strcmp(mode, "netrelay") && argc == 6)
        return s_netrelay(argv[2], atoi(argv[3]), atoi(argv[4]) == 1, argv[5]);
    else if (!strcmp(mode, "child") && argc == 4)
        return s_child(argv[2], argv[3], false);
    else if (!strcmp(mode, "idle-child") && argc == 4)
        return s_child(argv[2], argv[3], true);
    else if (!strcmp(mode, "sum-child") && argc == 4)
        return s_sum_child(argv[2], argv[3]);
    else if (!strcmp(mode, "ideal-shell"))
        s_ideal_shell();
    else if (!strcmp(mode, "pnode") && argc == 5)
        return s_pnode(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
    else if (!strcmp(mode, "pingtree") && argc == 5)
        s_pingtree(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
    else if (!strcmp(mode, "reap") && argc == 3)
        s_reap_floor(atoi(argv[2]));
    else if (!strcmp(mode, "hbnode") && argc == 5)
        return s_hbnode(argv[2], argv[3], atoi(argv[4]));
    else if (!strcmp(mode, "rtt") && argc == 4)
        s_round_trips(!strcmp(argv[2], "tcp") ? "rtt_tcp" : "rtt_ipc", 1,
                      !strcmp(argv[2], "tcp"), atoi(argv[3]));
    else if (!strcmp(mode, "chain") && argc == 4) {
        char name[32];
        snprintf(name, sizeof name, "chain_%d", atoi(argv[2]));
        s_round_trips(name, atoi(argv[2]), false, atoi(argv[3]));
    } else if (!strcmp(mode, "pipeline") && argc == 5)
        s_pipeline(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
    else if (!strcmp(mode, "transfer") && argc == 4)
        s_transfer((size_t)atol(argv[2]), atoi(argv[3]));
    else if (!strcmp(mode, "spawn") && argc == 3)
        s_spawn_floor(atoi(argv[2]), "spawn", false);
    else if (!strcmp(mode, "idle") && argc == 3)
        s_spawn_floor(atoi(argv[2]), "idle", true);
    else if (!strcmp(mode, "parse") && argc == 3)
        s_parse(atol(argv[2]));
    else if (!strcmp(mode, "netchain") && argc >= 7)
        s_netchain(atoi(argv[2]), atoi(argv[3]), argv[4], argv[5], argv + 6, argc - 6);
    else if (!strcmp(mode, "netspawn") && argc == 6)
        s_netspawn(atoi(argv[2]), argv[3], argv[4], argv[5]);
    else if (!strcmp(mode, "hbtree") && argc == 5)
        s_hbtree(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
    else {
        fprintf(stderr, "floor: bad arguments for %s\n", mode);
        rc = 2;
    }
    if (!dir) {
        char *command = zsys_sprintf("rm -rf '%s'", s_dir);
        if (system(command) != 0)
            rc = rc ? rc : 1;
        free(command);
    }
    return rc;
}
