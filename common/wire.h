/*  wire — the versioned multipart protocol spoken on every link of the tree.

    Every message starts with a 22-byte header frame, written field by field in network
    byte order (never a struct copy):

        version:1  type:1  request_id:8  deadline_us:8  node:4

    deadline_us is absolute on the host's CLOCK_MONOTONIC, in microseconds (0: none):
    each level of a pingall keeps a fraction of the time left for its own answer
    (fanout.h), far less than a millisecond at depth 1000. It stays valid
    while a message sits in a stopped node's queue, so a node woken by SIGCONT drops
    the work nobody waits for any more. node is the target of a request and the origin
    of a reply or event.

    Requests travel down, replies and events travel up:

        CREATE   header, path, child-id:4          the path's last node spawns the child
        EXEC     header, path, op, args-text       args-text may be empty
        PING     header, path
        REMOVE   header, path, child-id:4, pid:4   the path's last node kills the child
                                                   (only if its process has that pid,
                                                   unless pid is 0)
        PINGALL  header, path                      the path's last node answers for its
                                                   whole subtree: the ids that answered
        HEARTBEAT header, path, interval-ms:4      the path's last node and everything
                                                   below it beat every interval (0: stop)
        REPLY    header, status:1, text            text may be empty; for PINGALL the ids
                                                   that answered, 4 bytes each, status
                                                   PARTIAL if more may follow (fanout.h)
        HELLO    header, pid:4                     a new child to its parent, one hop
        EVENT    header, kind:1, child-id:4, pid:4, code:4
        BEAT     header                            a child to its parent, one hop

    path is the list of hops still to take below the receiver (4 bytes each, possibly
    empty): the controller computes it, each node pops its first hop and forwards, so
    no node needs to know the tree. Every frame is checked on receipt; a message that
    does not match its type's shape is dropped by the caller with the reason given. */
#ifndef MQTREE_WIRE_H
#define MQTREE_WIRE_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

//  2: deadlines in microseconds (1 had milliseconds).
#define WIRE_VERSION 2
#define WIRE_HEADER_SIZE 22
//  Bounds a path so a hostile frame cannot make a node allocate without limit.
#define WIRE_MAX_DEPTH 1000000

typedef enum {
    WIRE_CREATE = 1,
    WIRE_EXEC,
    WIRE_PING,
    WIRE_REMOVE,
    WIRE_REPLY,
    WIRE_HELLO,
    WIRE_EVENT,
    WIRE_PINGALL,
    WIRE_HEARTBEAT,
    WIRE_BEAT,
    WIRE_TYPE_COUNT
} wire_type_t;

typedef enum {
    WIRE_OK = 0,
    WIRE_ERROR = 1,
    WIRE_UNAVAILABLE = 2,
    WIRE_PARTIAL = 3, //  a pingall answer at the deadline; more answers follow
} wire_status_t;

//  What a parent reports about a child: its process ended, stopped or continued
//  (waitpid), or its heartbeats stopped or came back.
typedef enum {
    WIRE_CHILD_EXITED = 1,
    WIRE_CHILD_STOPPED,
    WIRE_CHILD_CONTINUED,
    WIRE_CHILD_LOST,
    WIRE_CHILD_BACK,
} wire_event_t;

typedef struct {
    uint8_t type;
    uint64_t request_id;
    int64_t deadline_us;
    int32_t node;
} wire_header_t;

typedef struct {
    uint8_t kind;
    int32_t child;
    int32_t pid;
    int32_t code; //  exit status, or the signal that ended or stopped the child
} wire_event_body_t;

const char *wire_type_name(int type);
bool wire_is_request(int type);

//  Checks every frame of msg against its type's shape. On success fills header and
//  returns 0; otherwise returns -1 and points reason at a static description.
int wire_validate(zmsg_t *msg, wire_header_t *header, const char **reason);

//  One frame to send: the hot paths send their frames straight from where they lie,
//  with no zmsg or zframe allocated per frame.
typedef struct {
    const void *data;
    size_t size;
    //  Optional: the part is sent without a copy, and free_fn(data, hint) releases
    //  it once ZeroMQ is done with it (or at once if it is not sent).
    zmq_free_fn *free_fn;
    void *hint;
} wire_part_t;

//  Sends parts as one multipart message. Returns -1 if the first part cannot be
//  sent (a ROUTER_MANDATORY peer is gone); nothing is sent then. Parts with a
//  free_fn are taken in every case.
int wire_send_parts(zsock_t *sock, const wire_part_t *parts, size_t count);

//  Writes a header frame's bytes.
void wire_header_encode(byte *out, const wire_header_t *header);

//  Sends a reply (header, status, text) on sock.
int wire_send_reply(zsock_t *sock, uint64_t request_id, int32_t origin,
                    wire_status_t status, const char *text, size_t length);

//  Builders. Each returns a complete message ready to send (NULL only on OOM).
zmsg_t *wire_request_new(const wire_header_t *header, const int32_t *path, size_t hops);
zmsg_t *wire_reply_new(uint64_t request_id, int32_t origin, wire_status_t status,
                       const char *text, size_t length);
zmsg_t *wire_hello_new(int32_t child, int32_t pid);
zmsg_t *wire_event_new(int32_t origin, const wire_event_body_t *event);
zmsg_t *wire_beat_new(int32_t origin);

//  Appends a 4-byte big-endian frame.
void wire_add_i32(zmsg_t *msg, int32_t value);

//  Accessors for validated messages.
zframe_t *wire_frame(zmsg_t *msg, size_t index);
int32_t wire_frame_i32(zframe_t *frame);
size_t wire_path_hops(zframe_t *path);
int32_t wire_path_hop(zframe_t *path, size_t index);
void wire_event_decode(zframe_t *frame, wire_event_body_t *event);

//  Replaces msg's path frame by one without its first hop and returns that hop;
//  the body frames are moved, not copied. msg must be a validated request with a
//  non-empty path.
int32_t wire_path_pop(zmsg_t *msg);

//  Now on the clock of deadline_us: CLOCK_MONOTONIC in microseconds.
int64_t wire_now_us(void);

//  The zloop delay, in whole milliseconds, from now_us to deadline_us: a zloop
//  timer armed with it right after now_us was read never fires before the deadline.
size_t wire_delay_ms(int64_t deadline_us, int64_t now_us);

//  Fixed-width big-endian helpers, exported for the unit tests and the codec users.
void wire_put_u32(byte *out, uint32_t value);
uint32_t wire_get_u32(const byte *in);
void wire_put_u64(byte *out, uint64_t value);
uint64_t wire_get_u64(const byte *in);

#endif
