/*  op_runner — the op thread of a worker (see op_runner.h): owns the thread, its
    start on the first op and stop when idle, and the pipe of EXEC in, REPLY out. */
#include "op_runner.h"

#include <pthread.h>
#include <stdatomic.h>

//  Ops on at most this much argument text cost microseconds: less than the two
//  thread wake-ups of a trip to the op thread.
#define INLINE_ARGS_MAX 256

#include "../common/log.h"
#include "../common/wire.h"
#include "ops.h"

static void s_free_result(void *data, void *hint)
{
    (void)hint;
    free(data);
}

//  Runs one EXEC and returns its result (a REPLY), or drops it if its deadline
//  passed while it waited (NULL).
static wire_msg_t *s_run_one(ops_t *ops, wire_msg_t *exec)
{
    if (exec->deadline_us && wire_now_us() > exec->deadline_us) {
        //  Its requester has been told it failed: it must never run.
        log_debug("dropped an exec whose deadline passed while it waited");
        return NULL;
    }
    char *op = wire_bytes_strdup(&exec->op);
    char *result = NULL;
    size_t size;
    ops_set_deadline(ops, exec->deadline_us);
    int rc = ops_run(ops, op, (const char *)exec->text.data, exec->text.size, &result, &size);
    free(op);
    wire_msg_t *reply = wire_msg_new(WIRE_REPLY);
    reply->request_id = exec->request_id;
    reply->status = rc == 0 ? WIRE_OK : WIRE_ERROR;
    wire_bytes_give(&reply->text, result, size, s_free_result, NULL);
    return reply;
}

struct _op_runner_t {
    zsock_t *loop_end;
    zsock_t *thread_end;
    pthread_t thread;
    bool running; //  the thread is started (the loop's to change)
    ops_t *ops;   //  the node's ops state; the thread's while ops are pending
    //  Submitted and not yet run or dropped: the thread counts them down, so the
    //  loop may run a small op itself only when the thread is idle and order holds.
    atomic_size_t pending;
    //  Results the thread sent, counted before each is sent, and those the loop
    //  read: while they differ, a result is on its way.
    atomic_size_t sent;
    size_t read;
};

static void *s_runner(void *arg)
{
    op_runner_t *self = (op_runner_t *)arg;
    zsock_t *pipe = self->thread_end;
    ops_t *ops = self->ops;
    while (true) {
        zmsg_t *msg = zmsg_recv(pipe);
        wire_msg_t *exec = NULL;
        const char *reason;
        //  EXECs only; anything else is the loop saying goodbye.
        if (!msg || wire_decode(&msg, &exec, &reason) != 0 || exec->type != WIRE_EXEC) {
            wire_msg_destroy(&exec);
            break;
        }
        wire_msg_t *reply = s_run_one(ops, exec);
        wire_msg_destroy(&exec);
        //  Done with it before the loop hears so: once the result is read, the
        //  thread is idle if nothing else is pending.
        atomic_fetch_sub(&self->pending, 1);
        if (reply) {
            atomic_fetch_add(&self->sent, 1);
            wire_send(pipe, NULL, &reply);
        }
    }
    return NULL;
}

static zsock_t *s_pipe_end(const char *endpoint, bool bind)
{
    zsock_t *sock = zsock_new(ZMQ_PAIR);
    if (!sock)
        return NULL; //  out of descriptors or sockets: the caller fails cleanly
    //  Unbounded, before the bind or connect that fixes the pipe's limits.
    zsock_set_sndhwm(sock, 0);
    zsock_set_rcvhwm(sock, 0);
    //  The loop's end is read by the loop, never waited on (wire_recv's fast path);
    //  the thread waits on its own.
    if (bind)
        zsock_set_rcvtimeo(sock, 0);
    int rc =
        bind ? zsock_bind(sock, "%s", endpoint) : zsock_connect(sock, "%s", endpoint);
    if (rc < 0)
        zsock_destroy(&sock);
    return sock;
}

op_runner_t *op_runner_new(void)
{
    op_runner_t *self = (op_runner_t *)zmalloc(sizeof(op_runner_t));
    //  A name never used before in this process: a runner made where a destroyed
    //  one lay would find its address's name still bound for a moment.
    static _Atomic unsigned long runners = 0;
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://op-runner-%lu", ++runners);
    self->ops = ops_new();
    self->loop_end = s_pipe_end(endpoint, true);
    self->thread_end = s_pipe_end(endpoint, false);
    if (!self->loop_end || !self->thread_end) {
        ops_destroy(&self->ops);
        zsock_destroy(&self->loop_end);
        zsock_destroy(&self->thread_end);
        free(self);
        return NULL;
    }
    return self;
}

//  Ends the thread, if started, once its current op is done.
static void s_end_thread(op_runner_t *self)
{
    if (!self->running)
        return;
    zstr_send(self->loop_end, "$TERM");
    pthread_join(self->thread, NULL);
    self->running = false;
}

void op_runner_destroy(op_runner_t **self_p)
{
    op_runner_t *self = *self_p;
    if (!self)
        return;
    s_end_thread(self);
    ops_destroy(&self->ops);
    zsock_destroy(&self->loop_end);
    zsock_destroy(&self->thread_end);
    free(self);
    *self_p = NULL;
}

void op_runner_set_run(op_runner_t *self, bool allowed)
{
    ops_set_run(self->ops, allowed);
}

void op_runner_set_reply_max(op_runner_t *self, size_t bytes)
{
    //  Before any op is submitted: the pipe's messages order this write before the
    //  op thread's reads.
    ops_set_reply_max(self->ops, bytes);
}

zsock_t *op_runner_sock(op_runner_t *self)
{
    return self->loop_end;
}

//  The thread's stack: ops keep their data on the heap.
#define THREAD_STACK (256 * 1024)

int op_runner_submit(op_runner_t *self, wire_msg_t **exec)
{
    if (!self->running) {
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setstacksize(&attributes, THREAD_STACK);
        int rc = pthread_create(&self->thread, &attributes, s_runner, self);
        pthread_attr_destroy(&attributes);
        if (rc != 0)
            return -1;
        self->running = true;
    }
    atomic_fetch_add(&self->pending, 1);
    wire_send(self->loop_end, NULL, exec);
    return 0;
}

int op_runner_recv(op_runner_t *self, wire_msg_t **reply)
{
    const char *reason;
    int rc = wire_recv(self->loop_end, NULL, 0, reply, &reason);
    if (rc >= 0)
        self->read++;
    return rc;
}

bool op_runner_busy(op_runner_t *self)
{
    return atomic_load(&self->pending) || atomic_load(&self->sent) != self->read;
}

void op_runner_stop(op_runner_t *self)
{
    if (!op_runner_busy(self))
        s_end_thread(self);
}

bool op_runner_running(op_runner_t *self)
{
    return self->running;
}

int op_runner_run_here(op_runner_t *self, const wire_msg_t *exec, char **result)
{
    const wire_bytes_t *op = &exec->op, *args = &exec->text;
    //  sleep and run wait: never on the loop.
    if (atomic_load(&self->pending) || args->size > INLINE_ARGS_MAX || op->size >= 16 ||
        wire_bytes_eq(op, "sleep") || wire_bytes_eq(op, "run"))
        return -2;
    char name[16];
    memcpy(name, op->data, op->size);
    name[op->size] = '\0';
    return ops_run(self->ops, name, (const char *)args->data, args->size, result, NULL);
}
