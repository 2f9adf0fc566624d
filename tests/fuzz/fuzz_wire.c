/*  Fuzz target: the table-driven wire decoder, every kind. The input is cut into
    frames (each: one length byte, then that many bytes; 255, or a length past the
    end, takes the rest), made into a message and decoded. What decodes must survive
    a round trip: encoded, it gives back the very frames it came in (the decoder
    accepts one encoding of a message only), and those decode to the same fields.
    Its path then pops hop by hop: a path a hop shorter re-encodes as itself, and
    each pop takes one hop, the one the path held there. */
#include <czmq.h>

#include "../../common/wire.h"
#include "../../node/fanout.h"
#include "../wire_equal.h"
#include "fuzz.h"

#define MAX_FRAMES 8

static zmsg_t *s_frames(const uint8_t *data, size_t size)
{
    zmsg_t *msg = zmsg_new();
    size_t offset = 0;
    while (offset < size && zmsg_size(msg) < MAX_FRAMES) {
        size_t length = data[offset++];
        if (length == 255 || offset + length > size)
            length = size - offset;
        zmsg_addmem(msg, data + offset, length);
        offset += length;
    }
    return msg;
}

static bool s_same_frames(zmsg_t *one, zmsg_t *other)
{
    if (zmsg_size(one) != zmsg_size(other))
        return false;
    for (zframe_t *a = zmsg_first(one), *b = zmsg_first(other); a && b;
         a = zmsg_next(one), b = zmsg_next(other))
        if (!zframe_eq(a, b))
            return false;
    return true;
}

static wire_msg_t *s_decoded(zmsg_t *frames)
{
    wire_msg_t *msg = NULL;
    const char *reason = NULL;
    FUZZ_ASSERT(wire_decode(&frames, &msg, &reason) == 0 && msg && !frames);
    return msg;
}

//  msg and again are the same message: pops msg's path (and again's first hop).
static void s_pop_hops(wire_msg_t *msg, wire_msg_t **again_p)
{
    if (wire_hops(msg) == 0)
        return;
    //  A node pops its hop and forwards the shorter path.
    FUZZ_ASSERT(wire_pop_hop(*again_p) == wire_hop(msg, 0));
    *again_p = s_decoded(wire_encode(again_p));
    (void)wire_pop_hop(msg);
    FUZZ_ASSERT(wire_equal(msg, *again_p));
    size_t hops = wire_hops(msg);
    for (size_t popped = 0; popped < hops; popped++) {
        FUZZ_ASSERT(wire_hops(msg) == hops - popped);
        FUZZ_ASSERT(wire_pop_hop(msg) == wire_hop(*again_p, popped));
    }
    FUZZ_ASSERT(wire_hops(msg) == 0 && msg->path.size == 0);
}

//  A broadcast's sets are two node sets, or none; anything else must be refused.
static void s_sets(const wire_msg_t *broadcast)
{
    nodeset_t *targets, *reach;
    bool taken = fanout_sets(broadcast, &targets, &reach);
    FUZZ_ASSERT(taken || (!targets && !reach));
    FUZZ_ASSERT(!taken || (!broadcast->sets.size) == (!targets && !reach));
    if (taken && targets) {
        //  Written again, the two sets are the bytes they came from.
        size_t size = nodeset_encoded_size(targets) + nodeset_encoded_size(reach);
        uint8_t *again = (uint8_t *)malloc(size);
        nodeset_encode(targets, again);
        nodeset_encode(reach, again + nodeset_encoded_size(targets));
        FUZZ_ASSERT(size == broadcast->sets.size &&
                    memcmp(again, broadcast->sets.data, size) == 0);
        free(again);
    }
    nodeset_destroy(&targets);
    nodeset_destroy(&reach);
}

//  A broadcast's answer is a fold; anything else must be refused.
static void s_answer(const wire_msg_t *reply)
{
    fanout_t *fanout = fanout_new(1, 0, REDUCE_NONE, 0);
    fanout_expect(fanout, 7);
    bool complete = reply->status != WIRE_PARTIAL;
    bool taken = fanout_answer(fanout, 7, reply->text.data, reply->text.size, complete);
    //  Taken exactly when it is a fold that merges into an empty one of pingall's.
    const char *reason;
    fold_t *fold = fold_decode(reply->text.data, reply->text.size, &reason);
    fold_t *empty = fold_new(REDUCE_NONE);
    FUZZ_ASSERT(taken == (fold && fold_merge(empty, fold)));
    fold_destroy(&empty);
    fold_destroy(&fold);
    FUZZ_ASSERT(fanout_done(fanout) == (taken && complete));
    fanout_destroy(&fanout);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zmsg_t *input = s_frames(data, size);
    zmsg_t *copy = zmsg_dup(input);
    wire_msg_t *msg = NULL;
    const char *reason = NULL;
    if (wire_decode(&copy, &msg, &reason) != 0) {
        FUZZ_ASSERT(reason != NULL && msg == NULL && copy == NULL);
        zmsg_destroy(&input);
        return 0;
    }
    FUZZ_ASSERT(msg->type > 0 && msg->type < WIRE_TYPE_COUNT);
    FUZZ_ASSERT(wire_is_request(msg->type) || msg->path.size == 0);
    FUZZ_ASSERT(wire_hops(msg) * 4 == msg->path.size);
    FUZZ_ASSERT(msg->type != WIRE_EXEC || msg->op.size > 0);
    free(wire_bytes_strdup(&msg->op));
    free(wire_bytes_strdup(&msg->text));

    //  Encoded at the stamp it came with, it is the same time left: the same frames
    //  (but from stamp 0, which to the encoder means "now").
    FUZZ_ASSERT(msg->deadline_us == 0 || msg->deadline_us > 0);
    bool exact = msg->sent_us != 0;
    msg->stamp_us = msg->sent_us;
    zmsg_t *encoded = wire_encode(&msg);
    FUZZ_ASSERT(msg == NULL && (!exact || s_same_frames(encoded, input)));
    wire_msg_t *again = s_decoded(encoded);
    msg = s_decoded(input);
    FUZZ_ASSERT(wire_equal(msg, again));

    if (msg->type == WIRE_REPLY)
        s_answer(msg);
    if (msg->type == WIRE_BROADCAST)
        s_sets(msg);
    s_pop_hops(msg, &again);
    wire_msg_destroy(&again);
    wire_msg_destroy(&msg);
    return 0;
}
