/*  op_runner — the op thread of a worker (see op_runner.h). */
#include "op_runner.h"

#include <pthread.h>

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
    if (deadline && zclock_mono() > deadline) {
        log_debug("dropped an exec whose deadline passed while it waited");
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
};

static void *s_runner(void *arg)
{
    zsock_t *pipe = (zsock_t *)arg;
    ops_t *ops = ops_new();
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
    ops_destroy(&ops);
    return NULL;
}

static zsock_t *s_pipe_end(const char *endpoint, bool bind)
{
    zsock_t *sock = zsock_new(ZMQ_PAIR);
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
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://op-runner-%p", (void *)self);
    self->loop_end = s_pipe_end(endpoint, true);
    self->thread_end = s_pipe_end(endpoint, false);
    if (!self->loop_end || !self->thread_end ||
        pthread_create(&self->thread, NULL, s_runner, self->thread_end) != 0) {
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
    zsock_destroy(&self->loop_end);
    zsock_destroy(&self->thread_end);
    free(self);
    *self_p = NULL;
}

zsock_t *op_runner_sock(op_runner_t *self)
{
    return self->loop_end;
}

void op_runner_submit(op_runner_t *self, uint64_t request_id, int64_t deadline_ms,
                      zframe_t **op, zframe_t **args)
{
    byte encoded[8];
    zmsg_t *msg = zmsg_new();
    wire_put_u64(encoded, request_id);
    zmsg_addmem(msg, encoded, 8);
    wire_put_u64(encoded, (uint64_t)deadline_ms);
    zmsg_addmem(msg, encoded, 8);
    zmsg_append(msg, op);
    zmsg_append(msg, args);
    zmsg_send(&msg, self->loop_end);
}
