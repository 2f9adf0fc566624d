/*  Fuzz target: the wire decoder, every message type. The input is cut into frames
    (each: one length byte, then that many bytes; the last frame takes the rest), made
    into a message, validated, and when valid taken apart the way the worker and the
    controller do. */
#include <czmq.h>

#include "../../common/fanout.h"
#include "../../common/wire.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zmsg_t *msg = zmsg_new();
    size_t offset = 0;
    while (offset < size && zmsg_size(msg) < 8) {
        size_t length = data[offset++];
        if (length == 255 || offset + length > size)
            length = size - offset;
        zmsg_addmem(msg, data + offset, length);
        offset += length;
    }
    wire_header_t header;
    const char *reason = NULL;
    if (wire_validate(msg, &header, &reason) != 0) {
        FUZZ_ASSERT(reason != NULL);
        zmsg_destroy(&msg);
        return 0;
    }
    FUZZ_ASSERT(header.type > 0 && header.type < WIRE_TYPE_COUNT);
    if (wire_is_request(header.type)) {
        zframe_t *path = wire_frame(msg, 1);
        size_t hops = wire_path_hops(path);
        FUZZ_ASSERT(hops * 4 == zframe_size(path));
        for (size_t hop = 0; hop < hops; hop++)
            (void)wire_path_hop(path, hop);
        if (hops > 0) {
            size_t frames = zmsg_size(msg);
            (void)wire_path_pop(msg);
            FUZZ_ASSERT(zmsg_size(msg) == frames);
            wire_header_t again;
            FUZZ_ASSERT(wire_validate(msg, &again, &reason) == 0);
            FUZZ_ASSERT(wire_path_hops(wire_frame(msg, 1)) == hops - 1);
        }
        if (header.type == WIRE_CREATE || header.type == WIRE_REMOVE ||
            header.type == WIRE_HEARTBEAT)
            (void)wire_frame_i32(wire_frame(msg, 2));
    } else if (header.type == WIRE_EVENT) {
        wire_event_body_t event;
        wire_event_decode(wire_frame(msg, 1), &event);
        FUZZ_ASSERT(event.kind >= WIRE_CHILD_EXITED && event.kind <= WIRE_CHILD_BACK);
    } else if (header.type == WIRE_HELLO)
        (void)wire_frame_i32(wire_frame(msg, 1));
    else if (header.type == WIRE_REPLY) {
        //  A pingall answer is a list of ids; anything else must be refused.
        zframe_t *text = wire_frame(msg, 2);
        fanout_t *fanout = fanout_new(1, 0);
        fanout_expect(fanout, 7);
        bool complete = *zframe_data(wire_frame(msg, 1)) != WIRE_PARTIAL;
        bool taken =
            fanout_answer(fanout, 7, zframe_data(text), zframe_size(text), complete);
        FUZZ_ASSERT(taken == (zframe_size(text) % 4 == 0));
        FUZZ_ASSERT(fanout_done(fanout) == (taken && complete));
        fanout_destroy(&fanout);
    }
    //  Re-encoding the header gives back the same bytes.
    byte encoded[WIRE_HEADER_SIZE];
    wire_header_encode(encoded, &header);
    FUZZ_ASSERT(memcmp(encoded, zframe_data(zmsg_first(msg)), WIRE_HEADER_SIZE) == 0);
    zmsg_destroy(&msg);
    return 0;
}
