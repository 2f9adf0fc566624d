/*  requests — the controller's table of requests in flight: keyed by request id,
    ordered by deadline. Every message the controller sends down carries one of these
    ids; the reply that comes back (or the deadline, or a death on the way) ends it.
    No I/O and no clock of its own: callers pass "now", so the unit tests can too. */
#ifndef MQTREE_REQUESTS_H
#define MQTREE_REQUESTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct _request_t request_t;

//  What a kind of request does when it ends: each entry answers the command (through
//  the owner's output) and updates the owner's state; arg is the owner. The owner
//  then forgets the request.
typedef struct {
    //  A reply came: status is WIRE_OK or WIRE_ERROR, text the node's answer.
    void (*on_reply)(void *arg, request_t *request, int status, const char *text);
    //  It can be answered no more: the way to its node is gone (a death, a stop, a
    //  failed send, a node on the way that says so).
    void (*on_unavailable)(void *arg, request_t *request);
    //  Its deadline passed with no answer.
    void (*on_timeout)(void *arg, request_t *request);
    //  Its node was made (a CREATED came: creates and joins only, NULL for the other
    //  kinds): its pid on its host, and where its children connect ("" if unknown).
    void (*on_made)(void *arg, request_t *request, int32_t pid, const char *endpoint);
} request_behaviour_t;

struct _request_t {
    uint64_t id;
    uint64_t seq;   //  the shell's number for the command it answers
    int kind;       //  the command kind (command_kind_t)
    int32_t node;   //  the node the command names
    int32_t target; //  the node the message went to (a create's or remove's parent)
    int64_t deadline_us;
    const request_behaviour_t *behaviour; //  set by the owner, by kind
    void *handle;                         //  place in the deadline order
    void *slot; //  a create's spawn slot (waiting_spawn_started), given back at its end
    //  The made_by of the node it went to (a create: of its parent) when it was sent.
    uint64_t via;
};

typedef struct _requests_t requests_t;

requests_t *requests_new(void);
void requests_destroy(requests_t **self_p);

//  Registers a request and gives it the next id (ids start at 1 and never repeat).
request_t *requests_add(requests_t *self, int kind, uint64_t seq, int32_t node,
                        int32_t target, int64_t deadline_us);
//  Runs the entry of request's behaviour for how it ended: status WIRE_OK or
//  WIRE_ERROR is a reply (with text), REQUEST_TIMED_OUT its deadline, any other
//  status (WIRE_UNAVAILABLE, or a byte no node sends) unavailable. The request stays
//  in the table: the caller removes it.
#define REQUEST_TIMED_OUT -1
void request_end(request_t *request, void *arg, int status, const char *text);
//  Runs the entry of request's behaviour for its node made (on_made, which it has).
void request_made(request_t *request, void *arg, int32_t pid, const char *endpoint);

//  NULL if there is none; id 0 names no request.
request_t *requests_find(requests_t *self, uint64_t id);

//  Forgets a request and frees it.
void requests_remove(requests_t *self, request_t *request);

size_t requests_size(requests_t *self);

//  Requests in flight whose message went to target (a create's or remove's parent,
//  an exec's or ping's node).
size_t requests_in_flight(requests_t *self, int32_t target);

//  Requests in flight of one kind (a command_kind_t below REQUESTS_KINDS).
#define REQUESTS_KINDS 16
size_t requests_of_kind(requests_t *self, int kind);

//  The earliest deadline, or -1 when the table is empty.
int64_t requests_next_deadline(requests_t *self);

//  A request whose deadline is at or before now, the earliest first; NULL if none.
request_t *requests_expired(requests_t *self, int64_t now);

//  All requests, in deadline order, into a fresh zlist the caller destroys: lets the
//  caller end some of them while it walks the list.
typedef struct _zlist_t zlist_t;
zlist_t *requests_snapshot(requests_t *self);

#endif
