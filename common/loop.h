/*  loop — the one poll loop of a process: socket readers, file-descriptor pollers
    and timers, the part of czmq's zloop that mqtree uses, with fewer system calls
    per message.

    Why not zloop: zloop calls zmq_poll, which asks every socket for ZMQ_EVENTS
    twice per turn (a poll(2) each, plus getpid) around two polls of its own; with
    three sockets that is eight polls to learn that one message came. This loop polls
    each socket's ZMQ_FD together with the other descriptors once, and asks libzmq
    for ZMQ_EVENTS only for a socket whose descriptor fired or that some handler may
    have used since it was last asked (doc/performance.md has the counts).

    Semantics are zloop's: a reader is called while its socket has a message to read
    (it need not drain it), a poller when its descriptor has an event it asked for,
    a timer after its delay (in ms, `times` times, 0 = for ever). A handler that
    returns -1 ends loop_start, which then returns -1. Handlers may add and end any
    reader, poller or timer, their own included. */
#ifndef MQTREE_LOOP_H
#define MQTREE_LOOP_H

#include <czmq.h>

typedef struct _loop_t loop_t;

typedef int(loop_reader_fn)(loop_t *loop, zsock_t *reader, void *arg);
typedef int(loop_fn)(loop_t *loop, zmq_pollitem_t *item, void *arg);
typedef int(loop_timer_fn)(loop_t *loop, int timer_id, void *arg);

loop_t *loop_new(void);
void loop_destroy(loop_t **self_p);

//  Calls handler while sock has input. Returns 0, or -1 if sock has no ZMQ_FD.
int loop_reader(loop_t *self, zsock_t *sock, loop_reader_fn *handler, void *arg);
void loop_reader_end(loop_t *self, zsock_t *sock);
//  Says that no handler but this reader's own sends or receives on sock (a ZAP
//  handler's socket, a monitor's): other handlers then cost it no ZMQ_EVENTS.
void loop_reader_set_own(loop_t *self, zsock_t *sock);

//  Calls handler when item->fd has one of item->events (a descriptor, not a socket:
//  item->socket must be NULL); the item passed has revents set. A poller whose
//  descriptor errs twice in a row is ended, unless it is tolerant.
int loop_poller(loop_t *self, zmq_pollitem_t *item, loop_fn *handler, void *arg);
void loop_poller_end(loop_t *self, zmq_pollitem_t *item);
void loop_poller_set_tolerant(loop_t *self, zmq_pollitem_t *item);

//  Returns the timer's id (> 0).
int loop_timer(loop_t *self, size_t delay_ms, size_t times, loop_timer_fn *handler,
               void *arg);
//  Ends a timer; ids already ended or run out are ignored.
int loop_timer_end(loop_t *self, int timer_id);

//  Runs until a handler returns -1 (returns -1) or polling fails (returns 0).
int loop_start(loop_t *self);

#endif
