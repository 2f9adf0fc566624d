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

//  The next message from the worker, validated; NULL if none came in time.
static zmsg_t *s_receive(wire_header_t *header, int timeout_ms)
{
    zpoller_t *poller = zpoller_new(s_parent, NULL);
    void *ready = zpoller_wait(poller, timeout_ms);
    zpoller_destroy(&poller);
    if (!ready)
        return NULL;
    zmsg_t *msg = zmsg_recv(s_parent);
    zframe_t *routing = zmsg_pop(msg);
    CHECK(zframe_streq(routing, "5"));
    zframe_destroy(&routing);
    const char *reason = NULL;
    CHECK(wire_validate(msg, header, &reason) == 0);
    return msg;
}

//  Sends a request for the worker itself (empty path) with extra frames.
static uint64_t s_request(int type, int64_t deadline_ms, const char *op, const char *args)
{
    wire_header_t header = {(uint8_t)type, s_next_request++, deadline_ms, ID};
    zmsg_t *msg = wire_request_new(&header, NULL, 0);
    if (type == WIRE_EXEC) {
        zmsg_addstr(msg, op);
        zmsg_addmem(msg, args, strlen(args));
    } else if (type == WIRE_REMOVE) {
        wire_add_i32(msg, 77);
        wire_add_i32(msg, 0);
    }
    zmsg_pushstr(msg, "5");
    zmsg_send(&msg, s_parent);
    return header.request_id;
}

//  The reply to request, as "status:text"; NULL if none came within timeout_ms.
static char *s_reply(uint64_t request, int timeout_ms)
{
    wire_header_t header;
    zmsg_t *msg = s_receive(&header, timeout_ms);
    if (!msg)
        return NULL;
    char *text = NULL;
    if (header.type == WIRE_REPLY && header.request_id == request && header.node == ID) {
        zframe_t *status = wire_frame(msg, 1), *body = wire_frame(msg, 2);
        if (asprintf(&text, "%d:%.*s", *zframe_data(status), (int)zframe_size(body),
                     (const char *)zframe_data(body)) < 0)
            text = NULL;
    } else
        CHECK(!"a reply to the request");
    zmsg_destroy(&msg);
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
    worker_config_t config = {ID,
                              "inproc://test-worker-parent",
                              getpid(),
                              run_dir,
                              false,
                              false,
                              LEVEL_ERROR,
                              quiet_pipe[0],
                              parent_pipe[0],
                              0,
                              0};
    worker_t *worker = worker_new(&config);
    CHECK(worker != NULL);
    if (!worker)
        return check_report("worker");
    pthread_t thread;
    pthread_create(&thread, NULL, s_run, worker);

    //  A new node introduces itself with its pid.
    wire_header_t header;
    zmsg_t *hello = s_receive(&header, RECEIVE_MS);
    CHECK(hello && header.type == WIRE_HELLO && header.node == ID);
    if (hello)
        CHECK(wire_frame_i32(wire_frame(hello, 1)) == (int32_t)getpid());
    zmsg_destroy(&hello);

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
    //  The loop heard the op thread drop it: small ops run on the loop again, in
    //  order with the rest.
    s_expect(s_request(WIRE_EXEC, later, "set", "Z 1"), "0:");
    s_expect(s_request(WIRE_EXEC, later, "get", "Z"), "0:1");

    //  Removing a child it does not have is done at once.
    s_expect(s_request(WIRE_REMOVE, later, NULL, NULL), "0:");

    //  pingall of a node without children: its own id.
    uint64_t pingall = s_request(WIRE_PINGALL, later, NULL, NULL);
    zmsg_t *answer = s_receive(&header, RECEIVE_MS);
    CHECK(answer && header.type == WIRE_REPLY && header.request_id == pingall);
    if (answer) {
        zframe_t *ids = wire_frame(answer, 2);
        CHECK(zframe_size(ids) == 4 && wire_get_u32(zframe_data(ids)) == ID);
    }
    zmsg_destroy(&answer);

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
