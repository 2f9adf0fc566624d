/*  op_runner — the op thread of a worker (see op_runner.h). */
#include "op_runner.h"

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

static void s_runner(zsock_t *pipe, void *unused)
{
    (void)unused;
    ops_t *ops = ops_new();
    zsock_signal(pipe, 0);
    while (true) {
        zmsg_t *msg = zmsg_recv(pipe);
        if (!msg)
            break;
        //  The actor's own commands are one-frame strings; requests have four frames.
        if (zmsg_size(msg) != 4) {
            zmsg_destroy(&msg);
            break; //  $TERM
        }
        s_run_one(ops, pipe, msg);
        zmsg_destroy(&msg);
    }
    ops_destroy(&ops);
}

zactor_t *op_runner_new(void)
{
    return zactor_new(s_runner, NULL);
}

void op_runner_submit(zactor_t *runner, uint64_t request_id, int64_t deadline_ms,
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
    zmsg_send(&msg, runner);
}
