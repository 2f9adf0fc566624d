/*  timers — one-shot timers on an injected clock. The node core keeps its deadlines
    here (a create's, a pingall's, the heartbeat tick), so a unit test advances time
    by hand and runs what is due, with no sleep; in a process, the owner arms one
    loop timer (common/loop.h) for the earliest and calls timers_run when it fires. */
#ifndef MQTREE_TIMERS_H
#define MQTREE_TIMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  A clock: now in microseconds on the deadlines' clock (wire_now_us by default).
typedef int64_t(clock_now_fn)(void *arg);
typedef struct {
    clock_now_fn *now_us;
    void *arg;
} clock_source_t;

//  The default: CLOCK_MONOTONIC, the clock of the wire's deadlines.
clock_source_t clock_monotonic(void);

typedef void(timer_fn)(void *arg, int timer_id);
//  Hears that the earliest timer changed (to at_us, or -1: none left).
typedef void(timers_watch_fn)(void *arg, int64_t at_us);

typedef struct _timers_t timers_t;

timers_t *timers_new(clock_source_t clock);
void timers_destroy(timers_t **self_p);

int64_t timers_now(timers_t *self);

//  Calls fn(arg, id) once, at or after at_us. Returns the timer's id (> 0).
int timers_add(timers_t *self, int64_t at_us, timer_fn *fn, void *arg);
//  Cancels a timer not yet run; 0 and ids already run are ignored.
void timers_cancel(timers_t *self, int id);

//  The earliest timer's time, or -1 if none.
int64_t timers_next(timers_t *self);

//  Runs every timer due at now, earliest first (timers they add run too if due).
//  Returns how many ran.
int timers_run(timers_t *self);

void timers_set_watch(timers_t *self, timers_watch_fn *watch, void *arg);

size_t timers_size(timers_t *self);

//  A timer that fires this late means the process was stopped or starved: messages
//  may still sit in the kernel, even connections not yet accepted, and ZeroMQ's I/O
//  thread resumed with us. Before anything due counts, the loop gives it
//  STALL_GRACE_MS, and again while messages keep coming in (a burst of connections
//  completes its handshakes one round trip at a time), up to STALL_GRACE_MAX_MS.
#define STALL_MS 10
#define STALL_GRACE_MS 20
#define STALL_GRACE_MAX_MS 1000
typedef struct {
    bool grace;       //  a grace is under way
    int64_t start_us; //  when it began
    size_t heard;     //  messages read since the last look
} stall_t;

//  A loop timer due at due_us fired at now_us: the milliseconds to wait before
//  running what was due (a grace starts or goes on), or 0 to run it now.
int stall_wait_ms(stall_t *self, int64_t now_us, int64_t due_us);

//  A message was read (counts only during a grace).
void stall_heard(stall_t *self);

#endif
