/*  Unit test: the wire codec. Every kind decodes to the fields it was encoded from,
    as one frame (a long last field as a second one, never copied); every message
    that breaks its kind's shape in the table is refused with the reason;
    paths pop without copies and go on as the shorter path; byte fields own, lend or
    are given memory, and given memory is freed exactly once. */
#include "../common/wire.h"
#include "check.h"
#include "wire_equal.h"

#define HEADER_REFUSED "header missing or of the wrong size"
#define FRAMES_REFUSED "wrong number of frames for its type"
#define SIZE_REFUSED "a message has the wrong size for its type"
#define FIELD_REFUSED "a field has the wrong size for its type"
#define RANGE_REFUSED "a field is out of its range"

//  Long enough for any socket to be ready on an idle machine, bounded on a loaded one.
#define READY_WAIT_MS 5000

static const int32_t s_hops[] = {3, -4, INT32_MAX};

//  A message of type with every field its kind carries set, and no other.
//  Set in main: five seconds from the start.
static int64_t s_deadline;

static wire_msg_t *s_example(int type)
{
    wire_msg_t *msg = wire_msg_new((wire_type_t)type);
    msg->request_id = 0x0102030405060708ULL;
    msg->deadline_us = s_deadline;
    msg->node = -7;
    if (wire_is_request(type))
        wire_set_path(msg, s_hops, 3);
    if (type == WIRE_CREATE || type == WIRE_REMOVE || type == WIRE_EVENT)
        msg->child = 8;
    if (type == WIRE_REMOVE || type == WIRE_HELLO || type == WIRE_EVENT ||
        type == WIRE_CREATED || type == WIRE_ADMIT)
        msg->pid = 4321;
    if (type == WIRE_CREATED || type == WIRE_ADMIT)
        wire_bytes_lend(&msg->endpoint, "ipc:///tmp/x/8", 14);
    if (type == WIRE_EVENT) {
        msg->event = WIRE_CHILD_STOPPED;
        msg->code = 19;
    }
    if (type == WIRE_HEARTBEAT)
        msg->interval_ms = 500;
    if (type == WIRE_REPLY) {
        msg->status = WIRE_ERROR;
        wire_bytes_lend(&msg->text, "Overflow", 8);
    }
    if (type == WIRE_EXEC) {
        wire_bytes_lend(&msg->op, "sum", 3);
        wire_bytes_lend(&msg->text, "3 1 2 3", 7);
    }
    if (type == WIRE_BROADCAST) {
        msg->reduce = 2;
        wire_bytes_lend(&msg->sets, "\0\0\0\0\0\0\0\0", 8); //  two empty sets
        wire_bytes_lend(&msg->op, "get", 3);
        wire_bytes_lend(&msg->text, "x", 1);
    }
    return msg;
}

//  Decodes msg (taken): the message, or NULL and the reason.
static wire_msg_t *s_decode(zmsg_t *msg, const char **reason)
{
    wire_msg_t *decoded = NULL;
    *reason = NULL;
    int rc = wire_decode(&msg, &decoded, reason);
    CHECK(msg == NULL);
    CHECK(rc == 0 ? decoded != NULL : decoded == NULL && *reason != NULL);
    return decoded;
}

static wire_msg_t *s_round_trip(wire_msg_t *msg)
{
    const char *reason;
    return s_decode(wire_encode(&msg), &reason);
}

static bool s_accepted(zmsg_t *msg)
{
    const char *reason;
    wire_msg_t *decoded = s_decode(msg, &reason);
    bool accepted = decoded != NULL;
    wire_msg_destroy(&decoded);
    return accepted;
}

static bool s_refused(zmsg_t *msg, const char *expected)
{
    const char *reason;
    wire_msg_t *decoded = s_decode(msg, &reason);
    if (decoded) {
        wire_msg_destroy(&decoded);
        return false;
    }
    CHECK_STR(reason, expected);
    return reason && strcmp(reason, expected) == 0;
}

static zmsg_t *s_encoded(int type)
{
    wire_msg_t *msg = s_example(type);
    return wire_encode(&msg);
}

//  A message of type by hand: a valid header, then body (size bytes) in its frame,
//  and a second frame of tail_size bytes when tail is not NULL.
static zmsg_t *s_raw(int type, const void *body, size_t size, const void *tail,
                     size_t tail_size)
{
    wire_msg_t *beat = wire_msg_new(WIRE_BEAT);
    zmsg_t *header = wire_encode(&beat);
    assert(zframe_size(zmsg_first(header)) == WIRE_HEADER_SIZE);
    byte *frame = (byte *)zmalloc(WIRE_HEADER_SIZE + size + 1);
    memcpy(frame, zframe_data(zmsg_first(header)), WIRE_HEADER_SIZE);
    zmsg_destroy(&header);
    frame[1] = (byte)type;
    if (size)
        memcpy(frame + WIRE_HEADER_SIZE, body, size);
    zmsg_t *msg = zmsg_new();
    zmsg_addmem(msg, frame, WIRE_HEADER_SIZE + size);
    free(frame);
    if (tail)
        zmsg_addmem(msg, tail, tail_size);
    return msg;
}

//  msg with the last byte of its first frame cut off.
static zmsg_t *s_cut(zmsg_t *msg)
{
    zframe_t *first = zmsg_pop(msg);
    zmsg_pushmem(msg, zframe_data(first), zframe_size(first) - 1);
    zframe_destroy(&first);
    return msg;
}

//  Whether the kind's last field holds bytes (it may then come as a second frame).
static bool s_bytes_last(int type)
{
    return type != WIRE_REMOVE && type != WIRE_EVENT && type != WIRE_HEARTBEAT &&
           type != WIRE_BEAT;
}

//  The example of type, encoded, with one byte of its header set to value.
static zmsg_t *s_with_header_byte(int type, size_t offset, byte value)
{
    zmsg_t *msg = s_encoded(type);
    zframe_data(zmsg_first(msg))[offset] = value;
    return msg;
}

static void s_round_trips(void)
{
    for (int type = WIRE_CREATE; type < WIRE_TYPE_COUNT; type++) {
        wire_msg_t *expected = s_example(type);
        wire_msg_t *decoded = s_round_trip(s_example(type));
        CHECK(decoded && wire_equal(decoded, expected));
        if (!decoded || !wire_equal(decoded, expected))
            fprintf(stderr, "  round trip of %s\n", wire_type_name(type));
        wire_msg_destroy(&decoded);
        wire_msg_destroy(&expected);
    }

    //  The fields as the node core reads them.
    wire_msg_t *exec = s_round_trip(s_example(WIRE_EXEC));
    CHECK(exec->type == WIRE_EXEC && exec->request_id == 0x0102030405060708ULL);
    CHECK(exec->deadline_us == s_deadline && exec->node == -7);
    CHECK(wire_hops(exec) == 3 && wire_hop(exec, 1) == -4);
    CHECK(wire_bytes_eq(&exec->op, "sum") && wire_bytes_eq(&exec->text, "3 1 2 3"));
    wire_msg_destroy(&exec);

    wire_msg_t *reply = s_round_trip(wire_reply_new(99, 5, WIRE_PARTIAL, "\0\0\0\3", 4));
    CHECK(reply->type == WIRE_REPLY && reply->request_id == 99 && reply->node == 5);
    CHECK(reply->status == WIRE_PARTIAL && reply->text.size == 4);
    CHECK(wire_get_u32(reply->text.data) == 3);
    wire_msg_destroy(&reply);

    wire_msg_t *event = s_round_trip(wire_event_new(3, WIRE_CHILD_EXITED, 8, 777, 9));
    CHECK(event->type == WIRE_EVENT && event->node == 3);
    CHECK(event->event == WIRE_CHILD_EXITED && event->child == 8);
    CHECK(event->pid == 777 && event->code == 9);
    wire_msg_destroy(&event);

    //  The header's and the unbounded fields' extremes.
    event = wire_event_new(INT32_MIN, WIRE_CHILD_BACK, INT32_MIN, INT32_MAX, INT32_MIN);
    event->request_id = UINT64_MAX;
    event->deadline_us = INT64_MIN;
    wire_msg_t *expected =
        wire_event_new(INT32_MIN, WIRE_CHILD_BACK, INT32_MIN, INT32_MAX, INT32_MIN);
    expected->request_id = UINT64_MAX;
    expected->deadline_us = INT64_MIN;
    wire_msg_t *decoded = s_round_trip(event);
    CHECK(decoded && wire_equal(decoded, expected));
    wire_msg_destroy(&decoded);
    wire_msg_destroy(&expected);

    wire_msg_t *heartbeat = wire_msg_new(WIRE_HEARTBEAT);
    heartbeat->interval_ms = -1;
    heartbeat = s_round_trip(heartbeat);
    CHECK(heartbeat && heartbeat->interval_ms == -1);
    wire_msg_destroy(&heartbeat);

    //  An empty path, an empty argument text and an empty reply text are valid.
    wire_msg_t *ping = s_round_trip(wire_msg_new(WIRE_PING));
    CHECK(ping && ping->type == WIRE_PING && wire_hops(ping) == 0);
    wire_msg_destroy(&ping);
    exec = wire_msg_new(WIRE_EXEC);
    wire_bytes_lend(&exec->op, "get", 3);
    exec = s_round_trip(exec);
    CHECK(exec && wire_bytes_eq(&exec->op, "get") && exec->text.size == 0);
    wire_msg_destroy(&exec);
    reply = s_round_trip(wire_reply_new(1, 1, WIRE_OK, "", 0));
    CHECK(reply && reply->status == WIRE_OK && reply->text.size == 0);
    wire_msg_destroy(&reply);
}

static void s_kinds(void)
{
    CHECK_STR(wire_type_name(WIRE_CREATE), "CREATE");
    CHECK_STR(wire_type_name(WIRE_HEARTBEAT), "HEARTBEAT");
    CHECK_STR(wire_type_name(WIRE_BEAT), "BEAT");
    CHECK_STR(wire_type_name(0), "UNKNOWN");
    CHECK_STR(wire_type_name(WIRE_TYPE_COUNT), "UNKNOWN");
    //  Requests travel down, with a path; replies and events travel up.
    CHECK(wire_is_request(WIRE_CREATE) && wire_is_request(WIRE_EXEC));
    CHECK(wire_is_request(WIRE_PING) && wire_is_request(WIRE_REMOVE));
    CHECK(wire_is_request(WIRE_BROADCAST) && wire_is_request(WIRE_HEARTBEAT));
    CHECK(!wire_is_request(WIRE_REPLY) && !wire_is_request(WIRE_HELLO));
    CHECK(!wire_is_request(WIRE_EVENT) && !wire_is_request(WIRE_BEAT));
    CHECK(!wire_is_request(0) && !wire_is_request(WIRE_TYPE_COUNT));
}

static void s_rejects_headers(void)
{
    CHECK(s_refused(zmsg_new(), HEADER_REFUSED)); //  no frame at all
    zmsg_t *msg = zmsg_new();
    zmsg_addstr(msg, "garbage");
    CHECK(s_refused(msg, HEADER_REFUSED));
    CHECK(s_refused(s_cut(s_encoded(WIRE_BEAT)), HEADER_REFUSED));
    CHECK(s_accepted(s_raw(WIRE_BEAT, NULL, 0, NULL, 0)));
    CHECK(s_refused(s_raw(WIRE_BEAT, "x", 1, NULL, 0), SIZE_REFUSED)); //  a byte more

    CHECK(s_refused(s_with_header_byte(WIRE_PING, 0, WIRE_VERSION + 1),
                    "unsupported protocol version"));
    CHECK(s_refused(s_with_header_byte(WIRE_PING, 0, WIRE_VERSION - 1),
                    "unsupported protocol version"));
    CHECK(s_refused(s_with_header_byte(WIRE_PING, 1, 0), "unknown message type"));
    CHECK(s_refused(s_with_header_byte(WIRE_PING, 1, WIRE_TYPE_COUNT),
                    "unknown message type"));
    CHECK(s_refused(s_with_header_byte(WIRE_PING, 1, 255), "unknown message type"));
}

static void s_rejects_frame_counts(void)
{
    for (int type = WIRE_CREATE; type < WIRE_TYPE_COUNT; type++) {
        //  Every kind is one frame; with its last field apart, two; never three.
        zmsg_t *msg = s_encoded(type);
        CHECK(zmsg_size(msg) == 1);
        zmsg_addstr(msg, "");
        zmsg_addstr(msg, "extra");
        CHECK(s_refused(msg, FRAMES_REFUSED));
        if (s_bytes_last(type))
            continue;
        msg = s_encoded(type);
        zmsg_addstr(msg, "");
        CHECK(s_refused(msg, FRAMES_REFUSED)); //  no last field to be apart
        if (type != WIRE_BEAT) //  a header only
            CHECK(s_refused(s_cut(s_encoded(type)), SIZE_REFUSED)); //  truncated
    }
    //  A last field in a second frame: the frame before ends where it begins.
    byte exec[] = {0, 0, 0, 4, 0, 0, 0, 9, 0, 0, 0, 3, 's', 'u', 'm'};
    zmsg_t *msg = s_raw(WIRE_EXEC, exec, sizeof exec, "3 1 2 3", 7);
    const char *reason;
    wire_msg_t *decoded = s_decode(msg, &reason);
    CHECK(decoded && wire_hops(decoded) == 1 && wire_hop(decoded, 0) == 9);
    CHECK(decoded && wire_bytes_eq(&decoded->op, "sum"));
    CHECK(decoded && wire_bytes_eq(&decoded->text, "3 1 2 3"));
    wire_msg_destroy(&decoded);
    byte extra[sizeof exec + 1] = {0};
    memcpy(extra, exec, sizeof exec);
    CHECK(s_refused(s_raw(WIRE_EXEC, extra, sizeof extra, "3", 1), SIZE_REFUSED));
    CHECK(s_refused(s_raw(WIRE_PING, NULL, 0, "abc", 3), FIELD_REFUSED));
    CHECK(s_accepted(s_raw(WIRE_PING, NULL, 0, "abcd", 4)));
}

static void s_rejects_sizes(void)
{
    //  A path is 4 bytes a hop, and no longer than the deepest tree; its length
    //  never runs past the frame.
    byte body[16] = {0, 0, 0, 3, 'a', 'b', 'c'};
    CHECK(s_refused(s_raw(WIRE_CREATE, body, 11, NULL, 0), FIELD_REFUSED));
    body[3] = 5;
    CHECK(s_refused(s_raw(WIRE_CREATE, body, 13, NULL, 0), FIELD_REFUSED));
    body[3] = 4;
    CHECK(s_accepted(s_raw(WIRE_CREATE, body, 12, NULL, 0)));
    CHECK(s_refused(s_raw(WIRE_CREATE, body, 7, NULL, 0), SIZE_REFUSED));
    body[0] = 0xff;
    CHECK(s_refused(s_raw(WIRE_CREATE, body, 12, NULL, 0), SIZE_REFUSED));
    CHECK(s_refused(s_raw(WIRE_CREATE, body, 3, NULL, 0), SIZE_REFUSED));
    CHECK(s_refused(s_raw(WIRE_PING, "abc", 3, NULL, 0), FIELD_REFUSED));
    CHECK(s_refused(s_raw(WIRE_PING, "abcde", 5, NULL, 0), FIELD_REFUSED));
    CHECK(s_accepted(s_raw(WIRE_PING, "abcd", 4, NULL, 0)));
    size_t deepest = (size_t)WIRE_MAX_DEPTH * 4;
    byte *path = (byte *)zmalloc(deepest + 4);
    CHECK(s_accepted(s_raw(WIRE_PING, path, deepest, NULL, 0)));
    CHECK(s_refused(s_raw(WIRE_PING, path, deepest + 4, NULL, 0), FIELD_REFUSED));
    free(path);

    //  Fixed fields: exactly their width.
    byte zeros[32] = {0};
    CHECK(s_refused(s_raw(WIRE_REMOVE, zeros, 11, NULL, 0), SIZE_REFUSED));
    CHECK(s_accepted(s_raw(WIRE_REMOVE, zeros, 12, NULL, 0)));
    CHECK(s_refused(s_raw(WIRE_REMOVE, zeros, 13, NULL, 0), SIZE_REFUSED));
    CHECK(s_refused(s_raw(WIRE_HEARTBEAT, zeros, 6, NULL, 0), SIZE_REFUSED));
    CHECK(s_refused(s_raw(WIRE_HELLO, zeros, 3, NULL, 0), SIZE_REFUSED));
    CHECK(s_refused(s_raw(WIRE_REPLY, NULL, 0, NULL, 0), SIZE_REFUSED));
    CHECK(s_accepted(s_raw(WIRE_REPLY, zeros, 1, NULL, 0)));
    byte event[14] = {WIRE_CHILD_EXITED};
    CHECK(s_refused(s_raw(WIRE_EVENT, event, 12, NULL, 0), SIZE_REFUSED));
    CHECK(s_refused(s_raw(WIRE_EVENT, event, 14, NULL, 0), SIZE_REFUSED));
    CHECK(s_accepted(s_raw(WIRE_EVENT, event, 13, NULL, 0)));

    //  An op has a name; texts may be empty; a host fits its bound.
    byte exec[] = {0, 0, 0, 0, 0, 0, 0, 1, 'x'};
    CHECK(s_accepted(s_raw(WIRE_EXEC, exec, sizeof exec, NULL, 0)));
    exec[7] = 0;
    CHECK(s_refused(s_raw(WIRE_EXEC, exec, 8, NULL, 0), FIELD_REFUSED));
    //  A broadcast's op may be empty (a pingall's presence), its sets too (every node).
    byte broadcast[13] = {0};
    CHECK(s_accepted(s_raw(WIRE_BROADCAST, broadcast, 13, NULL, 0)));
    CHECK(s_refused(s_raw(WIRE_BROADCAST, broadcast, 12, NULL, 0), SIZE_REFUSED));
    byte *create = (byte *)zmalloc(8 + WIRE_NAME_MAX + 1);
    CHECK(s_accepted(s_raw(WIRE_CREATE, create, 8 + WIRE_NAME_MAX, NULL, 0)));
    CHECK(s_refused(s_raw(WIRE_CREATE, create, 8 + WIRE_NAME_MAX + 1, NULL, 0),
                    FIELD_REFUSED));
    free(create);
}

//  Every value of a one-byte field of type (at offset in wire_msg_t): accepted from
//  low to high, refused for reason otherwise.
static void s_check_byte_range(int type, size_t offset, int low, int high,
                               const char *reason)
{
    for (int value = 0; value <= 255; value++) {
        wire_msg_t *msg = s_example(type);
        *((uint8_t *)msg + offset) = (uint8_t)value;
        zmsg_t *encoded = wire_encode(&msg);
        bool in_range = value >= low && value <= high;
        CHECK(in_range ? s_accepted(encoded) : s_refused(encoded, reason));
    }
}

static void s_rejects_ranges(void)
{
    s_check_byte_range(WIRE_REPLY, offsetof(wire_msg_t, status), WIRE_OK, WIRE_PARTIAL,
                       "unknown reply status");
    s_check_byte_range(WIRE_EVENT, offsetof(wire_msg_t, event), WIRE_CHILD_EXITED,
                       WIRE_CHILD_BACK, "unknown event kind");
    s_check_byte_range(WIRE_BROADCAST, offsetof(wire_msg_t, reduce), 0, WIRE_REDUCE_MAX,
                       "unknown reduction");

    //  A pid is never negative, wherever it travels (0: REMOVE's "any").
    const int types[] = {WIRE_REMOVE, WIRE_HELLO, WIRE_EVENT};
    const int32_t pids[] = {INT32_MIN, -1, 0, 1, INT32_MAX};
    for (size_t type = 0; type < sizeof types / sizeof types[0]; type++)
        for (size_t pid = 0; pid < sizeof pids / sizeof pids[0]; pid++) {
            wire_msg_t *msg = s_example(types[type]);
            msg->pid = pids[pid];
            zmsg_t *encoded = wire_encode(&msg);
            CHECK(pids[pid] >= 0 ? s_accepted(encoded)
                                 : s_refused(encoded, RANGE_REFUSED));
        }
}

static void s_paths(void)
{
    wire_msg_t *msg = s_round_trip(s_example(WIRE_EXEC));
    CHECK(wire_hops(msg) == 3);
    CHECK(wire_hop(msg, 0) == 3 && wire_hop(msg, 1) == -4 &&
          wire_hop(msg, 2) == INT32_MAX);
    CHECK(wire_pop_hop(msg) == 3);
    CHECK(wire_hops(msg) == 2 && wire_hop(msg, 0) == -4 && wire_hop(msg, 1) == INT32_MAX);
    CHECK(wire_bytes_eq(&msg->op, "sum") && wire_bytes_eq(&msg->text, "3 1 2 3"));

    //  A popped path re-encodes as the shorter path; the rest is unchanged.
    wire_msg_t *shorter = s_round_trip(msg);
    CHECK(shorter && wire_hops(shorter) == 2 && shorter->path.size == 8);
    CHECK(wire_hop(shorter, 0) == -4 && wire_hop(shorter, 1) == INT32_MAX);
    CHECK(wire_bytes_eq(&shorter->op, "sum") && wire_bytes_eq(&shorter->text, "3 1 2 3"));
    CHECK(wire_pop_hop(shorter) == -4 && wire_pop_hop(shorter) == INT32_MAX);
    CHECK(wire_hops(shorter) == 0);
    wire_msg_t *none = s_round_trip(shorter);
    CHECK(none && wire_hops(none) == 0 && none->path.size == 0);
    CHECK(wire_bytes_eq(&none->op, "sum"));
    wire_msg_destroy(&none);

    //  wire_set_path replaces the path.
    msg = wire_msg_new(WIRE_PING);
    wire_set_path(msg, s_hops, 3);
    wire_set_path(msg, s_hops + 2, 1);
    CHECK(wire_hops(msg) == 1 && wire_hop(msg, 0) == INT32_MAX);
    wire_set_path(msg, NULL, 0);
    CHECK(wire_hops(msg) == 0);
    wire_msg_destroy(&msg);
}

//  Waits until sock has a message, at most READY_WAIT_MS.
static bool s_ready(zsock_t *sock)
{
    zpoller_t *poller = zpoller_new(sock, NULL);
    bool ready = zpoller_wait(poller, READY_WAIT_MS) == sock;
    zpoller_destroy(&poller);
    return ready;
}

static wire_msg_t *s_receive(zsock_t *sock, char *route, size_t route_size)
{
    wire_msg_t *msg = NULL;
    const char *reason = NULL;
    CHECK(s_ready(sock) && wire_recv(sock, route, route_size, &msg, &reason) == 1);
    CHECK(msg != NULL && reason == NULL);
    return msg;
}

static int s_send(zsock_t *sock, const char *route, wire_msg_t *msg)
{
    return wire_send(sock, route, &msg);
}

//  Sends msg from one end of a pair and receives it at the other.
static wire_msg_t *s_pass(zsock_t *from, zsock_t *to, wire_msg_t *msg)
{
    CHECK(s_send(from, NULL, msg) == 0);
    return s_receive(to, NULL, 0);
}

static void s_sends(void)
{
    zsock_t *down = zsock_new_pair("@inproc://test-wire-pair");
    zsock_t *up = zsock_new_pair(">inproc://test-wire-pair");
    assert(down && up);

    //  Every kind goes out as it came in: a decoded message forwards its own frames.
    for (int type = WIRE_CREATE; type < WIRE_TYPE_COUNT; type++) {
        wire_msg_t *expected = s_example(type);
        wire_msg_t *passed = s_pass(up, down, s_round_trip(s_example(type)));
        CHECK(passed && wire_equal(passed, expected));
        wire_msg_destroy(&passed);
        wire_msg_destroy(&expected);
    }

    //  A node pops its hop and forwards: only the hops left are sent.
    wire_msg_t *msg = s_pass(up, down, s_example(WIRE_EXEC));
    CHECK(wire_pop_hop(msg) == 3);
    msg = s_pass(down, up, msg);
    CHECK(msg && wire_hops(msg) == 2);
    CHECK(wire_hop(msg, 0) == -4 && wire_hop(msg, 1) == INT32_MAX);
    CHECK(wire_bytes_eq(&msg->op, "sum") && wire_bytes_eq(&msg->text, "3 1 2 3"));
    CHECK(wire_pop_hop(msg) == -4 && wire_pop_hop(msg) == INT32_MAX);
    msg = s_pass(up, down, msg);
    CHECK(msg && wire_hops(msg) == 0 && wire_bytes_eq(&msg->op, "sum"));
    wire_msg_destroy(&msg);

    //  Nothing waiting: -1, and no message.
    const char *reason = NULL;
    wire_msg_t stale;
    msg = &stale;
    CHECK(wire_recv(down, NULL, 0, &msg, &reason) == -1 && msg == NULL);
    //  A malformed message is dropped with its reason.
    zstr_send(up, "garbage");
    CHECK(s_ready(down) && wire_recv(down, NULL, 0, &msg, &reason) == 0);
    CHECK(msg == NULL && reason != NULL);
    zsock_destroy(&up);
    zsock_destroy(&down);
}

static void s_routes(void)
{
    zsock_t *router = zsock_new_router("@inproc://test-wire-router");
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    assert(router && dealer);
    zsock_set_identity(dealer, "node-7");
    CHECK(zsock_connect(dealer, "inproc://test-wire-router") == 0);

    //  The routing id comes back as the route, to send the answer by.
    char route[16] = "stale";
    CHECK(s_send(dealer, NULL, s_example(WIRE_HELLO)) == 0);
    wire_msg_t *hello = s_receive(router, route, sizeof route);
    CHECK_STR(route, "node-7");
    CHECK(hello && hello->type == WIRE_HELLO && hello->pid == 4321);
    wire_msg_destroy(&hello);
    CHECK(s_send(router, route, s_example(WIRE_PING)) == 0);
    wire_msg_t *ping = s_receive(dealer, NULL, 0);
    CHECK(ping && ping->type == WIRE_PING && wire_hops(ping) == 3);
    wire_msg_destroy(&ping);

    //  A route that just fits, and one a byte too long: no route rather than a cut one.
    CHECK(s_send(dealer, NULL, s_example(WIRE_BEAT)) == 0);
    wire_msg_t *beat = s_receive(router, route, strlen("node-7") + 1);
    CHECK_STR(route, "node-7");
    wire_msg_destroy(&beat);
    CHECK(s_send(dealer, NULL, s_example(WIRE_BEAT)) == 0);
    beat = s_receive(router, route, strlen("node-7"));
    CHECK_STR(route, "");
    CHECK(beat && beat->type == WIRE_BEAT);
    wire_msg_destroy(&beat);
    zsock_destroy(&dealer);
    zsock_destroy(&router);
}

//  A free function that counts its calls in hint, and frees nothing.
static void s_count_free(void *data, void *hint)
{
    (void)data;
    (*(int *)hint)++;
}

static wire_msg_t *s_given_reply(int *frees)
{
    static char given[] = "given, not copied";
    wire_msg_t *reply = wire_msg_new(WIRE_REPLY);
    wire_bytes_give(&reply->text, given, strlen(given), s_count_free, frees);
    return reply;
}

static void s_give(void)
{
    //  Destroyed unsent.
    int frees = 0;
    wire_msg_t *reply = s_given_reply(&frees);
    CHECK(frees == 0);
    wire_msg_destroy(&reply);
    CHECK(frees == 1);

    //  Sent: ZeroMQ frees it once the receiver is done with it.
    zsock_t *down = zsock_new_pair("@inproc://test-wire-give");
    zsock_t *up = zsock_new_pair(">inproc://test-wire-give");
    assert(down && up);
    frees = 0;
    reply = s_pass(up, down, s_given_reply(&frees));
    CHECK(reply && wire_bytes_eq(&reply->text, "given, not copied"));
    wire_msg_destroy(&reply);
    CHECK(frees == 1);

    //  Long and last: a second frame, never copied, and a node passes that frame on
    //  as it came (inproc hands the very bytes over).
    const size_t long_size = 65536;
    byte *long_text = (byte *)zmalloc(long_size);
    frees = 0;
    reply = wire_msg_new(WIRE_REPLY);
    wire_bytes_give(&reply->text, long_text, long_size, s_count_free, &frees);
    reply = s_pass(up, down, reply);
    CHECK(reply && reply->text.data == long_text && reply->text.size == long_size);
    reply = s_pass(down, up, reply);
    CHECK(reply && reply->text.data == long_text && frees == 0);
    wire_msg_destroy(&reply);
    CHECK(frees == 1);
    reply = wire_msg_new(WIRE_REPLY);
    wire_bytes_give(&reply->text, long_text, long_size, s_count_free, &frees);
    zmsg_t *two = wire_encode(&reply);
    CHECK(frees == 2 && zmsg_size(two) == 2 && zframe_size(zmsg_last(two)) == long_size);
    wire_msg_destroy(&reply);
    CHECK(s_accepted(two));
    //  Shorter, it is copied into the one frame.
    reply = wire_msg_new(WIRE_REPLY);
    wire_bytes_give(&reply->text, long_text, long_size - 1, s_count_free, &frees);
    two = wire_encode(&reply);
    CHECK(frees == 3 && zmsg_size(two) == 1);
    zmsg_destroy(&two);
    free(long_text);
    zsock_destroy(&up);
    zsock_destroy(&down);

    //  Refused by a ROUTER whose peer is gone: -1, and freed all the same.
    zsock_t *router = zsock_new_router("@inproc://test-wire-mandatory");
    assert(router);
    zsock_set_router_mandatory(router, 1);
    frees = 0;
    reply = s_given_reply(&frees);
    CHECK(wire_send(router, "nobody", &reply) == -1 && reply == NULL);
    CHECK(frees == 1);
    zsock_destroy(&router);

    //  Encoded (a copy: short, in the one frame), or replaced by other bytes.
    frees = 0;
    reply = s_given_reply(&frees);
    zmsg_t *encoded = wire_encode(&reply);
    CHECK(frees == 1 && zmsg_size(encoded) == 1);
    zmsg_destroy(&encoded);
    frees = 0;
    reply = s_given_reply(&frees);
    wire_bytes_lend(&reply->text, "lent", 4);
    CHECK(frees == 1);
    wire_msg_destroy(&reply);
    CHECK(frees == 1);

    //  A given path whose view moved past a popped hop: freed once, by its hint.
    static byte hops[8] = {0, 0, 0, 1, 0, 0, 0, 2};
    frees = 0;
    wire_msg_t *ping = wire_msg_new(WIRE_PING);
    wire_bytes_give(&ping->path, hops, sizeof hops, s_count_free, &frees);
    CHECK(wire_pop_hop(ping) == 1 && wire_hops(ping) == 1);
    wire_msg_destroy(&ping);
    CHECK(frees == 1);
}

static void s_lend_and_copy(void)
{
    //  Lent: the field points at the caller's bytes and frees nothing.
    char op[] = "find";
    wire_msg_t *exec = wire_msg_new(WIRE_EXEC);
    wire_bytes_lend(&exec->op, op, 4);
    CHECK(exec->op.data == (const byte *)op && exec->op.size == 4);
    CHECK(exec->op.free_fn == NULL);
    wire_msg_t *decoded = s_round_trip(exec);
    CHECK(decoded && wire_bytes_eq(&decoded->op, "find"));
    CHECK_STR(op, "find");
    wire_msg_destroy(&decoded);

    //  Copied: the field owns a copy, the caller's bytes may change.
    char args[] = "3 1 2 3";
    exec = wire_msg_new(WIRE_EXEC);
    wire_bytes_copy(&exec->text, args, 7);
    args[0] = '9';
    CHECK(exec->text.data != (const byte *)args && exec->text.free_fn != NULL);
    CHECK(wire_bytes_eq(&exec->text, "3 1 2 3"));
    //  A copy of nothing still has an address.
    wire_bytes_copy(&exec->op, "", 0);
    CHECK(exec->op.data != NULL && exec->op.size == 0);
    wire_msg_destroy(&exec);
}

static void s_strings(void)
{
    //  A field never set is the empty string.
    wire_bytes_t field = {NULL, 0, NULL, NULL};
    char *text = wire_bytes_strdup(&field);
    CHECK_STR(text, "");
    free(text);
    CHECK(wire_bytes_eq(&field, "") && !wire_bytes_eq(&field, "sum"));

    wire_bytes_lend(&field, "sum", 3);
    text = wire_bytes_strdup(&field);
    CHECK_STR(text, "sum");
    free(text);
    CHECK(wire_bytes_eq(&field, "sum"));
    CHECK(!wire_bytes_eq(&field, "su") && !wire_bytes_eq(&field, "sum "));
    CHECK(!wire_bytes_eq(&field, "") && !wire_bytes_eq(&field, "Sum"));

    //  Bytes may hold a NUL: the string has it, and compares shorter.
    wire_bytes_lend(&field, "a\0b", 3);
    text = wire_bytes_strdup(&field);
    CHECK(memcmp(text, "a\0b", 4) == 0);
    free(text);
    CHECK(!wire_bytes_eq(&field, "a"));
    wire_bytes_lend(&field, "", 0);
    CHECK(wire_bytes_eq(&field, ""));
}

static void s_byte_order(void)
{
    byte out[8];
    wire_put_u32(out, 0x01020304);
    CHECK(out[0] == 1 && out[3] == 4 && wire_get_u32(out) == 0x01020304);
    wire_put_u64(out, 0x0102030405060708ULL);
    CHECK(out[0] == 1 && out[7] == 8 && wire_get_u64(out) == 0x0102030405060708ULL);
}

//  Deadlines are microseconds on the clock the loop counts in milliseconds.
static void s_deadline_clock(void)
{
    int64_t before = zclock_mono();
    int64_t now = wire_now_us();
    CHECK(now / 1000 >= before && now / 1000 <= zclock_mono());
    //  The loop fires at whole milliseconds of zclock_mono(), which truncates: the
    //  delay reaches the first one at or after the deadline, never one before.
    CHECK(wire_delay_ms(10500, 10900) == 1); //  from ms 10 to ms 11
    CHECK(wire_delay_ms(10500, 10000) == 1);
    CHECK(wire_delay_ms(11000, 10999) == 1);
    CHECK(wire_delay_ms(11001, 10999) == 2); //  ms 12 is the first not before it
    CHECK(wire_delay_ms(2000000, 0) == 2000);
    CHECK(wire_delay_ms(10000, 10000) == 0);
    CHECK(wire_delay_ms(5000, 10000) == 0); //  passed: at once
}

//  A request from a peer whose clock reads `ahead` more than ours, stamped at `sent`
//  (its clock) with `budget` left, received at `now` (ours).
static int64_t s_localized(wire_peer_clock_t *peer, int64_t sent, int64_t budget,
                           int64_t now)
{
    wire_msg_t *msg = wire_msg_new(WIRE_EXEC);
    msg->sent_us = sent;
    msg->budget_us = budget;
    wire_localize(msg, peer, now);
    int64_t deadline = msg->deadline_us;
    wire_msg_destroy(&msg);
    return deadline;
}

//  Deadlines across hosts: nothing depends on the two clocks agreeing; a request that
//  sat in a cut link arrives as old as it is.
static void s_localize(void)
{
    wire_peer_clock_t peer = {0};
    const int64_t ahead = 1000000000000LL; //  the peer's clock: 11.6 days ahead
    const int64_t trip = 100;              //  100 µs on the way
    int64_t now = 5000000;
    //  The first message: its trip is the fastest known, so no time is lost.
    CHECK(s_localized(&peer, now + ahead - trip, 2000000, now) == now + 2000000);
    //  A faster one: the estimate follows; then a usual one loses its 100 µs.
    now += 1000000;
    CHECK(s_localized(&peer, now + ahead - 10, 2000000, now) == now + 2000000);
    now += 1000000;
    CHECK(s_localized(&peer, now + ahead - trip, 2000000, now) == now + 2000000 - 90);
    //  A request stamped 10 s ago, delivered when the link came back: past its 2 s.
    now += 1000000;
    int64_t late = s_localized(&peer, now + ahead - 10000000, 2000000, now);
    CHECK(late != 0 && late < now);
    //  "None" stays none however old.
    CHECK(s_localized(&peer, now + ahead - 10000000, 0, now) == 0);
    //  The estimate outlives windows without messages: a minute later, a request
    //  queued 5 s is still seen late.
    now += 60000000;
    late = s_localized(&peer, now + ahead - 5000000, 2000000, now);
    CHECK(late != 0 && late < now);
    //  And one window on, the old windows' estimate is what counts still.
    now += WIRE_CLOCK_WINDOW_US + 1;
    CHECK(s_localized(&peer, now + ahead - 10, 1000, now) == now + 1000);

    //  A peer's clock behind ours works the same.
    wire_peer_clock_t behind = {0};
    now = 1000000000000LL;
    CHECK(s_localized(&behind, 7, 500, now) == now + 500);
    now += 3000;
    CHECK(s_localized(&behind, 7 + 1000, 500, now) == now + 500 - 2000);

    //  The header's bounds: budgets and stamps beyond them are refused.
    wire_msg_t *ping = s_example(WIRE_PING);
    zmsg_t *msg = wire_encode(&ping);
    byte *header = zframe_data(zmsg_first(msg));
    wire_put_u64(header + 10, (uint64_t)(WIRE_BUDGET_MAX + 1));
    CHECK(s_refused(msg, "a time budget out of range"));
    ping = s_example(WIRE_PING);
    msg = wire_encode(&ping);
    header = zframe_data(zmsg_first(msg));
    wire_put_u64(header + 18, (uint64_t)-1);
    CHECK(s_refused(msg, "a stamp out of range"));
    //  A passed deadline goes as a negative budget and comes back passed.
    ping = s_example(WIRE_PING);
    ping->deadline_us = wire_now_us() - 1000;
    wire_msg_t *back = s_round_trip(ping);
    CHECK(back && back->budget_us < 0 && back->deadline_us < wire_now_us());
    wire_msg_destroy(&back);
}

//  A message kept for later owns what it had borrowed, and keeps what it owned.
static void s_keep(void)
{
    char *args = strdup("1 2 3"), *op = strdup("sum");
    wire_msg_t *msg = wire_msg_new(WIRE_EXEC);
    wire_bytes_lend(&msg->op, op, 3);
    wire_bytes_lend(&msg->text, args, 5);
    wire_bytes_copy(&msg->host, "h1", 2);
    const byte *host = msg->host.data;
    wire_msg_keep(msg);
    memset(args, 'x', 5);
    free(args);
    free(op);
    CHECK(wire_bytes_eq(&msg->op, "sum") && wire_bytes_eq(&msg->text, "1 2 3"));
    CHECK(msg->host.data == host && wire_bytes_eq(&msg->host, "h1"));
    CHECK(msg->endpoint.data == NULL);
    wire_msg_destroy(&msg);
}

int main(void)
{
    s_deadline = wire_now_us() + 5000000;
    s_keep();
    s_localize();
    s_round_trips();
    s_kinds();
    s_rejects_headers();
    s_rejects_frame_counts();
    s_rejects_sizes();
    s_rejects_ranges();
    s_paths();
    s_sends();
    s_routes();
    s_give();
    s_lend_and_copy();
    s_strings();
    s_byte_order();
    s_deadline_clock();
    return check_report("wire");
}
