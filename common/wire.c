/*  wire — codec and validation of mqtree's multipart messages (see wire.h). */
#include "wire.h"

#include <string.h>

//  Frame size rules for the shape table.
enum {
    ANY = -1,      //  any size, empty included
    PATH = -2,     //  a multiple of 4 bytes, at most WIRE_MAX_DEPTH hops
    NONEMPTY = -3, //  at least one byte
};

#define EVENT_SIZE 13
#define MAX_FRAMES 4

typedef struct {
    const char *name;
    bool request;
    size_t frames;
    int sizes[MAX_FRAMES]; //  size rule of each frame; frame 0 is the header
} shape_t;

static const shape_t s_shapes[WIRE_TYPE_COUNT] = {
    [WIRE_CREATE] = {"CREATE", true, 3, {WIRE_HEADER_SIZE, PATH, 4}},
    [WIRE_EXEC] = {"EXEC", true, 4, {WIRE_HEADER_SIZE, PATH, NONEMPTY, ANY}},
    [WIRE_PING] = {"PING", true, 2, {WIRE_HEADER_SIZE, PATH}},
    [WIRE_REMOVE] = {"REMOVE", true, 4, {WIRE_HEADER_SIZE, PATH, 4, 4}},
    [WIRE_REPLY] = {"REPLY", false, 3, {WIRE_HEADER_SIZE, 1, ANY}},
    [WIRE_HELLO] = {"HELLO", false, 2, {WIRE_HEADER_SIZE, 4}},
    [WIRE_EVENT] = {"EVENT", false, 2, {WIRE_HEADER_SIZE, EVENT_SIZE}},
    [WIRE_PINGALL] = {"PINGALL", true, 2, {WIRE_HEADER_SIZE, PATH}},
    [WIRE_HEARTBEAT] = {"HEARTBEAT", true, 3, {WIRE_HEADER_SIZE, PATH, 4}},
    [WIRE_BEAT] = {"BEAT", false, 1, {WIRE_HEADER_SIZE}},
};

void wire_put_u32(byte *out, uint32_t value)
{
    for (int i = 3; i >= 0; i--, value >>= 8)
        out[i] = (byte)(value & 0xff);
}

uint32_t wire_get_u32(const byte *in)
{
    uint32_t value = 0;
    for (int i = 0; i < 4; i++)
        value = (value << 8) | in[i];
    return value;
}

void wire_put_u64(byte *out, uint64_t value)
{
    for (int i = 7; i >= 0; i--, value >>= 8)
        out[i] = (byte)(value & 0xff);
}

uint64_t wire_get_u64(const byte *in)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = (value << 8) | in[i];
    return value;
}

const char *wire_type_name(int type)
{
    if (type <= 0 || type >= WIRE_TYPE_COUNT)
        return "UNKNOWN";
    return s_shapes[type].name;
}

bool wire_is_request(int type)
{
    return type > 0 && type < WIRE_TYPE_COUNT && s_shapes[type].request;
}

int64_t wire_now_us(void)
{
    return zclock_usecs();
}

size_t wire_delay_ms(int64_t deadline_us, int64_t now_us)
{
    //  zloop counts whole milliseconds from zclock_mono(), which truncates: aim at
    //  the first whole millisecond at or after the deadline.
    int64_t delay = (deadline_us + 999) / 1000 - now_us / 1000;
    return delay > 0 ? (size_t)delay : 0;
}

void wire_header_encode(byte *out, const wire_header_t *header)
{
    out[0] = WIRE_VERSION;
    out[1] = header->type;
    wire_put_u64(out + 2, header->request_id);
    wire_put_u64(out + 10, (uint64_t)header->deadline_us);
    wire_put_u32(out + 18, (uint32_t)header->node);
}

static bool s_size_fits(int rule, size_t size)
{
    switch (rule) {
        case ANY:
            return true;
        case NONEMPTY:
            return size > 0;
        case PATH:
            return size % 4 == 0 && size / 4 <= WIRE_MAX_DEPTH;
        default:
            return size == (size_t)rule;
    }
}

int wire_send_parts(zsock_t *sock, const wire_part_t *parts, size_t count)
{
    void *handle = zsock_resolve(sock);
    for (size_t index = 0; index < count; index++) {
        const wire_part_t *part = &parts[index];
        int flags = index + 1 < count ? ZMQ_SNDMORE : 0;
        int rc;
        if (part->free_fn) {
            zmq_msg_t msg;
            zmq_msg_init_data(&msg, (void *)part->data, part->size, part->free_fn,
                              part->hint);
            rc = zmq_msg_send(&msg, handle, flags);
            if (rc < 0)
                zmq_msg_close(&msg);
        } else
            rc = zmq_send(handle, part->data, part->size, flags);
        if (rc < 0 && index == 0) {
            for (size_t rest = 1; rest < count; rest++)
                if (parts[rest].free_fn)
                    parts[rest].free_fn((void *)parts[rest].data, parts[rest].hint);
            return -1;
        }
    }
    return 0;
}

int wire_send_reply(zsock_t *sock, uint64_t request_id, int32_t origin,
                    wire_status_t status, const char *text, size_t length)
{
    wire_header_t header = {WIRE_REPLY, request_id, 0, origin};
    byte encoded[WIRE_HEADER_SIZE];
    wire_header_encode(encoded, &header);
    byte status_byte = (byte)status;
    wire_part_t parts[] = {{encoded, sizeof encoded, NULL, NULL},
                           {&status_byte, 1, NULL, NULL},
                           {text, length, NULL, NULL}};
    return wire_send_parts(sock, parts, 3);
}

int wire_validate(zmsg_t *msg, wire_header_t *header, const char **reason)
{
    zframe_t *frame = zmsg_first(msg);
    if (!frame || zframe_size(frame) != WIRE_HEADER_SIZE) {
        *reason = "header frame missing or of the wrong size";
        return -1;
    }
    const byte *data = zframe_data(frame);
    if (data[0] != WIRE_VERSION) {
        *reason = "unsupported protocol version";
        return -1;
    }
    if (data[1] == 0 || data[1] >= WIRE_TYPE_COUNT) {
        *reason = "unknown message type";
        return -1;
    }
    const shape_t *shape = &s_shapes[data[1]];
    if (zmsg_size(msg) != shape->frames) {
        *reason = "wrong number of frames for its type";
        return -1;
    }
    size_t index = 1;
    for (frame = zmsg_next(msg); frame; frame = zmsg_next(msg), index++)
        if (!s_size_fits(shape->sizes[index], zframe_size(frame))) {
            *reason = "a frame has the wrong size for its type";
            return -1;
        }
    if (data[1] == WIRE_REPLY) {
        byte status = *zframe_data(wire_frame(msg, 1));
        if (status > WIRE_PARTIAL) {
            *reason = "unknown reply status";
            return -1;
        }
    }
    if (data[1] == WIRE_EVENT) {
        byte kind = *zframe_data(wire_frame(msg, 1));
        if (kind < WIRE_CHILD_EXITED || kind > WIRE_CHILD_BACK) {
            *reason = "unknown event kind";
            return -1;
        }
    }
    header->type = data[1];
    header->request_id = wire_get_u64(data + 2);
    header->deadline_us = (int64_t)wire_get_u64(data + 10);
    header->node = (int32_t)wire_get_u32(data + 18);
    return 0;
}

static zmsg_t *s_message_new(const wire_header_t *header)
{
    byte encoded[WIRE_HEADER_SIZE];
    wire_header_encode(encoded, header);
    zmsg_t *msg = zmsg_new();
    if (msg)
        zmsg_addmem(msg, encoded, sizeof encoded);
    return msg;
}

void wire_add_i32(zmsg_t *msg, int32_t value)
{
    byte encoded[4];
    wire_put_u32(encoded, (uint32_t)value);
    zmsg_addmem(msg, encoded, sizeof encoded);
}

zmsg_t *wire_request_new(const wire_header_t *header, const int32_t *path, size_t hops)
{
    zmsg_t *msg = s_message_new(header);
    if (!msg)
        return NULL;
    zframe_t *frame = zframe_new(NULL, hops * 4);
    for (size_t hop = 0; hop < hops; hop++)
        wire_put_u32(zframe_data(frame) + hop * 4, (uint32_t)path[hop]);
    zmsg_append(msg, &frame);
    return msg;
}

zmsg_t *wire_reply_new(uint64_t request_id, int32_t origin, wire_status_t status,
                       const char *text, size_t length)
{
    wire_header_t header = {WIRE_REPLY, request_id, 0, origin};
    zmsg_t *msg = s_message_new(&header);
    if (!msg)
        return NULL;
    byte status_byte = (byte)status;
    zmsg_addmem(msg, &status_byte, 1);
    zmsg_addmem(msg, text, length);
    return msg;
}

zmsg_t *wire_hello_new(int32_t child, int32_t pid)
{
    wire_header_t header = {WIRE_HELLO, 0, 0, child};
    zmsg_t *msg = s_message_new(&header);
    if (msg)
        wire_add_i32(msg, pid);
    return msg;
}

zmsg_t *wire_event_new(int32_t origin, const wire_event_body_t *event)
{
    wire_header_t header = {WIRE_EVENT, 0, 0, origin};
    zmsg_t *msg = s_message_new(&header);
    if (!msg)
        return NULL;
    byte encoded[EVENT_SIZE];
    encoded[0] = event->kind;
    wire_put_u32(encoded + 1, (uint32_t)event->child);
    wire_put_u32(encoded + 5, (uint32_t)event->pid);
    wire_put_u32(encoded + 9, (uint32_t)event->code);
    zmsg_addmem(msg, encoded, sizeof encoded);
    return msg;
}

zmsg_t *wire_beat_new(int32_t origin)
{
    wire_header_t header = {WIRE_BEAT, 0, 0, origin};
    return s_message_new(&header);
}

zframe_t *wire_frame(zmsg_t *msg, size_t index)
{
    zframe_t *frame = zmsg_first(msg);
    while (frame && index--)
        frame = zmsg_next(msg);
    return frame;
}

int32_t wire_frame_i32(zframe_t *frame)
{
    return (int32_t)wire_get_u32(zframe_data(frame));
}

size_t wire_path_hops(zframe_t *path)
{
    return zframe_size(path) / 4;
}

int32_t wire_path_hop(zframe_t *path, size_t index)
{
    return (int32_t)wire_get_u32(zframe_data(path) + index * 4);
}

void wire_event_decode(zframe_t *frame, wire_event_body_t *event)
{
    const byte *data = zframe_data(frame);
    event->kind = data[0];
    event->child = (int32_t)wire_get_u32(data + 1);
    event->pid = (int32_t)wire_get_u32(data + 5);
    event->code = (int32_t)wire_get_u32(data + 9);
}

int32_t wire_path_pop(zmsg_t *msg)
{
    zframe_t *header = zmsg_pop(msg);
    zframe_t *path = zmsg_pop(msg);
    int32_t hop = wire_path_hop(path, 0);
    zframe_t *rest = zframe_new(zframe_data(path) + 4, zframe_size(path) - 4);
    zframe_destroy(&path);
    zmsg_prepend(msg, &rest);
    zmsg_prepend(msg, &header);
    return hop;
}
