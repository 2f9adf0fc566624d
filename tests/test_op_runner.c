/*  Unit test: the op thread — results in order, ops run on the loop only while the
    thread is idle, and an exec whose deadline passed is dropped unrun but still
    reported to the loop, so the loop's count of ops on the thread stays right. */
#include "../worker/op_runner.h"
#include "check.h"

#include <czmq.h>

#include "../common/wire.h"

//  Waits for one message from the runner, at most a generous while: a test fails
//  instead of hanging.
static zmsg_t *s_result(op_runner_t *runner)
{
    zpoller_t *poller = zpoller_new(op_runner_sock(runner), NULL);
    zsock_t *ready = (zsock_t *)zpoller_wait(poller, 10000);
    zpoller_destroy(&poller);
    return ready ? zmsg_recv(ready) : NULL;
}

static void s_submit(op_runner_t *runner, uint64_t id, int64_t deadline, const char *op,
                     const char *args)
{
    zframe_t *op_frame = zframe_new(op, strlen(op));
    zframe_t *args_frame = zframe_new(args, strlen(args));
    op_runner_submit(runner, id, deadline, &op_frame, &args_frame);
}

static int s_run_here(op_runner_t *runner, const char *op, const char *args,
                      char **result)
{
    zframe_t *op_frame = zframe_new(op, strlen(op));
    zframe_t *args_frame = zframe_new(args, strlen(args));
    int rc = op_runner_run_here(runner, op_frame, args_frame, result);
    zframe_destroy(&op_frame);
    zframe_destroy(&args_frame);
    return rc;
}

static void s_results_in_order(void)
{
    op_runner_t *runner = op_runner_new();
    CHECK(runner != NULL);
    s_submit(runner, 7, 0, "sum", "2 1 1");
    s_submit(runner, 8, 0, "sum", "1 x");
    //  While ops are on the thread, nothing runs on the loop: order is kept.
    char *result = NULL;
    CHECK(s_run_here(runner, "sum", "1 1", &result) == -2 && result == NULL);
    zmsg_t *first = s_result(runner), *second = s_result(runner);
    CHECK(first && zmsg_size(first) == 3 && second && zmsg_size(second) == 3);
    if (first && second) {
        CHECK(wire_get_u64(zframe_data(zmsg_first(first))) == 7);
        CHECK(*zframe_data(zmsg_next(first)) == WIRE_OK);
        CHECK(zframe_streq(zmsg_next(first), "2"));
        CHECK(wire_get_u64(zframe_data(zmsg_first(second))) == 8);
        CHECK(*zframe_data(zmsg_next(second)) == WIRE_ERROR);
    }
    zmsg_destroy(&first);
    zmsg_destroy(&second);
    op_runner_taken(runner);
    op_runner_taken(runner);
    CHECK(s_run_here(runner, "sum", "2 20 22", &result) == 0);
    CHECK_STR(result, "42");
    free(result);
    op_runner_destroy(&runner);
    CHECK(runner == NULL);
}

static void s_expired_exec_dropped(void)
{
    op_runner_t *runner = op_runner_new();
    //  A set whose deadline has passed must never take effect, and the loop must
    //  still hear that the thread is done with it.
    s_submit(runner, 9, wire_now_us() - 1, "set", "X 5");
    zmsg_t *dropped = s_result(runner);
    CHECK(dropped && zmsg_size(dropped) == 1);
    if (dropped)
        CHECK(wire_get_u64(zframe_data(zmsg_first(dropped))) == 9);
    zmsg_destroy(&dropped);
    op_runner_taken(runner);
    //  The thread is idle again: small ops run on the loop, and the set never ran.
    char *result = NULL;
    CHECK(s_run_here(runner, "get", "X", &result) == 0);
    CHECK_STR(result, "'X' not found");
    free(result);
    op_runner_destroy(&runner);
}

int main(void)
{
    zsys_init();
    zsys_handler_set(NULL);
    s_results_in_order();
    s_expired_exec_dropped();
    return check_report("op_runner");
}
