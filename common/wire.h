/*  wire — the typed messages spoken on every link of the tree, and the only code
    that reads or writes their bytes. One table (wire.c) gives each kind its fields
    and each field its size and limits; one encoder and one decoder walk it.

    A message is one frame: a 30-byte header, written field by field in network byte
    order (never a struct copy), then the kind's fields in the table's order:

        version:1  type:1  request_id:8  budget_us:8  stamp_us:8  node:4  fields...

    Fixed fields take their width (1 or 4 bytes); a byte field is its length (4
    bytes) and its bytes, except the kind's last field, which takes the rest of the
    frame. A long last field (given memory of 64 KiB or more: a sum of 10^8 numbers,
    a large result) travels as a second frame of its own instead, so it is never
    copied: the decoder takes it from there, and a node passes that frame on whole.
    One frame per message is what keeps a hop cheap: ZeroMQ's cost, on the sockets
    and in the I/O threads, is per frame.

    A deadline never crosses a link as an instant: hosts' clocks need not agree. The
    sender writes the time left (budget_us, 0: none) and its own clock (stamp_us); the
    receiver turns them into a deadline on its clock, less the time the message spent
    queued or on the way as its peer's stamps show it (wire_localize): a request held
    in a cut link or a stopped node's queue arrives as old as it is. Each level of a
    pingall keeps a fraction of the time left for its own answer (fanout.h). node is
    the target of a request and the origin of a reply or event.

    Requests travel down, replies and events travel up:

        CREATE   header, path, child-id:4, host    the path's last node spawns the child,
                                                   through its launcher on host if any
        EXEC     header, path, op, args-text       args-text may be empty
        PING     header, path
        REMOVE   header, path, child-id:4, pid:4   the path's last node kills the child
                                                   (only if its process has that pid,
                                                   unless pid is 0)
        BROADCAST header, path, reduce:1, sets, op, args-text
                                                   one command for many nodes: the path's
                                                   last node runs op (none: presence only,
                                                   a pingall) if it is a target, passes
                                                   the broadcast to each child on the way
                                                   to a target, and answers for its
                                                   subtree with one fold (fold.h); sets:
                                                   the targets and the nodes on the way
                                                   (nodeset.h's form, twice), empty for
                                                   every node below
        HEARTBEAT header, path, interval-ms:4      the path's last node and everything
                                                   below it beat every interval (0: stop)
        REPLY    header, status:1, text            text may be empty; for BROADCAST a fold
                                                   of the nodes that answered (fold.h),
                                                   status PARTIAL if more may follow
                                                   (fanout.h)
        CREATED  header, pid:4, endpoint           a CREATE's or ADOPT's success: the
                                                   child's pid (on its host), where its
                                                   children connect (a failure is a REPLY)
        ADMIT    header, join:4, endpoint          a JOIN accepted: the worker's join
                                                   number (in pid, as in ADOPT: its routing
                                                   id at its parent follows, children.h)
                                                   and its parent's endpoint
        HELLO    header, pid:4, host, endpoint     a new child to its parent, one hop: its
                                                   pid and host, where its children connect
        EVENT    header, kind:1 child-id:4 pid:4 code:4
        BEAT     header                            a child to its parent, one hop
        ADOPT    header, path, child-id:4 join:4,  like CREATE, for a worker that joins by
                 host                              itself from host, as join number `join`
                                                   (in pid): its HELLO answers it
        JOIN     header, parent:4 pid:4, host      a joining worker to the controller's
                                                   --listen endpoint: answered ADMIT, or a
                                                   REPLY that says why not
        LEAVE    header, path                      a joined node removed: it exits

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
//  3: deadlines travel as a budget with the sender's stamp; HELLO tells the host and
//  endpoint, CREATE a host; ADOPT and JOIN.
//  4: a message is one frame (fields after the header, byte fields with their
//  length), its last field in a second frame when long; pingall answers are folds.
//  5: PINGALL became BROADCAST (an op for a node set, folded and reduced on the way up).
//  6: a create's success is CREATED, a join's ADMIT (their fields typed), not REPLY
//  text.
#define WIRE_VERSION 6
#define WIRE_HEADER_SIZE 30
//  The largest time budget (about 11 days) and stamp (2^62 µs) a message may carry.
#define WIRE_BUDGET_MAX 1000000000000LL
#define WIRE_STAMP_MAX (1LL << 62)
//  The longest host name or endpoint a message carries.
#define WIRE_NAME_MAX 1024
//  Bounds a path so a hostile frame cannot make a node allocate without limit.
#define WIRE_MAX_DEPTH 1000000
//  The reductions a broadcast may ask for (node/fold.h's reduce_t, none included).
#define WIRE_REDUCE_MAX 4

typedef enum {
    WIRE_CREATE = 1,
    WIRE_EXEC,
    WIRE_PING,
    WIRE_REMOVE,
    WIRE_REPLY,
    WIRE_HELLO,
    WIRE_EVENT,
    WIRE_BROADCAST,
    WIRE_HEARTBEAT,
    WIRE_BEAT,
    WIRE_ADOPT,
    WIRE_JOIN,
    WIRE_LEAVE,
    WIRE_CREATED,
    WIRE_ADMIT,
    WIRE_TYPE_COUNT
} wire_type_t;

typedef enum {
    WIRE_OK = 0,
    WIRE_ERROR = 1,
    WIRE_UNAVAILABLE = 2,
    WIRE_PARTIAL = 3, //  a broadcast's answer at the deadline; more answers follow
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
    //  Local: on this host's CLOCK_MONOTONIC (0: none). On the wire it is a budget
    //  from the sender's stamp; the decoder sets it as if the sender's clock were
    //  ours (true in one process), and wire_localize sets it on a link's receiver.
    int64_t deadline_us;
    int64_t stamp_us;  //  to send: the clock deadline_us is on, now (0: CLOCK_MONOTONIC)
    int64_t sent_us;   //  decoded: the sender's stamp, on its clock
    int64_t budget_us; //  decoded: the time that was left at the stamp (< 0: passed)
    int32_t node;
    wire_bytes_t path; //  requests: hops below the receiver, 4 bytes each
    int32_t child;     //  CREATE, REMOVE, EVENT
    int32_t pid;       //  REMOVE (0: any), HELLO, EVENT, CREATED; ADOPT, ADMIT: join
    int32_t code;      //  EVENT: exit status, or the signal that ended or stopped it
    int32_t interval_ms; //  HEARTBEAT
    uint8_t status;      //  REPLY (wire_status_t)
    uint8_t event;       //  EVENT (wire_event_t)
    uint8_t reduce;      //  BROADCAST (reduce_t)
    wire_bytes_t sets;   //  BROADCAST: targets and reach, or empty for all
    wire_bytes_t op;     //  EXEC, BROADCAST
    wire_bytes_t text;   //  EXEC, BROADCAST: the args; REPLY: the result text or fold
    wire_bytes_t host;   //  CREATE: where to start the child (empty: here); HELLO, JOIN
    wire_bytes_t endpoint; //  HELLO, CREATED: where the node's children connect; ADMIT:
                           //  where the joiner's parent is
    int32_t parent;        //  JOIN: the node to be placed under
    //  Decoded: the frame the message came in (framed), which its fields view.
    zmq_msg_t frame;
    bool framed;
} wire_msg_t;

//  What a receiver knows of its peer's clock: the largest (stamp - arrival) seen,
//  per window of WIRE_CLOCK_WINDOW_US. Zeroed at start.
#define WIRE_CLOCK_WINDOW_US (30 * 1000000LL)
typedef struct {
    bool known;
    bool window_max_set;
    bool previous_set;
    int64_t window_start_us;
    int64_t window_max_us;
    int64_t previous_max_us;
} wire_peer_clock_t;

//  Turns a received message's budget into a deadline on the receiver's clock at
//  now_us, less the time the message spent queued or on its way as far as the
//  peer's stamps show it (they are compared with each other, never with our clock).
void wire_localize(wire_msg_t *self, wire_peer_clock_t *peer, int64_t now_us);

//  A message of type with every field zero (never NULL: mem.h).
wire_msg_t *wire_msg_new(wire_type_t type);
//  Releases the bytes the message owns.
void wire_msg_destroy(wire_msg_t **self_p);

//  Makes the message own the bytes of every field it borrows (wire_bytes_lend): it
//  may then outlive them (a request held until its next hop is ready).
void wire_msg_keep(wire_msg_t *self);

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

//  Takes the frames of msg (destroyed: one, or two, see above) into a message: 0 and *out on success; -1,
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

//  The loop's delay, in whole milliseconds, from now_us to deadline_us: a loop
//  timer armed with it right after now_us was read never fires before the deadline.
size_t wire_delay_ms(int64_t deadline_us, int64_t now_us);

//  Fixed-width big-endian helpers.
void wire_put_u32(byte *out, uint32_t value);
uint32_t wire_get_u32(const byte *in);
void wire_put_u64(byte *out, uint64_t value);
uint64_t wire_get_u64(const byte *in);

#endif
