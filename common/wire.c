/*  wire — the message table, and the one encoder and one decoder that walk it
    (see wire.h). Nothing else in mqtree reads or writes a frame. */
#include "wire.h"

#include <stddef.h>
#include <string.h>

//  --- The table ---------------------------------------------------------------------

typedef enum { FIELD_U8 = 1, FIELD_I32, FIELD_BYTES } field_kind_t;

//  Every field a message may carry. A byte field fills a frame of its own; fixed
//  fields may share one (EVENT packs four).
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
    [F_CHILD] = {"child", FIELD_I32, offsetof(wire_msg_t, child), INT32_MIN, INT32_MAX,
                 0, NULL},
    [F_PID] = {"pid", FIELD_I32, offsetof(wire_msg_t, pid), 0, INT32_MAX, 0, NULL},
    [F_CODE] = {"code", FIELD_I32, offsetof(wire_msg_t, code), INT32_MIN, INT32_MAX, 0,
                NULL},
    [F_INTERVAL] = {"interval", FIELD_I32, offsetof(wire_msg_t, interval_ms), INT32_MIN,
                    INT32_MAX, 0, NULL},
    [F_STATUS] = {"status", FIELD_U8, offsetof(wire_msg_t, status), WIRE_OK,
                  WIRE_PARTIAL, 0, "unknown reply status"},
    [F_EVENT] = {"event", FIELD_U8, offsetof(wire_msg_t, event), WIRE_CHILD_EXITED,
                 WIRE_CHILD_BACK, 0, "unknown event kind"},
    [F_OP] = {"op", FIELD_BYTES, offsetof(wire_msg_t, op), 1, INT64_MAX, 1, NULL},
    [F_TEXT] = {"text", FIELD_BYTES, offsetof(wire_msg_t, text), 0, INT64_MAX, 1,
                NULL},
    [F_HOST] = {"host", FIELD_BYTES, offsetof(wire_msg_t, host), 0, WIRE_NAME_MAX, 1,
                NULL},
    [F_ENDPOINT] = {"endpoint", FIELD_BYTES, offsetof(wire_msg_t, endpoint), 0,
                    WIRE_NAME_MAX, 1, NULL},
    [F_PARENT] = {"parent", FIELD_I32, offsetof(wire_msg_t, parent), INT32_MIN,
                  INT32_MAX, 0, NULL},
};

#define BODY_FRAMES 3  //  frames after the header, at most
#define FRAME_FIELDS 4 //  fields packed in one frame, at most

//  One row per kind: its name, the protocol version that gave it this shape, whether
//  it travels down, and its frames after the header, each a list of fields.
typedef struct {
    const char *name;
    uint8_t version;
    bool request;
    uint8_t frames[BODY_FRAMES][FRAME_FIELDS];
} kind_t;

static const kind_t s_kinds[WIRE_TYPE_COUNT] = {
    [WIRE_CREATE] = {"CREATE", 3, true, {{F_PATH}, {F_CHILD}, {F_HOST}}},
    [WIRE_EXEC] = {"EXEC", 2, true, {{F_PATH}, {F_OP}, {F_TEXT}}},
    [WIRE_PING] = {"PING", 2, true, {{F_PATH}}},
    [WIRE_REMOVE] = {"REMOVE", 2, true, {{F_PATH}, {F_CHILD}, {F_PID}}},
    [WIRE_REPLY] = {"REPLY", 2, false, {{F_STATUS}, {F_TEXT}}},
    [WIRE_HELLO] = {"HELLO", 3, false, {{F_PID}, {F_HOST}, {F_ENDPOINT}}},
    [WIRE_EVENT] = {"EVENT", 2, false, {{F_EVENT, F_CHILD, F_PID, F_CODE}}},
    [WIRE_PINGALL] = {"PINGALL", 2, true, {{F_PATH}}},
    [WIRE_HEARTBEAT] = {"HEARTBEAT", 2, true, {{F_PATH}, {F_INTERVAL}}},
    [WIRE_BEAT] = {"BEAT", 2, false, {{F_NONE}}},
    [WIRE_ADOPT] = {"ADOPT", 3, true, {{F_PATH}, {F_CHILD, F_PID}, {F_HOST}}},
    [WIRE_JOIN] = {"JOIN", 3, false, {{F_PARENT, F_PID}, {F_HOST}}},
    [WIRE_LEAVE] = {"LEAVE", 3, true, {{F_PATH}}},
};

static size_t s_width(const field_t *field)
{
    return field->kind == FIELD_U8 ? 1 : field->kind == FIELD_I32 ? 4 : 0;
}

static size_t s_frame_count(const kind_t *kind)
{
    size_t count = 0;
    while (count < BODY_FRAMES && kind->frames[count][0] != F_NONE)
        count++;
    return count;
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

static void s_frame_free(void *data, void *hint)
{
    (void)data;
    zframe_t *frame = (zframe_t *)hint;
    zframe_destroy(&frame);
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
    void *copy = malloc(size + 1);
    assert(copy);
    if (size)
        memcpy(copy, data, size);
    wire_bytes_give(field, copy, size, s_heap_free, copy);
}

void wire_msg_keep(wire_msg_t *self)
{
    wire_bytes_t *fields[] = {&self->path, &self->op, &self->text, &self->host,
                              &self->endpoint};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i]->data && !fields[i]->free_fn)
            wire_bytes_copy(fields[i], fields[i]->data, fields[i]->size);
}

char *wire_bytes_strdup(const wire_bytes_t *field)
{
    char *text = (char *)malloc(field->size + 1);
    assert(text);
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
    wire_msg_t *self = (wire_msg_t *)zmalloc(sizeof(wire_msg_t));
    self->type = type;
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

wire_msg_t *wire_event_new(int32_t origin, wire_event_t kind, int32_t child,
                           int32_t pid, int32_t code)
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
    byte *path = (byte *)malloc(count * 4 + 1);
    assert(path);
    for (size_t hop = 0; hop < count; hop++)
        wire_put_u32(path + hop * 4, (uint32_t)hops[hop]);
    wire_bytes_give(&self->path, path, count * 4, s_heap_free, path);
}

//  --- Encoding ----------------------------------------------------------------------

#define MAX_PARTS (2 + BODY_FRAMES) //  route, header, body
#define PACKED_MAX 16               //  the largest frame of fixed fields (EVENT: 13)

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

static size_t s_pack(const wire_msg_t *self, const uint8_t *fields, byte *out)
{
    size_t size = 0;
    for (size_t index = 0; index < FRAME_FIELDS && fields[index] != F_NONE; index++) {
        const field_t *field = &s_fields[fields[index]];
        const byte *value = (const byte *)self + field->offset;
        if (field->kind == FIELD_U8)
            out[size] = *value;
        else
            wire_put_u32(out + size, (uint32_t) * (const int32_t *)value);
        size += s_width(field);
    }
    return size;
}

//  The message's body frames into parts: byte fields are moved out of the message
//  (which keeps nothing to free), fixed fields packed into packed[].
static size_t s_body_parts(wire_msg_t *self, byte packed[][PACKED_MAX], wire_bytes_t *parts)
{
    const kind_t *kind = &s_kinds[self->type];
    size_t count = s_frame_count(kind);
    for (size_t frame = 0; frame < count; frame++) {
        const field_t *first = &s_fields[kind->frames[frame][0]];
        if (first->kind == FIELD_BYTES) {
            wire_bytes_t *field = (wire_bytes_t *)((byte *)self + first->offset);
            parts[frame] = *field;
            *field = (wire_bytes_t){NULL, 0, NULL, NULL};
        } else {
            size_t size = s_pack(self, kind->frames[frame], packed[frame]);
            parts[frame] = (wire_bytes_t){packed[frame], size, NULL, NULL};
        }
    }
    return count;
}

//  Given memory from this size on is sent without a copy.
#define GIVE_MIN 65536

static int s_send_part(zsock_t *sock, wire_bytes_t *part, int flags)
{
    int rc;
    if (part->free_fn == s_frame_free) {
        zframe_t *frame = (zframe_t *)part->hint;
        if (part->data == zframe_data(frame) && part->size == zframe_size(frame)) {
            //  Whole: the frame itself goes (zframe_send destroys it).
            part->free_fn = NULL;
            return zframe_send(&frame, sock, flags & ZMQ_SNDMORE ? ZFRAME_MORE : 0);
        }
        //  A path a hop shorter: a view of part of its frame, copied.
        rc = zmq_send(zsock_resolve(sock), part->data, part->size, flags);
        s_bytes_release(part);
        return rc < 0 ? -1 : 0;
    }
    if (part->free_fn && part->size < GIVE_MIN) {
        //  Small: a copy (inline in the message, under 33 bytes) costs less than
        //  handing memory to the I/O thread, which frees it from there.
        rc = zmq_send(zsock_resolve(sock), part->data, part->size, flags);
        s_bytes_release(part);
        return rc < 0 ? -1 : 0;
    }
    if (part->free_fn) {
        zmq_msg_t msg;
        zmq_msg_init_data(&msg, (void *)part->data, part->size, part->free_fn,
                          part->hint);
        part->free_fn = NULL; //  ZeroMQ's now, or freed by the close below
        rc = zmq_msg_send(&msg, zsock_resolve(sock), flags);
        if (rc < 0)
            zmq_msg_close(&msg);
        return rc < 0 ? -1 : 0;
    }
    rc = zmq_send(zsock_resolve(sock), part->data, part->size, flags);
    return rc < 0 ? -1 : 0;
}

int wire_send(zsock_t *sock, const char *route, wire_msg_t **self_p)
{
    wire_msg_t *self = *self_p;
    assert(self && self->type > 0 && self->type < WIRE_TYPE_COUNT);
    byte header[WIRE_HEADER_SIZE];
    byte packed[BODY_FRAMES][PACKED_MAX];
    wire_bytes_t parts[MAX_PARTS];
    size_t count = 0;
    if (route)
        parts[count++] = (wire_bytes_t){(const byte *)route, strlen(route), NULL, NULL};
    s_header_encode(header, self);
    parts[count++] = (wire_bytes_t){header, sizeof header, NULL, NULL};
    count += s_body_parts(self, packed, parts + count);
    int rc = 0;
    for (size_t index = 0; index < count; index++) {
        int flags = index + 1 < count ? ZMQ_SNDMORE : 0;
        if (s_send_part(sock, &parts[index], flags) != 0 && index == 0) {
            //  The first part was refused (the peer is gone): nothing was sent.
            rc = -1;
            for (size_t rest = 0; rest < count; rest++)
                s_bytes_release(&parts[rest]);
            break;
        }
    }
    wire_msg_destroy(self_p);
    return rc;
}

zmsg_t *wire_encode(wire_msg_t **self_p)
{
    wire_msg_t *self = *self_p;
    byte header[WIRE_HEADER_SIZE];
    byte packed[BODY_FRAMES][PACKED_MAX];
    wire_bytes_t parts[BODY_FRAMES];
    s_header_encode(header, self);
    zmsg_t *msg = zmsg_new();
    zmsg_addmem(msg, header, sizeof header);
    size_t count = s_body_parts(self, packed, parts);
    for (size_t index = 0; index < count; index++) {
        zmsg_addmem(msg, parts[index].data, parts[index].size);
        s_bytes_release(&parts[index]);
    }
    wire_msg_destroy(self_p);
    return msg;
}

//  --- Decoding ----------------------------------------------------------------------

static bool s_in_range(const field_t *field, int64_t value)
{
    return value >= field->min && value <= field->max;
}

//  Reads one body frame into self; the frame is taken when a byte field keeps it.
static const char *s_decode_frame(wire_msg_t *self, const uint8_t *fields,
                                  zframe_t **frame_p)
{
    zframe_t *frame = *frame_p;
    size_t size = zframe_size(frame);
    const field_t *first = &s_fields[fields[0]];
    if (first->kind == FIELD_BYTES) {
        if (!s_in_range(first, (int64_t)size) || size % first->multiple)
            return "a frame has the wrong size for its type";
        wire_bytes_t *field = (wire_bytes_t *)((byte *)self + first->offset);
        *field = (wire_bytes_t){zframe_data(frame), size, s_frame_free, frame};
        *frame_p = NULL;
        return NULL;
    }
    size_t expected = 0;
    for (size_t index = 0; index < FRAME_FIELDS && fields[index] != F_NONE; index++)
        expected += s_width(&s_fields[fields[index]]);
    if (size != expected)
        return "a frame has the wrong size for its type";
    const byte *data = zframe_data(frame);
    for (size_t index = 0; index < FRAME_FIELDS && fields[index] != F_NONE; index++) {
        const field_t *field = &s_fields[fields[index]];
        byte *value = (byte *)self + field->offset;
        int64_t number;
        if (field->kind == FIELD_U8)
            number = *value = *data;
        else
            number = *(int32_t *)value = (int32_t)wire_get_u32(data);
        if (!s_in_range(field, number))
            return field->invalid ? field->invalid : "a field is out of its range";
        data += s_width(field);
    }
    return NULL;
}

static const char *s_decode_header(zframe_t *frame, wire_msg_t *self)
{
    if (!frame || zframe_size(frame) != WIRE_HEADER_SIZE)
        return "header frame missing or of the wrong size";
    const byte *data = zframe_data(frame);
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

int wire_decode(zmsg_t **msg_p, wire_msg_t **out, const char **reason)
{
    zmsg_t *msg = *msg_p;
    wire_msg_t *self = wire_msg_new(WIRE_BEAT);
    zframe_t *header = zmsg_pop(msg);
    const char *error = s_decode_header(header, self);
    zframe_destroy(&header);
    const kind_t *kind = error ? NULL : &s_kinds[self->type];
    if (kind && zmsg_size(msg) != s_frame_count(kind))
        error = "wrong number of frames for its type";
    for (size_t index = 0; kind && !error && zmsg_size(msg); index++) {
        zframe_t *frame = zmsg_pop(msg);
        error = s_decode_frame(self, kind->frames[index], &frame);
        zframe_destroy(&frame);
    }
    zmsg_destroy(msg_p);
    if (error) {
        wire_msg_destroy(&self);
        *reason = error;
    }
    *out = self;
    return error ? -1 : 0;
}

int wire_recv(zsock_t *sock, char *route, size_t route_size, wire_msg_t **out,
              const char **reason)
{
    *out = NULL;
    //  A socket that never waits (ZMQ_RCVTIMEO 0) is simply read: asking first
    //  would cost a system call per message (common/loop.h).
    if (zsock_rcvtimeo(sock) != 0 && !(zsock_events(sock) & ZMQ_POLLIN))
        return -1;
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        return -1;
    if (route) {
        zframe_t *id = zmsg_pop(msg);
        size_t size = id ? zframe_size(id) : 0;
        //  Too long to be one of ours: no route, rather than a cut one that may be.
        size = size < route_size ? size : 0;
        if (size)
            memcpy(route, zframe_data(id), size);
        route[size] = '\0';
        zframe_destroy(&id);
    }
    return wire_decode(&msg, out, reason) == 0 ? 1 : 0;
}
