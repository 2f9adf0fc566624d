/*  wire — the typed messages spoken on every link of the tree, and the only code
    that reads or writes their frames. One table (wire.c) gives each kind its frames
    and each field its size and limits; one encoder and one decoder walk it.

    Every message starts with a 22-byte header frame, written field by field in network
    byte order (never a struct copy):

        version:1  type:1  request_id:8  deadline_us:8  node:4

    deadline_us is absolute on the host's CLOCK_MONOTONIC, in microseconds (0: none):
    each level of a pingall keeps a fraction of the time left for its own answer
    (fanout.h). It stays valid while a message sits in a stopped node's queue, so a
    node woken by SIGCONT drops the work nobody waits for any more. node is the target
    of a request and the origin of a reply or event.

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
        EVENT    header, kind:1 child-id:4 pid:4 code:4   (one frame)
        BEAT     header                            a child to its parent, one hop

    path is the list of hops still to take below the receiver (4 bytes each, possibly
    empty): the controller computes it, each node pops its first hop and forwards, so
    no node needs to know the tree. A message that does not match its kind's shape is
    refused by the decoder with the reason, and dropped by the caller. The op thread's
    pipe carries the same messages: EXEC in, REPLY out. */
#ifndef MQTREE_WIRE_H
#define MQTREE_WIRE_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

//  2: deadlines in microseconds (1 had milliseconds). A change of any kind's shape
//  in the table is a new version.
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

//  A byte field: a view of bytes and who owns them. Decoded fields own the frame
//  they came in (free_fn releases it); a field set with wire_bytes_lend borrows
//  (free_fn NULL: the caller keeps the bytes alive until the message is sent or
//  destroyed); wire_bytes_give hands memory over, sent without a copy.
typedef struct {
    const byte *data;
    size_t size;
    zmq_free_fn *free_fn;
    void *hint;
} wire_bytes_t;

typedef struct {
    wire_type_t type;
    uint64_t request_id;
    int64_t deadline_us;
    int32_t node;
    wire_bytes_t path; //  requests: hops below the receiver, 4 bytes each
    int32_t child;     //  CREATE, REMOVE, EVENT
    int32_t pid;       //  REMOVE (0: any), HELLO, EVENT
    int32_t code;      //  EVENT: exit status, or the signal that ended or stopped it
    int32_t interval_ms; //  HEARTBEAT
    uint8_t status;      //  REPLY (wire_status_t)
    uint8_t event;       //  EVENT (wire_event_t)
    wire_bytes_t op;     //  EXEC
    wire_bytes_t text;   //  EXEC: the args; REPLY: the result text or pingall ids
} wire_msg_t;

//  A message of type with every field zero. NULL only on OOM.
wire_msg_t *wire_msg_new(wire_type_t type);
//  Releases the bytes the message owns.
void wire_msg_destroy(wire_msg_t **self_p);

//  Builders for the kinds sent most.
wire_msg_t *wire_reply_new(uint64_t request_id, int32_t origin, wire_status_t status,
                           const void *text, size_t size);
wire_msg_t *wire_event_new(int32_t origin, wire_event_t kind, int32_t child,
                           int32_t pid, int32_t code);

//  Points a byte field at bytes the caller keeps alive (see wire_bytes_t).
void wire_bytes_lend(wire_bytes_t *field, const void *data, size_t size);
//  Hands data over: free_fn(data, hint) runs once ZeroMQ is done with it. data may
//  have moved by then (a path pops its hops): free what hint names.
void wire_bytes_give(wire_bytes_t *field, void *data, size_t size, zmq_free_fn *free_fn,
                     void *hint);
//  Copies data into the field, which then owns the copy.
void wire_bytes_copy(wire_bytes_t *field, const void *data, size_t size);
//  The field's bytes as a fresh string (a NUL after them). The caller frees it.
char *wire_bytes_strdup(const wire_bytes_t *field);
bool wire_bytes_eq(const wire_bytes_t *field, const char *string);

//  Takes the frames of msg (destroyed) into a message: 0 and *out on success; -1,
//  *out NULL and reason pointed at a static description when msg does not match its
//  kind's shape (every frame's size, every field's limits).
int wire_decode(zmsg_t **msg_p, wire_msg_t **out, const char **reason);

//  Receives one message from sock, without blocking; on a ROUTER, the first frame is
//  the routing id, copied into route (up to route_size - 1 bytes, NUL added).
//  Returns 1 with *out set, 0 for a message dropped as malformed (reason set), -1 if
//  nothing is waiting.
int wire_recv(zsock_t *sock, char *route, size_t route_size, wire_msg_t **out,
              const char **reason);

//  Sends the message (destroyed in every case), on a ROUTER to route (NULL on other
//  sockets). Returns -1 if it cannot be sent (a ROUTER_MANDATORY peer is gone).
int wire_send(zsock_t *sock, const char *route, wire_msg_t **self_p);

//  The encoded frames of a message (for tests and fuzzers): the message is taken.
zmsg_t *wire_encode(wire_msg_t **self_p);

const char *wire_type_name(int type);
bool wire_is_request(int type);

//  Paths: how many hops are left, one of them, and the first taken off (the view
//  moves past it: no copy). A request with no hop left is for its receiver.
size_t wire_hops(const wire_msg_t *self);
int32_t wire_hop(const wire_msg_t *self, size_t index);
int32_t wire_pop_hop(wire_msg_t *self);
//  Sets a request's path to hops, copied.
void wire_set_path(wire_msg_t *self, const int32_t *hops, size_t count);

//  Now on the clock of deadline_us: CLOCK_MONOTONIC in microseconds.
int64_t wire_now_us(void);

//  The zloop delay, in whole milliseconds, from now_us to deadline_us: a zloop
//  timer armed with it right after now_us was read never fires before the deadline.
size_t wire_delay_ms(int64_t deadline_us, int64_t now_us);

//  Fixed-width big-endian helpers (pingall answers are lists of 4-byte ids).
void wire_put_u32(byte *out, uint32_t value);
uint32_t wire_get_u32(const byte *in);
void wire_put_u64(byte *out, uint64_t value);
uint64_t wire_get_u64(const byte *in);

#endif
