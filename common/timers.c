/*  timers — one-shot timers on an injected clock (see timers.h). A sorted list: a
    node has a few timers at a time (one per create or pingall in progress). */
#include "timers.h"

#include <czmq.h>

#include "wire.h"

typedef struct {
    int id;
    int64_t at_us;
    timer_fn *fn;
    void *arg;
} timer_t_;

struct _timers_t {
    clock_source_t clock;
    zlistx_t *timers; //  timer_t_, by time, then by id
    int last_id;
    timers_watch_fn *watch;
    void *watch_arg;
};

static int64_t s_monotonic(void *arg)
{
    (void)arg;
    return wire_now_us();
}

clock_source_t clock_monotonic(void)
{
    return (clock_source_t){s_monotonic, NULL};
}

static int s_compare(const void *a, const void *b)
{
    const timer_t_ *left = (const timer_t_ *)a, *right = (const timer_t_ *)b;
    if (left->at_us != right->at_us)
        return left->at_us < right->at_us ? -1 : 1;
    return (left->id > right->id) - (left->id < right->id);
}

static void s_free(void **item)
{
    free(*item);
    *item = NULL;
}

timers_t *timers_new(clock_source_t clock)
{
    timers_t *self = (timers_t *)zmalloc(sizeof(timers_t));
    self->clock = clock;
    self->timers = zlistx_new();
    zlistx_set_comparator(self->timers, s_compare);
    zlistx_set_destructor(self->timers, s_free);
    return self;
}

void timers_destroy(timers_t **self_p)
{
    timers_t *self = *self_p;
    if (!self)
        return;
    zlistx_destroy(&self->timers);
    free(self);
    *self_p = NULL;
}

int64_t timers_now(timers_t *self)
{
    return self->clock.now_us(self->clock.arg);
}

static void s_watch(timers_t *self, int64_t before)
{
    int64_t next = timers_next(self);
    if (self->watch && next != before)
        self->watch(self->watch_arg, next);
}

int timers_add(timers_t *self, int64_t at_us, timer_fn *fn, void *arg)
{
    int64_t before = timers_next(self);
    timer_t_ *timer = (timer_t_ *)zmalloc(sizeof(timer_t_));
    //  Ids wrap long after any timer of the same id is gone.
    self->last_id = self->last_id == INT32_MAX ? 1 : self->last_id + 1;
    *timer = (timer_t_){self->last_id, at_us, fn, arg};
    zlistx_insert(self->timers, timer, false);
    s_watch(self, before);
    return timer->id;
}

void timers_cancel(timers_t *self, int id)
{
    if (id <= 0)
        return;
    int64_t before = timers_next(self);
    for (timer_t_ *timer = (timer_t_ *)zlistx_first(self->timers); timer;
         timer = (timer_t_ *)zlistx_next(self->timers))
        if (timer->id == id) {
            zlistx_delete(self->timers, zlistx_cursor(self->timers));
            break;
        }
    s_watch(self, before);
}

int64_t timers_next(timers_t *self)
{
    timer_t_ *first = (timer_t_ *)zlistx_first(self->timers);
    return first ? first->at_us : -1;
}

int timers_run(timers_t *self)
{
    int count = 0;
    int64_t before = timers_next(self);
    timer_t_ *first;
    //  Each is off the list before it runs: it may add or cancel timers.
    while ((first = (timer_t_ *)zlistx_first(self->timers)) &&
           first->at_us <= timers_now(self)) {
        timer_t_ timer = *first;
        zlistx_delete(self->timers, zlistx_cursor(self->timers));
        timer.fn(timer.arg, timer.id);
        count++;
    }
    s_watch(self, before);
    return count;
}

void timers_set_watch(timers_t *self, timers_watch_fn *watch, void *arg)
{
    self->watch = watch;
    self->watch_arg = arg;
}

size_t timers_size(timers_t *self)
{
    return zlistx_size(self->timers);
}

int stall_wait_ms(stall_t *self, int64_t now_us, int64_t due_us)
{
    if (!self->grace) {
        if (now_us - due_us <= STALL_MS * 1000)
            return 0;
        *self = (stall_t){true, now_us, 0};
        return STALL_GRACE_MS;
    }
    if (self->heard && now_us - self->start_us < STALL_GRACE_MAX_MS * 1000) {
        self->heard = 0;
        return STALL_GRACE_MS;
    }
    *self = (stall_t){false, 0, 0};
    return 0;
}

void stall_heard(stall_t *self)
{
    if (self->grace)
        self->heard++;
}
