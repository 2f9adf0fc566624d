/*  Unit test: one worker's routing loop, driven from this process. The test is the
    worker's parent: a ROUTER on an inproc endpoint, in the same ZeroMQ context, that
    hears the HELLO and sends requests as a parent would. Deadlines in the past are
    real past times, so nothing here sleeps; every receive has a deadline, so a test
    fails instead of hanging. The worker's loop runs on its own thread and ends when
    its "parent process" descriptor (a pipe here) closes. */
#define _GNU_SOURCE
#include "../worker/worker.h"
#include "check.h"

#include <czmq.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "../common/wire.h"
#include "../node/fold.h"

#define ID 5
//  Generous: a loaded machine under ASan must not fail a test that works.
#define RECEIVE_MS 10000

static zsock_t *s_parent;
static uint64_t s_next_request = 1;

static void *s_run(void *arg)
{
    worker_run((worker_t *)arg);
    return NULL;
}

//  The next message from the worker, decoded; NULL if none came in time.
static wire_msg_t *s_receive(int timeout_ms)
{
    zpoller_t *poller = zpoller_new(s_parent, NULL);
    void *ready = zpoller_wait(poller, timeout_ms);
    zpoller_destroy(&poller);
    if (!ready)
        return NULL;
    char route[16];
    wire_msg_t *msg = NULL;
    const char *reason = NULL;
    CHECK(wire_recv(s_parent, route, sizeof route, &msg, &reason) == 1);
    CHECK_STR(route, "5");
    return msg;
}

//  Sends a request for the worker itself (empty path).
static uint64_t s_request(int type, int64_t deadline_us, const char *op, const char *args)
{
    wire_msg_t *msg = wire_msg_new((wire_type_t)type);
    msg->request_id = s_next_request++;
    msg->deadline_us = deadline_us;
    msg->node = ID;
    if (type == WIRE_EXEC) {
        wire_bytes_copy(&msg->op, op, strlen(op));
        wire_bytes_copy(&msg->text, args, strlen(args));
    } else if (type == WIRE_REMOVE)
        msg->child = 77;
    uint64_t id = msg->request_id;
    CHECK(wire_send(s_parent, "5", &msg) == 0);
    return id;
}

//  The reply to request, as "status:text"; NULL if none came within timeout_ms.
static char *s_reply(uint64_t request, int timeout_ms)
{
    wire_msg_t *msg = s_receive(timeout_ms);
    if (!msg)
        return NULL;
    char *text = NULL;
    if (msg->type == WIRE_REPLY && msg->request_id == request && msg->node == ID) {
        if (asprintf(&text, "%d:%.*s", msg->status, (int)msg->text.size,
                     (const char *)msg->text.data) < 0)
            text = NULL;
    } else
        CHECK(!"a reply to the request");
    wire_msg_destroy(&msg);
    return text;
}

static void s_expect(uint64_t request, const char *expected)
{
    char *reply = s_reply(request, RECEIVE_MS);
    CHECK_STR(reply, expected);
    free(reply);
}

int main(void)
{
    zsys_init();
    zsys_handler_set(NULL);
    //  The worker spawns nothing here, but it wants a binary to spawn.
    setenv("MQTREE_WORKER", "/bin/true", 1);
    char run_dir[] = "/tmp/mqtree-test-worker-XXXXXX";
    CHECK(mkdtemp(run_dir) != NULL);
    s_parent = zsock_new_router("inproc://test-worker-parent");
    int parent_pipe[2], quiet_pipe[2];
    CHECK(pipe(parent_pipe) == 0 && pipe(quiet_pipe) == 0);
    worker_config_t config = {.id = ID,
                              .parent_endpoint = "inproc://test-worker-parent",
                              .parent_pid = getpid(),
                              .run_dir = run_dir,
                              .tree = {.log_level = LEVEL_ERROR},
                              .signal_fd = quiet_pipe[0],
                              .parent_fd = parent_pipe[0]};
    worker_t *worker = worker_new(&config);
    CHECK(worker != NULL);
    if (!worker)
        return check_report("worker");
    pthread_t thread;
    pthread_create(&thread, NULL, s_run, worker);

    //  A new node introduces itself with its pid.
    wire_msg_t *hello = s_receive(RECEIVE_MS);
    CHECK(hello && hello->type == WIRE_HELLO && hello->node == ID);
    if (hello)
        CHECK(hello->pid == (int32_t)getpid());
    wire_msg_destroy(&hello);

    int64_t later = wire_now_us() + 60000000;
    s_expect(s_request(WIRE_PING, later, NULL, NULL), "0:");
    s_expect(s_request(WIRE_EXEC, later, "sum", "3 1 2 3"), "0:6");
    s_expect(s_request(WIRE_EXEC, later, "frob", ""), "1:Unknown op 'frob'");

    //  At most once: a request whose deadline has passed is dropped, unanswered and
    //  unrun; the next one is answered as if it had never come.
    uint64_t late = s_request(WIRE_EXEC, wire_now_us() - 1, "set", "X 42");
    uint64_t get = s_request(WIRE_EXEC, later, "get", "X");
    char *reply = s_reply(get, RECEIVE_MS);
    CHECK_STR(reply, "0:'X' not found");
    free(reply);
    (void)late;
    //  Also when it waited behind a long op on the op thread, past its deadline.
    uint64_t sleeping = s_request(WIRE_EXEC, later, "sleep", "50");
    uint64_t expiring = s_request(WIRE_EXEC, wire_now_us() + 10000, "set", "Y 7");
    s_expect(sleeping, "0:");
    s_expect(s_request(WIRE_EXEC, later, "get", "Y"), "0:'Y' not found");
    (void)expiring;
    //  The op thread counted it done: small ops run on the loop again, in order
    //  with the rest.
    s_expect(s_request(WIRE_EXEC, later, "set", "Z 1"), "0:");
    s_expect(s_request(WIRE_EXEC, later, "get", "Z"), "0:1");

    //  Removing a child it does not have is done at once.
    s_expect(s_request(WIRE_REMOVE, later, NULL, NULL), "0:");

    //  pingall of a node without children: its own id.
    uint64_t pingall = s_request(WIRE_BROADCAST, later, NULL, NULL);
    wire_msg_t *answer = s_receive(RECEIVE_MS);
    CHECK(answer && answer->type == WIRE_REPLY && answer->request_id == pingall);
    if (answer) {
        const char *reason;
        fold_t *fold = fold_decode(answer->text.data, answer->text.size, &reason);
        const nodeset_t *ids = fold ? fold_ids(fold) : NULL;
        CHECK(ids && nodeset_count(ids) == 1 && nodeset_contains(ids, ID));
        fold_destroy(&fold);
    }
    wire_msg_destroy(&answer);

    //  Nothing else was said: the dropped requests stayed unanswered.
    CHECK(s_reply(0, 100) == NULL);

    //  The parent process is gone: the loop ends.
    close(parent_pipe[1]);
    pthread_join(thread, NULL);
    worker_destroy(&worker);
    CHECK(worker == NULL);
    close(parent_pipe[0]);
    close(quiet_pipe[0]);
    close(quiet_pipe[1]);
    zsock_destroy(&s_parent);
    char *socket = NULL;
    if (asprintf(&socket, "%s/%d.sock", run_dir, ID) > 0) {
        unlink(socket);
        free(socket);
    }
    rmdir(run_dir);
    return check_report("worker");
}
