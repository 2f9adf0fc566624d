/*  op_runner — the op thread of a worker (see op_runner.h). */
#include "op_runner.h"

#include <pthread.h>

//  Ops on at most this much argument text cost microseconds: less than the two
//  thread wake-ups of a trip to the op thread.
#define INLINE_ARGS_MAX 256

#include "../common/log.h"
#include "../common/wire.h"
#include "ops.h"

static void s_run_one(ops_t *ops, zsock_t *pipe, zmsg_t *msg)
{
    zframe_t *id_frame = zmsg_pop(msg);
    zframe_t *deadline_frame = zmsg_pop(msg);
    zframe_t *op_frame = zmsg_pop(msg);
    zframe_t *args_frame = zmsg_pop(msg);
    int64_t deadline = (int64_t)wire_get_u64(zframe_data(deadline_frame));
    if (deadline && wire_now_us() > deadline) {
        //  Its requester has been told it failed: it must never run. The loop
        //  still hears of it (one frame, the id), so that its count of execs on
        //  this thread is right and small ops run on the loop again.
        log_debug("dropped an exec whose deadline passed while it waited");
        zmsg_t *dropped = zmsg_new();
        zmsg_append(dropped, &id_frame);
        zmsg_send(&dropped, pipe);
        goto done;
    }
    char *op = zframe_strdup(op_frame);
    char *result = NULL;
    int rc = ops_run(ops, op, (const char *)zframe_data(args_frame),
                     zframe_size(args_frame), &result);
    byte status = rc == 0 ? WIRE_OK : WIRE_ERROR;
    zmsg_t *reply = zmsg_new();
    zmsg_append(reply, &id_frame);
    zmsg_addmem(reply, &status, 1);
    zmsg_addmem(reply, result, strlen(result));
    zmsg_send(&reply, pipe);
    free(result);
    free(op);
done:
    zframe_destroy(&id_frame);
    zframe_destroy(&deadline_frame);
    zframe_destroy(&op_frame);
    zframe_destroy(&args_frame);
}

struct _op_runner_t {
    zsock_t *loop_end;
    zsock_t *thread_end;
    pthread_t thread;
    ops_t *ops;     //  the node's ops state; the thread's while ops are pending
    size_t pending; //  submitted, result not yet taken back by the loop
};

static void *s_runner(void *arg)
{
    op_runner_t *self = (op_runner_t *)arg;
    zsock_t *pipe = self->thread_end;
    ops_t *ops = self->ops;
    while (true) {
        zmsg_t *msg = zmsg_recv(pipe);
        if (!msg)
            break;
        //  Requests have four frames; anything else is the loop saying goodbye.
        if (zmsg_size(msg) != 4) {
            zmsg_destroy(&msg);
            break;
        }
        s_run_one(ops, pipe, msg);
        zmsg_destroy(&msg);
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
    if (!self->loop_end || !self->thread_end ||
        pthread_create(&self->thread, NULL, s_runner, self) != 0) {
        ops_destroy(&self->ops);
        zsock_destroy(&self->loop_end);
        zsock_destroy(&self->thread_end);
        free(self);
        return NULL;
    }
    return self;
}

void op_runner_destroy(op_runner_t **self_p)
{
    op_runner_t *self = *self_p;
    if (!self)
        return;
    zstr_send(self->loop_end, "$TERM");
    pthread_join(self->thread, NULL);
    ops_destroy(&self->ops);
    zsock_destroy(&self->loop_end);
    zsock_destroy(&self->thread_end);
    free(self);
    *self_p = NULL;
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

void op_runner_submit(op_runner_t *self, uint64_t request_id, int64_t deadline_us,
                      zframe_t **op, zframe_t **args)
{
    byte encoded[8];
    zmsg_t *msg = zmsg_new();
    wire_put_u64(encoded, request_id);
    zmsg_addmem(msg, encoded, 8);
    wire_put_u64(encoded, (uint64_t)deadline_us);
    zmsg_addmem(msg, encoded, 8);
    zmsg_append(msg, op);
    zmsg_append(msg, args);
    zmsg_send(&msg, self->loop_end);
    self->pending++;
}

void op_runner_taken(op_runner_t *self)
{
    self->pending--;
}

int op_runner_run_here(op_runner_t *self, zframe_t *op, zframe_t *args, char **result)
{
    if (self->pending || zframe_size(args) > INLINE_ARGS_MAX || zframe_size(op) >= 16)
        return -2;
    char name[16];
    memcpy(name, zframe_data(op), zframe_size(op));
    name[zframe_size(op)] = '\0';
    if (!strcmp(name, "sleep"))
        return -2;
    return ops_run(self->ops, name, (const char *)zframe_data(args), zframe_size(args),
                   result);
}
