/*  Unit test: the op thread — results in order, ops run on the loop only while the
    thread is idle, and an exec whose deadline passed is dropped unrun, with no
    result, and the thread counts it done, so small ops run on the loop again. */
#include "../worker/op_runner.h"
#include "check.h"

#include <czmq.h>

#include "../common/wire.h"

//  Waits for one result from the runner, at most a generous while: a test fails
//  instead of hanging.
static wire_msg_t *s_result(op_runner_t *runner)
{
    zpoller_t *poller = zpoller_new(op_runner_sock(runner), NULL);
    zsock_t *ready = (zsock_t *)zpoller_wait(poller, 10000);
    zpoller_destroy(&poller);
    wire_msg_t *result = NULL;
    const char *reason;
    if (ready)
        CHECK(wire_recv(ready, NULL, 0, &result, &reason) == 1);
    return result;
}

static wire_msg_t *s_exec(uint64_t id, int64_t deadline, const char *op,
                          const char *args)
{
    wire_msg_t *exec = wire_msg_new(WIRE_EXEC);
    exec->request_id = id;
    exec->deadline_us = deadline;
    wire_bytes_copy(&exec->op, op, strlen(op));
    wire_bytes_copy(&exec->text, args, strlen(args));
    return exec;
}

static void s_submit(op_runner_t *runner, uint64_t id, int64_t deadline, const char *op,
                     const char *args)
{
    wire_msg_t *exec = s_exec(id, deadline, op, args);
    CHECK(op_runner_submit(runner, &exec) == 0);
    CHECK(exec == NULL);
}

static int s_run_here(op_runner_t *runner, const char *op, const char *args,
                      char **result)
{
    wire_msg_t *exec = s_exec(1, 0, op, args);
    int rc = op_runner_run_here(runner, exec, result);
    wire_msg_destroy(&exec);
    return rc;
}

static void s_results_in_order(void)
{
    op_runner_t *runner = op_runner_new();
    CHECK(runner != NULL);
    s_submit(runner, 7, 0, "sum", "2 1 1");
    s_submit(runner, 8, 0, "sum", "1 x");
    //  While ops are on the thread, nothing runs on the loop: order is kept. (The
    //  thread may be done with both already; then the loop may run it.)
    wire_msg_t *first = s_result(runner), *second = s_result(runner);
    CHECK(first && first->type == WIRE_REPLY && second && second->type == WIRE_REPLY);
    if (first && second) {
        CHECK(first->request_id == 7 && first->status == WIRE_OK);
        CHECK(wire_bytes_eq(&first->text, "2"));
        CHECK(second->request_id == 8 && second->status == WIRE_ERROR);
    }
    wire_msg_destroy(&first);
    wire_msg_destroy(&second);
    char *result = NULL;
    CHECK(s_run_here(runner, "sum", "2 20 22", &result) == 0);
    CHECK_STR(result, "42");
    free(result);
    op_runner_destroy(&runner);
    CHECK(runner == NULL);
}

static void s_busy_thread_keeps_order(void)
{
    op_runner_t *runner = op_runner_new();
    s_submit(runner, 5, 0, "sleep", "1000");
    char *result = NULL;
    //  A sleep of a second (ops count ms) is still running: a small op may not
    //  overtake it, however fast the thread is scheduled (valgrind runs it first).
    CHECK(s_run_here(runner, "get", "X", &result) == -2 && result == NULL);
    wire_msg_t *slept = s_result(runner);
    CHECK(slept && slept->request_id == 5);
    wire_msg_destroy(&slept);
    op_runner_destroy(&runner);
}

static void s_expired_exec_dropped(void)
{
    op_runner_t *runner = op_runner_new();
    //  A set whose deadline has passed must never take effect, and no result comes
    //  back for it: the next op's result is the first.
    s_submit(runner, 9, wire_now_us() - 1, "set", "X 5");
    s_submit(runner, 10, 0, "get", "X");
    wire_msg_t *next = s_result(runner);
    CHECK(next && next->request_id == 10 && wire_bytes_eq(&next->text, "'X' not found"));
    wire_msg_destroy(&next);
    //  The thread is idle again: small ops run on the loop, and the set never ran.
    char *result = NULL;
    CHECK(s_run_here(runner, "get", "X", &result) == 0);
    CHECK_STR(result, "'X' not found");
    free(result);
    op_runner_destroy(&runner);
}

//  Waits for a result as the worker reads them (op_runner_recv counts them).
static wire_msg_t *s_counted_result(op_runner_t *runner)
{
    zpoller_t *poller = zpoller_new(op_runner_sock(runner), NULL);
    bool ready = zpoller_wait(poller, 10000) != NULL;
    zpoller_destroy(&poller);
    wire_msg_t *result = NULL;
    if (ready)
        CHECK(op_runner_recv(runner, &result) == 1);
    return result;
}

//  No thread until an op needs one; stopped only when nothing can come back.
static void s_thread_on_demand(void)
{
    op_runner_t *runner = op_runner_new();
    CHECK(!op_runner_running(runner) && !op_runner_busy(runner));
    char *result = NULL;
    CHECK(s_run_here(runner, "set", "k 1", &result) == 0);
    free(result);
    CHECK(!op_runner_running(runner));
    s_submit(runner, 1, 0, "sleep", "300");
    CHECK(op_runner_running(runner) && op_runner_busy(runner));
    //  Busy: a stop is refused.
    op_runner_stop(runner);
    CHECK(op_runner_running(runner));
    wire_msg_t *slept = s_counted_result(runner);
    CHECK(slept && slept->request_id == 1);
    wire_msg_destroy(&slept);
    CHECK(!op_runner_busy(runner));
    op_runner_stop(runner);
    CHECK(!op_runner_running(runner));
    //  Another thread for the next op, on the same state.
    s_submit(runner, 2, 0, "get", "k");
    CHECK(op_runner_running(runner));
    wire_msg_t *got = s_counted_result(runner);
    CHECK(got && got->request_id == 2 && wire_bytes_eq(&got->text, "1"));
    wire_msg_destroy(&got);
    //  A dropped exec gives no result: not busy once the thread passed it.
    s_submit(runner, 3, wire_now_us() - 1, "set", "k 2");
    s_submit(runner, 4, 0, "get", "k");
    got = s_counted_result(runner);
    CHECK(got && got->request_id == 4 && wire_bytes_eq(&got->text, "1"));
    wire_msg_destroy(&got);
    CHECK(!op_runner_busy(runner));
    op_runner_destroy(&runner);
}

int main(void)
{
    zsys_init();
    zsys_handler_set(NULL);
    s_results_in_order();
    s_busy_thread_keeps_order();
    s_expired_exec_dropped();
    s_thread_on_demand();
    return check_report("op_runner");
}
