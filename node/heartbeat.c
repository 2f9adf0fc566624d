/*  heartbeat — beats out, stall detection in (see heartbeat.h): owns the interval,
    the beat to the parent, and counting each child's silence until it is lost. */
#include "heartbeat.h"

#include <czmq.h>
#include <inttypes.h>

#include "../common/log.h"

struct _beats_t {
    int32_t self_id;
    children_t *children;
    timers_t *timers;
    beats_send_fn *send_up;
    void *send_arg;
    int interval_ms; //  0: off
    int timer;
    int64_t last_tick_us;
};

beats_t *beats_new(int32_t self_id, children_t *children, timers_t *timers,
                   beats_send_fn *send_up, void *send_arg)
{
    beats_t *self = (beats_t *)zmalloc(sizeof(beats_t));
    *self = (beats_t){self_id, children, timers, send_up, send_arg, 0, 0, 0};
    return self;
}

void beats_destroy(beats_t **self_p)
{
    beats_t *self = *self_p;
    if (!self)
        return;
    timers_cancel(self->timers, self->timer);
    free(self);
    *self_p = NULL;
}

int beats_interval(beats_t *self)
{
    return self->interval_ms;
}

static void s_beat(beats_t *self)
{
    if (!self->send_up)
        return;
    wire_msg_t *beat = wire_msg_new(WIRE_BEAT);
    beat->node = self->self_id;
    self->send_up(self->send_arg, &beat);
}

static void s_tell(beats_t *self, child_t *child)
{
    wire_msg_t *config = wire_msg_new(WIRE_HEARTBEAT);
    config->node = child->id;
    config->interval_ms = self->interval_ms;
    children_send(self->children, child, &config);
}

//  A worker ticks once an interval: it beats up and looks at its children (a silence
//  is found within 5 intervals). The root beats to no one and looks twice as often
//  (within 4.5), as the controller always did: its wake-ups are one process's.
static int64_t s_tick_us(beats_t *self)
{
    int64_t tick = (int64_t)self->interval_ms * 1000 / (self->send_up ? 1 : 2);
    return tick > 0 ? tick : 1;
}

static void s_on_tick(void *arg, int timer_id)
{
    (void)timer_id;
    beats_t *self = (beats_t *)arg;
    int64_t now = timers_now(self->timers);
    self->timer = timers_add(self->timers, now + s_tick_us(self), s_on_tick, self);
    s_beat(self);
    //  A tick this late means this process was stopped (or starved): the children's
    //  beats are waiting unread in our queue, so their silence is ours, not theirs.
    int64_t interval = (int64_t)self->interval_ms * 1000;
    bool stalled = now - self->last_tick_us > 2 * interval;
    self->last_tick_us = now;
    zlist_t *silent = zlist_new();
    for (child_t *child = children_first(self->children); child;
         child = children_next(self->children))
        if (stalled)
            child->last_beat_us = now;
        else if (child->state == CHILD_READY &&
                 now - child->last_beat_us > BEATS_MISSED * interval)
            zlist_append(silent, child);
    //  Reported after the walk: a report may change the table.
    for (child_t *child = (child_t *)zlist_first(silent); child;
         child = (child_t *)zlist_next(silent)) {
        log_info("child %d (pid %d): no heartbeat for %" PRId64 " ms", child->id,
                 (int)child->pid, BEATS_MISSED * interval / 1000);
        children_set(self->children, child, CHILD_MISS);
    }
    zlist_destroy(&silent);
}

void beats_set_interval(beats_t *self, int interval_ms)
{
    timers_cancel(self->timers, self->timer);
    self->timer = 0;
    //  Switched on or off, every child starts afresh; a new interval while on keeps
    //  a silent child silent until it beats (the controller keeps it lost).
    bool afresh = !self->interval_ms || interval_ms <= 0;
    self->interval_ms = interval_ms > 0 ? interval_ms : 0;
    int64_t now = timers_now(self->timers);
    zlist_t *silent = zlist_new();
    for (child_t *child = children_first(self->children); child;
         child = children_next(self->children)) {
        child->last_beat_us = now;
        if (child_reachable(child))
            s_tell(self, child);
        if (afresh && child->state == CHILD_SILENT)
            zlist_append(silent, child);
    }
    for (child_t *child = (child_t *)zlist_first(silent); child;
         child = (child_t *)zlist_next(silent))
        children_set(self->children, child, CHILD_BEAT);
    zlist_destroy(&silent);
    self->last_tick_us = now;
    if (self->interval_ms) {
        self->timer = timers_add(self->timers, now + s_tick_us(self), s_on_tick, self);
        s_beat(self);
    }
}

void beats_child_ready(beats_t *self, child_t *child)
{
    child->last_beat_us = timers_now(self->timers);
    //  Even "none": a first stamped message from its parent tells the child how the
    //  parent's clock runs against its own (wire_localize), before any request.
    s_tell(self, child);
}

void beats_heard(beats_t *self, child_t *child)
{
    child->last_beat_us = timers_now(self->timers);
    if (child->state == CHILD_SILENT)
        log_info("child %d (pid %d): heartbeats again", child->id, (int)child->pid);
    children_set(self->children, child, CHILD_BEAT);
}
