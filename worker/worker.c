/*  worker — one node process: the node core (node/node.h) with the op thread behind
    it, plus what only a process has: SIGCHLD from a signalfd, and watching its
    parent process (see worker.h). */
#include "worker.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../common/coverage.h"
#include "../common/loop.h"
#include "../common/process.h"
#include "../node/node.h"
#include "join.h"
#include "op_runner.h"
#include "ops.h"

//  Without a pidfd of the parent, how often the loop checks that its parent process
//  is still the one that spawned it. PR_SET_PDEATHSIG does the real work; this
//  catches what it cannot (README, How it works).
#define PARENT_CHECK_MS 500
//  Results taken from the op thread per wake-up, so no socket starves the others.
#define BATCH 256
//  The op thread ends after this long without an op; the next one starts another.
#define RUNNER_IDLE_MS 2000

struct _worker_t {
    worker_config_t config;
    loop_t *loop;
    node_t *node;
    op_runner_t *runner;
    bool runner_read; //  the loop reads the op thread's results: it may send some
    int runner_idle;  //  the timer that ends the idle op thread (0: none)
    char *worker_path;
    bool flush_due; //  coverage builds: counts to write (s_woken)
    zsock_t *link_monitor; //  joined: the parent link's connection events
    int link_timer;        //  joined: the link is down; the grace ends then (0: up)
    int exit_code;
};

#define LINK_MONITOR "inproc://mqtree-link-monitor"

//  --- A joined worker: no parent process, so its link is its life -----------------

static int s_on_welcome_due(loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    worker_t *self = (worker_t *)arg;
    if (node_parent_heard(self->node))
        return 0;
    fprintf(stderr, "mqtree-worker: node %d was not taken in by its parent at %s\n",
            self->config.id, self->config.parent_endpoint);
    self->exit_code = 1;
    return -1;
}

static int s_on_link_lost(loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    ((worker_t *)arg)->link_timer = 0;
    log_info("the link to the parent was down for %d ms; leaving", JOIN_LINK_GRACE_MS);
    return -1;
}

static int s_on_link_event(loop_t *loop, zsock_t *reader, void *arg)
{
    worker_t *self = (worker_t *)arg;
    zmsg_t *event = zmsg_recv(reader);
    zframe_t *first = event ? zmsg_first(event) : NULL;
    if (first && zframe_size(first) >= 2) {
        uint16_t kind = (uint16_t)(zframe_data(first)[0] | zframe_data(first)[1] << 8);
        if (kind == ZMQ_EVENT_DISCONNECTED && !self->link_timer)
            self->link_timer = loop_timer(loop, JOIN_LINK_GRACE_MS, 1, s_on_link_lost, self);
        else if (kind == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && self->link_timer) {
            loop_timer_end(loop, self->link_timer);
            self->link_timer = 0;
        } else if (kind == ZMQ_EVENT_CONNECT_RETRIED &&
                   (self->link_timer || !node_parent_heard(self->node))) {
            //  A connect that failed at once: the parent's host said no one listens
            //  there any more (a cut link never answers). The parent is gone, also
            //  when it went before this worker ever reached it (the controller told
            //  it where its parent was, then died): not 10 s of waiting for a welcome.
            zmsg_destroy(&event);
            if (!node_parent_heard(self->node)) {
                fprintf(stderr, "mqtree-worker: node %d: its parent at %s is gone\n",
                        self->config.id, self->config.parent_endpoint);
                self->exit_code = 1;
            } else
                log_info("the parent's endpoint refuses connections; leaving");
            return -1;
        }
    }
    zmsg_destroy(&event);
    return 0;
}

static void s_watch_link(worker_t *self)
{
    zmq_socket_monitor(zsock_resolve(node_upstream(self->node)), LINK_MONITOR,
                       ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                           ZMQ_EVENT_CONNECT_RETRIED);
    self->link_monitor = zsock_new_pair(">" LINK_MONITOR);
    if (self->link_monitor) {
        loop_reader(self->loop, self->link_monitor, s_on_link_event, self);
        loop_reader_set_own(self->loop, self->link_monitor);
    }
    loop_timer(self->loop, JOIN_WAIT_MS, 1, s_on_welcome_due, self);
}

#ifdef MQTREE_COVERAGE
static int s_on_coverage_flush(loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    ((worker_t *)arg)->flush_due = false;
    coverage_flush();
    return 0;
}
#endif

//  A coverage build's worker never reaches exit(), where gcov writes its counts (it
//  ends by SIGKILL): it writes them itself COVERAGE_FLUSH_MS after it is woken, and
//  not while idle (coverage.h). In other builds this is nothing.
static void s_woken(void *owner)
{
#ifdef MQTREE_COVERAGE
    worker_t *self = (worker_t *)owner;
    if (!self->flush_due) {
        self->flush_due = true;
        loop_timer(self->loop, COVERAGE_FLUSH_MS, 1, s_on_coverage_flush, self);
    }
#else
    (void)owner;
#endif
}

static int s_on_runner_idle(loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    worker_t *self = (worker_t *)arg;
    self->runner_idle = 0;
    op_runner_stop(self->runner);
    return 0;
}

//  Results of the op thread go up as they come, a batch per wake-up: a burst of
//  small ops must not wait a poll round each on its way to the controller, whose
//  deadline is running.
static int s_on_runner(loop_t *loop, zsock_t *reader, void *arg)
{
    (void)reader;
    worker_t *self = (worker_t *)arg;
    for (int count = 0; count < BATCH; count++) {
        wire_msg_t *reply;
        if (op_runner_recv(self->runner, &reply) < 0)
            break;
        if (!reply)
            continue; //  cannot happen: the thread speaks wire
        node_op_reply(self->node, &reply);
    }
    //  Idle: nothing more can come, so the loop stops asking (a socket in the poll
    //  set costs system calls on every turn), and the thread ends unless work comes.
    if (!op_runner_busy(self->runner)) {
        loop_reader_end(loop, op_runner_sock(self->runner));
        self->runner_read = false;
        self->runner_idle = loop_timer(loop, RUNNER_IDLE_MS, 1, s_on_runner_idle, self);
    }
    s_woken(self);
    return 0;
}

//  Hands an exec to the op thread; the loop reads its results until it is idle.
static void s_submit(worker_t *self, wire_msg_t **msg)
{
    uint64_t request_id = (*msg)->request_id;
    if (op_runner_submit(self->runner, msg) != 0) {
        const char *error = "Cannot start the op thread";
        node_reply(self->node, request_id, WIRE_ERROR, error, strlen(error));
        wire_msg_destroy(msg);
        return;
    }
    if (self->runner_idle) {
        loop_timer_end(self->loop, self->runner_idle);
        self->runner_idle = 0;
    }
    if (!self->runner_read) {
        loop_reader(self->loop, op_runner_sock(self->runner), s_on_runner, self);
        self->runner_read = true;
    }
}

static bool s_op_changes(const wire_bytes_t *op)
{
    return ops_changes((const char *)op->data, op->size);
}

//  An EXEC for this node: a small op runs here when the op thread is idle (a trip
//  to the thread costs more than the op); the rest go to the thread, in order.
static void s_on_exec(void *owner, wire_msg_t **msg)
{
    worker_t *self = (worker_t *)owner;
    char *result = NULL;
    int rc = op_runner_run_here(self->runner, *msg, &result);
    if (rc == -2) {
        s_submit(self, msg);
        return;
    }
    node_reply(self->node, (*msg)->request_id, rc == 0 ? WIRE_OK : WIRE_ERROR, result,
               strlen(result));
    free(result);
}

static int s_on_signal(loop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    worker_t *self = (worker_t *)arg;
    while (process_signalfd_read(item->fd) > 0)
        ;
    node_reap(self->node);
    return 0;
}

static int s_on_parent_check(loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    worker_t *self = (worker_t *)arg;
    if (getppid() != self->config.parent_pid) {
        log_info("parent process %d is gone; exiting", (int)self->config.parent_pid);
        return -1;
    }
    return 0;
}

static int s_on_parent_exit(loop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    worker_t *self = (worker_t *)arg;
    log_info("parent process %d is gone; exiting", (int)self->config.parent_pid);
    return -1;
}

//  The link pipe from the parent node (on another host, through its launcher): its
//  end is the parent's, or the launcher's, or the link's. Bytes after the first
//  lines mean nothing and are read away.
static int s_on_link(loop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)arg;
    char buffer[256];
    ssize_t got = read(item->fd, buffer, sizeof buffer);
    if (got > 0 || (got < 0 && (errno == EINTR || errno == EAGAIN)))
        return 0;
    log_info("the link to the parent closed; exiting");
    return -1;
}

worker_t *worker_new(const worker_config_t *config)
{
    worker_t *self = (worker_t *)zmalloc(sizeof(worker_t));
    self->config = *config;
    self->worker_path = process_worker_path();
    if (!self->worker_path) {
        log_error("cannot find mqtree-worker next to this binary");
        goto error;
    }
    self->loop = loop_new();
    node_config_t node_config = {
        .id = config->id,
        .parent_endpoint = config->parent_endpoint,
        .route = config->route,
        .children = {.worker_path = self->worker_path,
                     .run_dir = config->run_dir,
                     .tree = config->tree},
    };
    node_handlers_t handlers = {
        .on_exec = s_on_exec, .on_woken = s_woken, .op_changes = s_op_changes};
    self->node = node_new(&node_config, self->loop, &handlers, self);
    if (!self->node)
        goto error;
    self->runner = op_runner_new();
    if (!self->runner) {
        log_error("cannot start the op thread");
        goto error;
    }
    op_runner_set_reply_max(self->runner, config->tree.max_reply);
    op_runner_set_run(self->runner, config->tree.allow_run);
    zmq_pollitem_t signals = {NULL, config->signal_fd, ZMQ_POLLIN, 0};
    loop_poller(self->loop, &signals, s_on_signal, self);
    if (config->stdin_link) {
        zmq_pollitem_t link = {NULL, STDIN_FILENO, ZMQ_POLLIN, 0};
        loop_poller(self->loop, &link, s_on_link, self);
    }
    if (config->joined)
        s_watch_link(self);
    else if (config->parent_fd >= 0) {
        zmq_pollitem_t parent = {NULL, config->parent_fd, ZMQ_POLLIN, 0};
        loop_poller(self->loop, &parent, s_on_parent_exit, self);
    } else
        loop_timer(self->loop, PARENT_CHECK_MS, 0, s_on_parent_check, self);
    return self;
error:
    worker_destroy(&self);
    return NULL;
}

void worker_destroy(worker_t **self_p)
{
    worker_t *self = *self_p;
    if (!self)
        return;
    if (self->link_monitor) {
        zmq_socket_monitor(zsock_resolve(node_upstream(self->node)), NULL, 0);
        zsock_destroy(&self->link_monitor);
    }
    node_destroy(&self->node);
    loop_destroy(&self->loop);
    op_runner_destroy(&self->runner);
    free(self->worker_path);
    free(self);
    *self_p = NULL;
}

int worker_run(worker_t *self)
{
    node_start(self->node);
    loop_start(self->loop);
    return self->exit_code;
}
