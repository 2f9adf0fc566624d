/*  Unit test: the wire codec builds what it validates, and rejects everything else. */
#include "../common/wire.h"
#include "check.h"

static bool s_valid(zmsg_t *msg, wire_header_t *header)
{
    const char *reason = NULL;
    int rc = wire_validate(msg, header, &reason);
    CHECK(rc == 0 || reason != NULL);
    return rc == 0;
}

static void s_round_trips(void)
{
    wire_header_t header = {WIRE_EXEC, 0x0102030405060708ULL, 1234567890123LL, -7};
    int32_t path[] = {3, -4, 2147483647};
    zmsg_t *msg = wire_request_new(&header, path, 3);
    zmsg_addstr(msg, "sum");
    zmsg_addstr(msg, "3 1 2 3");
    wire_header_t decoded;
    CHECK(s_valid(msg, &decoded));
    CHECK(decoded.type == WIRE_EXEC && decoded.request_id == header.request_id);
    CHECK(decoded.deadline_us == header.deadline_us && decoded.node == -7);
    zframe_t *path_frame = wire_frame(msg, 1);
    CHECK(wire_path_hops(path_frame) == 3);
    CHECK(wire_path_hop(path_frame, 1) == -4);
    CHECK(wire_path_pop(msg) == 3);
    CHECK(s_valid(msg, &decoded));
    CHECK(wire_path_hops(wire_frame(msg, 1)) == 2);
    CHECK(wire_path_hop(wire_frame(msg, 1), 0) == -4);
    CHECK(zframe_streq(wire_frame(msg, 2), "sum"));
    CHECK(zframe_streq(wire_frame(msg, 3), "3 1 2 3"));
    zmsg_destroy(&msg);

    msg = wire_reply_new(99, 5, WIRE_ERROR, "Overflow", 8);
    CHECK(s_valid(msg, &decoded) && decoded.type == WIRE_REPLY && decoded.node == 5);
    CHECK(decoded.request_id == 99 && *zframe_data(wire_frame(msg, 1)) == WIRE_ERROR);
    zmsg_destroy(&msg);

    msg = wire_hello_new(12, 4321);
    CHECK(s_valid(msg, &decoded) && decoded.type == WIRE_HELLO && decoded.node == 12);
    CHECK(wire_frame_i32(wire_frame(msg, 1)) == 4321);
    zmsg_destroy(&msg);

    wire_event_body_t event = {WIRE_CHILD_EXITED, 8, 777, 9}, back;
    msg = wire_event_new(3, &event);
    CHECK(s_valid(msg, &decoded) && decoded.type == WIRE_EVENT && decoded.node == 3);
    wire_event_decode(wire_frame(msg, 1), &back);
    CHECK(back.kind == event.kind && back.child == 8 && back.pid == 777 &&
          back.code == 9);
    zmsg_destroy(&msg);

    //  An empty path and an empty argument text are valid.
    header.type = WIRE_PING;
    msg = wire_request_new(&header, NULL, 0);
    CHECK(s_valid(msg, &decoded) && decoded.type == WIRE_PING);
    zmsg_destroy(&msg);
}

static zmsg_t *s_ping(void)
{
    wire_header_t header = {WIRE_PING, 1, 0, 1};
    return wire_request_new(&header, NULL, 0);
}

static void s_rejects(void)
{
    wire_header_t decoded;
    zmsg_t *msg = zmsg_new();
    CHECK(!s_valid(msg, &decoded)); //  no frame at all
    zmsg_addstr(msg, "garbage");
    CHECK(!s_valid(msg, &decoded)); //  header of the wrong size
    zmsg_destroy(&msg);

    msg = s_ping();
    zframe_data(zmsg_first(msg))[0] = WIRE_VERSION + 1;
    CHECK(!s_valid(msg, &decoded)); //  wrong version
    zmsg_destroy(&msg);

    msg = s_ping();
    zframe_data(zmsg_first(msg))[1] = 0;
    CHECK(!s_valid(msg, &decoded)); //  type 0
    zframe_data(zmsg_first(msg))[1] = WIRE_TYPE_COUNT;
    CHECK(!s_valid(msg, &decoded)); //  unknown type
    zmsg_destroy(&msg);

    msg = s_ping();
    zmsg_addstr(msg, "extra");
    CHECK(!s_valid(msg, &decoded)); //  a frame too many
    zmsg_destroy(&msg);

    msg = s_ping();
    zframe_t *path = zmsg_last(msg);
    zmsg_remove(msg, path);
    zframe_destroy(&path);
    CHECK(!s_valid(msg, &decoded)); //  truncated: no path frame
    zmsg_addmem(msg, "abc", 3);
    CHECK(!s_valid(msg, &decoded)); //  path not a multiple of 4
    zmsg_destroy(&msg);

    //  A path claiming more hops than any tree has.
    msg = s_ping();
    path = zmsg_last(msg);
    zmsg_remove(msg, path);
    zframe_destroy(&path);
    path = zframe_new(NULL, (WIRE_MAX_DEPTH + 1) * 4);
    zmsg_append(msg, &path);
    CHECK(!s_valid(msg, &decoded)); //  oversized
    zmsg_destroy(&msg);

    msg = wire_reply_new(1, 1, WIRE_OK, "", 0);
    zframe_data(wire_frame(msg, 1))[0] = 9;
    CHECK(!s_valid(msg, &decoded)); //  unknown status
    zmsg_destroy(&msg);

    wire_event_body_t event = {WIRE_CHILD_EXITED, 1, 1, 0};
    msg = wire_event_new(1, &event);
    zframe_data(wire_frame(msg, 1))[0] = 0;
    CHECK(!s_valid(msg, &decoded)); //  unknown event kind
    zmsg_destroy(&msg);

    wire_header_t header = {WIRE_EXEC, 1, 0, 1};
    msg = wire_request_new(&header, NULL, 0);
    zmsg_addmem(msg, "", 0);
    zmsg_addstr(msg, "args");
    CHECK(!s_valid(msg, &decoded)); //  empty op name
    zmsg_destroy(&msg);

    header.type = WIRE_CREATE;
    msg = wire_request_new(&header, NULL, 0);
    zmsg_addmem(msg, "12345", 5);
    CHECK(!s_valid(msg, &decoded)); //  child id of the wrong size
    zmsg_destroy(&msg);
}

static void s_byte_order(void)
{
    byte out[8];
    wire_put_u32(out, 0x01020304);
    CHECK(out[0] == 1 && out[3] == 4 && wire_get_u32(out) == 0x01020304);
    wire_put_u64(out, 0x0102030405060708ULL);
    CHECK(out[0] == 1 && out[7] == 8 && wire_get_u64(out) == 0x0102030405060708ULL);
}

//  Deadlines are microseconds on the clock zloop counts in milliseconds.
static void s_deadline_clock(void)
{
    int64_t before = zclock_mono();
    int64_t now = wire_now_us();
    CHECK(now / 1000 >= before && now / 1000 <= zclock_mono());
    //  zloop fires at whole milliseconds of zclock_mono(), which truncates: the
    //  delay reaches the first one at or after the deadline, never one before.
    CHECK(wire_delay_ms(10500, 10900) == 1); //  from ms 10 to ms 11
    CHECK(wire_delay_ms(10500, 10000) == 1);
    CHECK(wire_delay_ms(11000, 10999) == 1);
    CHECK(wire_delay_ms(11001, 10999) == 2); //  ms 12 is the first not before it
    CHECK(wire_delay_ms(2000000, 0) == 2000);
    CHECK(wire_delay_ms(10000, 10000) == 0);
    CHECK(wire_delay_ms(5000, 10000) == 0); //  passed: at once
}

int main(void)
{
    s_round_trips();
    s_rejects();
    s_byte_order();
    s_deadline_clock();
    return check_report("wire");
}
