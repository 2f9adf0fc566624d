/*  wire — the message table, and the one encoder and one decoder that walk it
    (see wire.h). Nothing else in mqtree reads or writes a frame. */
#include "wire.h"
#include "mem.h"

#include <stddef.h>
#include <string.h>

//  --- The table ---------------------------------------------------------------------

typedef enum { FIELD_U8 = 1, FIELD_I32, FIELD_BYTES } field_kind_t;

//  Every field a message may carry: fixed fields in place, byte fields with their
//  length before them (except the last, see wire.h).
typedef enum {
    F_NONE = 0,
    F_PATH,
    F_CHILD,
    F_PID,
    F_CODE,
    F_INTERVAL,
    F_STATUS,
    F_EVENT,
    F_OP,
    F_TEXT,
    F_HOST,
    F_ENDPOINT,
    F_PARENT,
    F_REDUCE,
    F_SETS,
    F_ACTION,
    F_COUNT
} field_id_t;

typedef struct {
    const char *name;
    field_kind_t kind;
    size_t offset; //  in wire_msg_t
    //  Limits: the value's range for fixed fields; the size's for byte fields, whose
    //  size must also be a multiple of `multiple`.
    int64_t min, max;
    size_t multiple;
    const char *invalid; //  the decoder's reason for a value out of range
} field_t;

static const field_t s_fields[F_COUNT] = {
    [F_PATH] = {"path", FIELD_BYTES, offsetof(wire_msg_t, path), 0,
                (int64_t)WIRE_MAX_DEPTH * 4, 4, NULL},
    [F_CHILD] = {"child", FIELD_I32, offsetof(wire_msg_t, child), INT32_MIN, INT32_MAX, 0,
                 NULL},
    [F_PID] = {"pid", FIELD_I32, offsetof(wire_msg_t, pid), 0, INT32_MAX, 0, NULL},
    [F_CODE] = {"code", FIELD_I32, offsetof(wire_msg_t, code), INT32_MIN, INT32_MAX, 0,
                NULL},
    [F_INTERVAL] = {"interval", FIELD_I32, offsetof(wire_msg_t, interval_ms), INT32_MIN,
                    INT32_MAX, 0, NULL},
    [F_STATUS] = {"status", FIELD_U8, offsetof(wire_msg_t, status), WIRE_OK, WIRE_PARTIAL,
                  0, "unknown reply status"},
    [F_EVENT] = {"event", FIELD_U8, offsetof(wire_msg_t, event), WIRE_CHILD_EXITED,
                 WIRE_CHILD_BACK, 0, "unknown event kind"},
    [F_OP] = {"op", FIELD_BYTES, offsetof(wire_msg_t, op), 1, INT64_MAX, 1, NULL},
    [F_TEXT] = {"text", FIELD_BYTES, offsetof(wire_msg_t, text), 0, INT64_MAX, 1, NULL},
    [F_HOST] = {"host", FIELD_BYTES, offsetof(wire_msg_t, host), 0, WIRE_NAME_MAX, 1,
                NULL},
    [F_ENDPOINT] = {"endpoint", FIELD_BYTES, offsetof(wire_msg_t, endpoint), 0,
                    WIRE_NAME_MAX, 1, NULL},
    [F_PARENT] = {"parent", FIELD_I32, offsetof(wire_msg_t, parent), INT32_MIN, INT32_MAX,
                  0, NULL},
    [F_REDUCE] = {"reduce", FIELD_U8, offsetof(wire_msg_t, reduce), 0, WIRE_REDUCE_MAX, 0,
                  "unknown reduction"},
    [F_SETS] = {"sets", FIELD_BYTES, offsetof(wire_msg_t, sets), 0, INT64_MAX, 1, NULL},
    //  A broadcast's op: empty for none (a pingall: presence only).
    [F_ACTION] = {"op", FIELD_BYTES, offsetof(wire_msg_t, op), 0, WIRE_NAME_MAX, 1, NULL},
};

#define KIND_FIELDS 5 //  fields after the header, at most

//  One row per kind: its name, the protocol version that gave it this shape, whether
//  it travels down, and its fields after the header, in order.
typedef struct {
    const char *name;
    uint8_t version;
    bool request;
    uint8_t fields[KIND_FIELDS];
} kind_t;

//  One row per kind, as wire.h lists them.
// clang-format off
static const kind_t s_kinds[WIRE_TYPE_COUNT] = {
    [WIRE_CREATE] = {"CREATE", 4, true, {F_PATH, F_CHILD, F_HOST}},
    [WIRE_EXEC] = {"EXEC", 4, true, {F_PATH, F_OP, F_TEXT}},
    [WIRE_PING] = {"PING", 4, true, {F_PATH}},
    [WIRE_REMOVE] = {"REMOVE", 4, true, {F_PATH, F_CHILD, F_PID}},
    [WIRE_REPLY] = {"REPLY", 4, false, {F_STATUS, F_TEXT}},
    [WIRE_HELLO] = {"HELLO", 4, false, {F_PID, F_HOST, F_ENDPOINT}},
    [WIRE_EVENT] = {"EVENT", 4, false, {F_EVENT, F_CHILD, F_PID, F_CODE}},
    [WIRE_BROADCAST] = {"BROADCAST", 5, true, {F_PATH, F_REDUCE, F_SETS, F_ACTION, F_TEXT}},
    [WIRE_HEARTBEAT] = {"HEARTBEAT", 4, true, {F_PATH, F_INTERVAL}},
    [WIRE_BEAT] = {"BEAT", 4, false, {F_NONE}},
    [WIRE_ADOPT] = {"ADOPT", 4, true, {F_PATH, F_CHILD, F_PID, F_HOST}},
    [WIRE_JOIN] = {"JOIN", 4, false, {F_PARENT, F_PID, F_HOST}},
    [WIRE_LEAVE] = {"LEAVE", 4, true, {F_PATH}},
    [WIRE_CREATED] = {"CREATED", 6, false, {F_PID, F_ENDPOINT}},
    [WIRE_ADMIT] = {"ADMIT", 6, false, {F_PID, F_ENDPOINT}},
};
// clang-format on

static size_t s_field_count(const kind_t *kind)
{
    size_t count = 0;
    while (count < KIND_FIELDS && kind->fields[count] != F_NONE)
        count++;
    return count;
}

static wire_bytes_t *s_bytes_of(const wire_msg_t *self, const field_t *field)
{
    return (wire_bytes_t *)((const byte *)self + field->offset);
}

//  --- Helpers -----------------------------------------------------------------------

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
    return s_kinds[type].name;
}

bool wire_is_request(int type)
{
    return type > 0 && type < WIRE_TYPE_COUNT && s_kinds[type].request;
}

int64_t wire_now_us(void)
{
    return zclock_usecs();
}

static void s_localize(wire_msg_t *self, int64_t now_us, int64_t age_us)
{
    self->deadline_us = self->budget_us ? now_us + self->budget_us - age_us : 0;
    //  Zero means "none": a deadline that lands there has passed all the same.
    if (self->budget_us && self->deadline_us == 0)
        self->deadline_us = -1;
}

void wire_localize(wire_msg_t *self, wire_peer_clock_t *peer, int64_t now_us)
{
    //  stamp - now is the peer's clock ahead of ours, less this message's time on the
    //  way. Its largest value over recent messages is the offset less the fastest
    //  trip: what a message fell short of it is the time it spent queued or in
    //  flight (a cut link delivers old requests late, all at once). The largest is
    //  kept per window, and a window without messages keeps the last one's.
    int64_t ahead = self->sent_us - now_us;
    if (!peer->known || now_us - peer->window_start_us > WIRE_CLOCK_WINDOW_US) {
        if (peer->known && peer->window_max_set) {
            peer->previous_max_us = peer->window_max_us;
            peer->previous_set = true;
            peer->window_max_set = false;
        }
        peer->window_start_us = now_us;
    }
    if (!peer->window_max_set || ahead > peer->window_max_us)
        peer->window_max_us = ahead;
    peer->window_max_set = true;
    int64_t offset = peer->window_max_us;
    if (peer->previous_set && peer->previous_max_us > offset)
        offset = peer->previous_max_us;
    peer->known = true;
    s_localize(self, now_us, offset - ahead);
}

size_t wire_delay_ms(int64_t deadline_us, int64_t now_us)
{
    //  The loop counts whole milliseconds from zclock_mono(), which truncates: aim at
    //  the first whole millisecond at or after the deadline.
    int64_t delay = (deadline_us + 999) / 1000 - now_us / 1000;
    return delay > 0 ? (size_t)delay : 0;
}

//  --- Byte fields -------------------------------------------------------------------

//  A second frame (wire.h): a ZeroMQ message of its own, owned by the field.
static void s_tail_free(void *data, void *hint)
{
    (void)data;
    zmq_msg_t *tail = (zmq_msg_t *)hint;
    zmq_msg_close(tail);
    free(tail);
}

//  Frees by hint, not data: a path's view moves past the hops it pops.
static void s_heap_free(void *data, void *hint)
{
    (void)data;
    free(hint);
}

static void s_bytes_release(wire_bytes_t *field)
{
    if (field->free_fn)
        field->free_fn((void *)field->data, field->hint);
    *field = (wire_bytes_t){NULL, 0, NULL, NULL};
}

void wire_bytes_lend(wire_bytes_t *field, const void *data, size_t size)
{
    s_bytes_release(field);
    *field = (wire_bytes_t){(const byte *)data, size, NULL, NULL};
}

void wire_bytes_give(wire_bytes_t *field, void *data, size_t size, zmq_free_fn *free_fn,
                     void *hint)
{
    s_bytes_release(field);
    *field = (wire_bytes_t){(const byte *)data, size, free_fn, hint};
}

void wire_bytes_copy(wire_bytes_t *field, const void *data, size_t size)
{
    //  One byte more than asked: a zero-size copy still has an address.
    void *copy = mem_alloc(size + 1);
    if (size)
        memcpy(copy, data, size);
    wire_bytes_give(field, copy, size, s_heap_free, copy);
}

//  Whether the field views the frame the message came in (which it owns).
static bool s_in_frame(wire_msg_t *self, const wire_bytes_t *field)
{
    if (!self->framed || !field->data)
        return false;
    const byte *start = (const byte *)zmq_msg_data(&self->frame);
    return field->data >= start &&
           field->data + field->size <= start + zmq_msg_size(&self->frame);
}

void wire_msg_keep(wire_msg_t *self)
{
    wire_bytes_t *fields[] = {&self->path, &self->op,       &self->text,
                              &self->host, &self->endpoint, &self->sets};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i]->data && !fields[i]->free_fn && !s_in_frame(self, fields[i]))
            wire_bytes_copy(fields[i], fields[i]->data, fields[i]->size);
}

char *wire_bytes_strdup(const wire_bytes_t *field)
{
    char *text = (char *)mem_alloc(field->size + 1);
    if (field->size)
        memcpy(text, field->data, field->size);
    text[field->size] = '\0';
    return text;
}

bool wire_bytes_eq(const wire_bytes_t *field, const char *string)
{
    //  A field never set has no data: memcmp may not be given NULL, even for 0 bytes.
    return field->size == strlen(string) &&
           (field->size == 0 || memcmp(field->data, string, field->size) == 0);
}

//  --- Messages ----------------------------------------------------------------------

wire_msg_t *wire_msg_new(wire_type_t type)
{
    //  malloc, not zmalloc: glibc's calloc never takes from the per-thread cache, and
    //  a message is made and freed per hop.
    wire_msg_t *self = (wire_msg_t *)mem_alloc(sizeof(wire_msg_t));
    *self = (wire_msg_t){.type = type};
    return self;
}

void wire_msg_destroy(wire_msg_t **self_p)
{
    wire_msg_t *self = *self_p;
    if (!self)
        return;
    s_bytes_release(&self->path);
    s_bytes_release(&self->op);
    s_bytes_release(&self->text);
    s_bytes_release(&self->host);
    s_bytes_release(&self->endpoint);
    s_bytes_release(&self->sets);
    if (self->framed)
        zmq_msg_close(&self->frame);
    free(self);
    *self_p = NULL;
}

wire_msg_t *wire_reply_new(uint64_t request_id, int32_t origin, wire_status_t status,
                           const void *text, size_t size)
{
    wire_msg_t *self = wire_msg_new(WIRE_REPLY);
    self->request_id = request_id;
    self->node = origin;
    self->status = (uint8_t)status;
    wire_bytes_copy(&self->text, text, size);
    return self;
}

wire_msg_t *wire_event_new(int32_t origin, wire_event_t kind, int32_t child, int32_t pid,
                           int32_t code)
{
    wire_msg_t *self = wire_msg_new(WIRE_EVENT);
    self->node = origin;
    self->event = (uint8_t)kind;
    self->child = child;
    self->pid = pid;
    self->code = code;
    return self;
}

size_t wire_hops(const wire_msg_t *self)
{
    return self->path.size / 4;
}

int32_t wire_hop(const wire_msg_t *self, size_t index)
{
    assert(index < wire_hops(self));
    return (int32_t)wire_get_u32(self->path.data + index * 4);
}

int32_t wire_pop_hop(wire_msg_t *self)
{
    int32_t hop = wire_hop(self, 0);
    self->path.data += 4;
    self->path.size -= 4;
    return hop;
}

void wire_set_path(wire_msg_t *self, const int32_t *hops, size_t count)
{
    byte *path = (byte *)mem_alloc(count * 4 + 1);
    for (size_t hop = 0; hop < count; hop++)
        wire_put_u32(path + hop * 4, (uint32_t)hops[hop]);
    wire_bytes_give(&self->path, path, count * 4, s_heap_free, path);
}

//  --- Encoding ----------------------------------------------------------------------

//  Given memory from this size on, as a message's last field, is sent without a copy
//  in a frame of its own.
#define GIVE_MIN 65536

static void s_header_encode(byte *out, const wire_msg_t *self)
{
    //  The deadline leaves as the time left at the stamp, never as an instant: the
    //  receiver's clock need not agree with ours (wire_localize).
    int64_t stamp = self->stamp_us ? self->stamp_us : wire_now_us();
    int64_t budget = 0;
    if (self->deadline_us) {
        if (self->deadline_us <= stamp - WIRE_BUDGET_MAX)
            budget = -WIRE_BUDGET_MAX;
        else if (self->deadline_us >= stamp + WIRE_BUDGET_MAX)
            budget = WIRE_BUDGET_MAX;
        else
            budget = self->deadline_us - stamp;
        //  Never before the clock began (the decoder refuses that), never "none".
        budget = budget > 1 - stamp ? budget : 1 - stamp;
        budget = budget != 0 ? budget : -1; //  passed (negative), never "none"
    }
    out[0] = WIRE_VERSION;
    out[1] = (byte)self->type;
    wire_put_u64(out + 2, self->request_id);
    wire_put_u64(out + 10, (uint64_t)budget);
    wire_put_u64(out + 18, (uint64_t)stamp);
    wire_put_u32(out + 26, (uint32_t)self->node);
}

//  The message's last field when it leaves in a frame of its own: a second frame it
//  came in, whole, or given memory of GIVE_MIN bytes or more. NULL: one frame.
static wire_bytes_t *s_tail(const wire_msg_t *self, const kind_t *kind)
{
    size_t count = s_field_count(kind);
    const field_t *last = count ? &s_fields[kind->fields[count - 1]] : NULL;
    if (!last || last->kind != FIELD_BYTES)
        return NULL;
    wire_bytes_t *field = s_bytes_of(self, last);
    if (field->free_fn == s_tail_free) {
        zmq_msg_t *tail = (zmq_msg_t *)field->hint;
        return field->data == zmq_msg_data(tail) && field->size == zmq_msg_size(tail)
                   ? field
                   : NULL;
    }
    return field->free_fn && field->size >= GIVE_MIN ? field : NULL;
}

//  Writes the frame (header and fields, but tail) at out, or only measures it (out
//  NULL). Returns its size.
static size_t s_frame_write(const wire_msg_t *self, const kind_t *kind,
                            const wire_bytes_t *tail, byte *out)
{
    if (out)
        s_header_encode(out, self);
    size_t size = WIRE_HEADER_SIZE, count = s_field_count(kind);
    for (size_t index = 0; index < count; index++) {
        const field_t *field = &s_fields[kind->fields[index]];
        const byte *value = (const byte *)self + field->offset;
        if (field->kind == FIELD_U8) {
            if (out)
                out[size] = *value;
            size += 1;
        } else if (field->kind == FIELD_I32) {
            if (out)
                wire_put_u32(out + size, (uint32_t) * (const int32_t *)value);
            size += 4;
        } else {
            const wire_bytes_t *bytes = (const wire_bytes_t *)value;
            if (bytes == tail)
                continue;
            if (index + 1 < count) {
                //  Only the last field may be longer (every other one is bounded).
                assert(bytes->size <= UINT32_MAX);
                if (out)
                    wire_put_u32(out + size, (uint32_t)bytes->size);
                size += 4;
            }
            if (out && bytes->size)
                memcpy(out + size, bytes->data, bytes->size);
            size += bytes->size;
        }
    }
    return size;
}

//  The message as a frame and, if its last field goes apart, that field (moved out).
static void s_encode(wire_msg_t *self, zmq_msg_t *frame, wire_bytes_t *tail)
{
    assert(self && self->type > 0 && self->type < WIRE_TYPE_COUNT);
    const kind_t *kind = &s_kinds[self->type];
    wire_bytes_t *last = s_tail(self, kind);
    if (zmq_msg_init_size(frame, s_frame_write(self, kind, last, NULL)) != 0)
        abort(); //  out of memory
    s_frame_write(self, kind, last, (byte *)zmq_msg_data(frame));
    *tail = (wire_bytes_t){NULL, 0, NULL, NULL};
    if (last) {
        *tail = *last;
        *last = (wire_bytes_t){NULL, 0, NULL, NULL};
    }
}

//  Sends a last field apart: a frame received is passed on whole, given memory is
//  handed to ZeroMQ, which frees it once sent.
static void s_send_tail(void *handle, wire_bytes_t *tail)
{
    zmq_msg_t msg;
    if (tail->free_fn == s_tail_free) {
        zmq_msg_t *frame = (zmq_msg_t *)tail->hint;
        zmq_msg_init(&msg);
        zmq_msg_move(&msg, frame);
        s_bytes_release(tail);
    } else {
        zmq_msg_init_data(&msg, (void *)tail->data, tail->size, tail->free_fn,
                          tail->hint);
        *tail = (wire_bytes_t){NULL, 0, NULL, NULL}; //  ZeroMQ's now
    }
    if (zmq_msg_send(&msg, handle, 0) < 0)
        zmq_msg_close(&msg);
}

int wire_send(zsock_t *sock, const char *route, wire_msg_t **self_p)
{
    void *handle = zsock_resolve(sock);
    zmq_msg_t frame;
    wire_bytes_t tail;
    s_encode(*self_p, &frame, &tail);
    wire_msg_destroy(self_p);
    //  Only the first part may be refused (a ROUTER_MANDATORY peer is gone): then
    //  nothing was sent.
    int rc = 0;
    bool sent = false;
    if (route && zmq_send(handle, route, strlen(route), ZMQ_SNDMORE) < 0)
        rc = -1;
    else {
        sent = zmq_msg_send(&frame, handle, tail.data ? ZMQ_SNDMORE : 0) >= 0;
        rc = sent || route ? 0 : -1;
    }
    if (!sent)
        zmq_msg_close(&frame);
    if (sent && tail.data)
        s_send_tail(handle, &tail);
    s_bytes_release(&tail);
    return rc;
}

zmsg_t *wire_encode(wire_msg_t **self_p)
{
    zmq_msg_t frame;
    wire_bytes_t tail;
    s_encode(*self_p, &frame, &tail);
    wire_msg_destroy(self_p);
    zmsg_t *msg = zmsg_new();
    zmsg_addmem(msg, zmq_msg_data(&frame), zmq_msg_size(&frame));
    zmq_msg_close(&frame);
    if (tail.data)
        zmsg_addmem(msg, tail.data, tail.size);
    s_bytes_release(&tail);
    return msg;
}

//  --- Decoding ----------------------------------------------------------------------

#define SIZE_REFUSED "a message has the wrong size for its type"

static bool s_in_range(const field_t *field, int64_t value)
{
    return value >= field->min && value <= field->max;
}

static const char *s_decode_header(const byte *data, size_t size, wire_msg_t *self)
{
    if (size < WIRE_HEADER_SIZE)
        return "header missing or of the wrong size";
    if (data[0] != WIRE_VERSION)
        return "unsupported protocol version";
    if (data[1] == 0 || data[1] >= WIRE_TYPE_COUNT)
        return "unknown message type";
    self->type = (wire_type_t)data[1];
    self->request_id = wire_get_u64(data + 2);
    self->budget_us = (int64_t)wire_get_u64(data + 10);
    self->sent_us = (int64_t)wire_get_u64(data + 18);
    self->node = (int32_t)wire_get_u32(data + 26);
    //  Bounds that keep the arithmetic on them far from overflow.
    if (self->budget_us > WIRE_BUDGET_MAX || self->budget_us < -WIRE_BUDGET_MAX)
        return "a time budget out of range";
    if (self->sent_us < 0 || self->sent_us > WIRE_STAMP_MAX)
        return "a stamp out of range";
    //  As if the sender's clock were ours, as on one host (the op thread's pipe);
    //  a receiver across a link knows better (wire_localize).
    self->deadline_us = self->budget_us ? self->sent_us + self->budget_us : 0;
    if (self->budget_us && self->deadline_us <= 0)
        return "a deadline before the sender's clock began";
    return NULL;
}

//  Reads the fields after the header: views of the frame (which self owns), and the
//  last field from tail, when the message came in two frames (tail is then taken).
static const char *s_decode_fields(wire_msg_t *self, const byte *data, size_t size,
                                   zmq_msg_t **tail_p)
{
    const kind_t *kind = &s_kinds[self->type];
    size_t count = s_field_count(kind);
    for (size_t index = 0; index < count; index++) {
        const field_t *field = &s_fields[kind->fields[index]];
        bool last = index + 1 == count;
        if (field->kind != FIELD_BYTES) {
            size_t width = field->kind == FIELD_U8 ? 1 : 4;
            if (size < width)
                return SIZE_REFUSED;
            byte *value = (byte *)self + field->offset;
            int64_t number;
            if (field->kind == FIELD_U8)
                number = *value = *data;
            else
                number = *(int32_t *)value = (int32_t)wire_get_u32(data);
            if (!s_in_range(field, number))
                return field->invalid ? field->invalid : "a field is out of its range";
            data += width;
            size -= width;
            continue;
        }
        wire_bytes_t *bytes = s_bytes_of(self, field);
        size_t length = size;
        if (last && *tail_p) {
            zmq_msg_t *tail = *tail_p;
            length = zmq_msg_size(tail);
            if (!s_in_range(field, (int64_t)length) || length % field->multiple)
                return "a field has the wrong size for its type";
            *bytes = (wire_bytes_t){(const byte *)zmq_msg_data(tail), length, s_tail_free,
                                    tail};
            *tail_p = NULL;
            continue;
        }
        if (!last) {
            if (size < 4)
                return SIZE_REFUSED;
            length = wire_get_u32(data);
            data += 4;
            size -= 4;
            if (length > size)
                return SIZE_REFUSED;
        }
        if (!s_in_range(field, (int64_t)length) || length % field->multiple)
            return "a field has the wrong size for its type";
        *bytes = (wire_bytes_t){data, length, NULL, NULL};
        data += length;
        size -= length;
    }
    if (*tail_p)
        return "wrong number of frames for its type";
    return size ? SIZE_REFUSED : NULL;
}

//  Decodes self->frame (and tail: taken) into self's fields.
static const char *s_decode(wire_msg_t *self, zmq_msg_t **tail_p)
{
    const byte *data = (const byte *)zmq_msg_data(&self->frame);
    size_t size = zmq_msg_size(&self->frame);
    const char *error = s_decode_header(data, size, self);
    if (!error)
        error = s_decode_fields(self, data + WIRE_HEADER_SIZE, size - WIRE_HEADER_SIZE,
                                tail_p);
    return error;
}

static void s_frame_free(void *data, void *hint)
{
    (void)data;
    zframe_t *frame = (zframe_t *)hint;
    zframe_destroy(&frame);
}

//  A second frame's message, empty (s_tail_free releases it).
static zmq_msg_t *s_tail_new(void)
{
    zmq_msg_t *tail = (zmq_msg_t *)mem_alloc(sizeof(zmq_msg_t));
    zmq_msg_init(tail);
    return tail;
}

//  A ZeroMQ message over a zframe, without a copy (the frame is taken).
static void s_msg_of_frame(zmq_msg_t *msg, zframe_t *frame)
{
    if (zmq_msg_init_data(msg, zframe_data(frame), zframe_size(frame), s_frame_free,
                          frame))
        abort(); //  out of memory
}

//  Takes the parts of a message (and sets *out) once the frame is in self->frame.
static int s_finish(wire_msg_t *self, zmq_msg_t *tail, bool extra, wire_msg_t **out,
                    const char **reason)
{
    const char *error =
        extra ? "wrong number of frames for its type" : s_decode(self, &tail);
    if (tail)
        s_tail_free(NULL, tail);
    if (error) {
        wire_msg_destroy(&self);
        *reason = error;
    }
    *out = self;
    return error ? -1 : 0;
}

int wire_decode(zmsg_t **msg_p, wire_msg_t **out, const char **reason)
{
    zmsg_t *msg = *msg_p;
    wire_msg_t *self = wire_msg_new(WIRE_BEAT);
    zframe_t *frame = zmsg_pop(msg);
    if (!frame) {
        zmsg_destroy(msg_p);
        wire_msg_destroy(&self);
        *out = NULL;
        *reason = "header missing or of the wrong size";
        return -1;
    }
    s_msg_of_frame(&self->frame, frame);
    self->framed = true;
    zmq_msg_t *tail = NULL;
    zframe_t *second = zmsg_pop(msg);
    if (second) {
        tail = s_tail_new();
        s_msg_of_frame(tail, second);
    }
    bool extra = zmsg_size(msg) > 0;
    zmsg_destroy(msg_p);
    return s_finish(self, tail, extra, out, reason);
}

int wire_recv(zsock_t *sock, char *route, size_t route_size, wire_msg_t **out,
              const char **reason)
{
    *out = NULL;
    //  A socket that never waits (ZMQ_RCVTIMEO 0) is simply read: asking first
    //  would cost a system call per message (common/loop.h).
    if (zsock_rcvtimeo(sock) != 0 && !(zsock_events(sock) & ZMQ_POLLIN))
        return -1;
    void *handle = zsock_resolve(sock);
    zmq_msg_t part;
    zmq_msg_init(&part);
    if (zmq_msg_recv(&part, handle, 0) < 0) {
        zmq_msg_close(&part);
        return -1;
    }
    if (route) {
        size_t size = zmq_msg_size(&part);
        //  Too long to be one of ours: no route, rather than a cut one that may be.
        size = size < route_size ? size : 0;
        if (size)
            memcpy(route, zmq_msg_data(&part), size);
        route[size] = '\0';
        bool more = zmq_msg_more(&part);
        zmq_msg_close(&part);
        zmq_msg_init(&part);
        if (!more || zmq_msg_recv(&part, handle, 0) < 0) {
            zmq_msg_close(&part);
            *reason = "header missing or of the wrong size";
            return 0;
        }
    }
    wire_msg_t *self = wire_msg_new(WIRE_BEAT);
    zmq_msg_init(&self->frame);
    zmq_msg_move(&self->frame, &part);
    zmq_msg_close(&part);
    self->framed = true;
    zmq_msg_t *tail = NULL;
    bool extra = false;
    if (zmq_msg_more(&self->frame)) {
        tail = s_tail_new();
        if (zmq_msg_recv(tail, handle, 0) < 0) {
            s_tail_free(NULL, tail);
            tail = NULL;
            extra = true;
        } else if (zmq_msg_more(tail)) {
            //  A part more than a message has: the rest is read and dropped.
            extra = true;
            zmq_msg_t rest;
            zmq_msg_init(&rest);
            while (zmq_msg_recv(&rest, handle, 0) >= 0 && zmq_msg_more(&rest))
                ;
            zmq_msg_close(&rest);
        }
    }
    return s_finish(self, tail, extra, out, reason) == 0 ? 1 : 0;
}
