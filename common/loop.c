/*  loop — see loop.h. One turn: run the timers that are due, ask libzmq about the
    sockets whose state is unknown, poll every descriptor once (without waiting if a
    socket already has input), then call the pollers that fired and the readers
    that have input, each once, so that no source starves the others.

    A socket's state is unknown after its descriptor fired, and after any handler
    ran: a handler may have sent on it, and libzmq may then have taken the command
    that announced input without the descriptor firing again. Entries ended during a
    turn are only marked, and swept before the next. */
#include "loop.h"
#include "mem.h"

#include <errno.h>
#include <poll.h>

typedef struct {
    zsock_t *sock;
    int fd; //  its ZMQ_FD
    loop_reader_fn *handler;
    void *arg;
    bool ended;
    bool own;     //  only its handler uses the socket (loop_reader_set_own)
    bool unknown; //  ask ZMQ_EVENTS before trusting `input`
    bool input;
} reader_t;

typedef struct {
    zmq_pollitem_t item;
    loop_fn *handler;
    void *arg;
    bool ended;
    bool tolerant;
    int errors; //  turns in a row with an error
} poller_t;

typedef struct {
    int id;
    int64_t delay, when; //  ms, on zclock_mono
    size_t times;        //  left; 0 = for ever
    loop_timer_fn *handler;
    void *arg;
    bool ended;
} timer_t_;

struct _loop_t {
    reader_t *readers;
    size_t reader_count, reader_max;
    poller_t *pollers;
    size_t poller_count, poller_max;
    timer_t_ *timers;
    size_t timer_count, timer_max;
    int last_timer_id;
    bool started;
    bool dirty;             //  ended entries to sweep, or descriptors to rebuild
    struct pollfd *pollfds; //  readers' first, then pollers'
    size_t pollfd_max;
};

//  Grows an array to hold one more element.
static void s_grow(void **array, size_t *max, size_t count, size_t size)
{
    if (count < *max)
        return;
    size_t wanted = *max ? *max * 2 : 8;
    *array = mem_realloc(*array, wanted * size);
    *max = wanted;
}

loop_t *loop_new(void)
{
    return (loop_t *)zmalloc(sizeof(loop_t));
}

void loop_destroy(loop_t **self_p)
{
    loop_t *self = *self_p;
    if (!self)
        return;
    free(self->readers);
    free(self->pollers);
    free(self->timers);
    free(self->pollfds);
    free(self);
    *self_p = NULL;
}

int loop_reader(loop_t *self, zsock_t *sock, loop_reader_fn *handler, void *arg)
{
    int fd = zsock_fd(sock);
    if (fd < 0)
        return -1;
    s_grow((void **)&self->readers, &self->reader_max, self->reader_count, sizeof(reader_t));
    self->readers[self->reader_count++] =
        (reader_t){sock, fd, handler, arg, false, false, true, false};
    self->dirty = true;
    return 0;
}

void loop_reader_end(loop_t *self, zsock_t *sock)
{
    for (size_t index = 0; index < self->reader_count; index++)
        if (self->readers[index].sock == sock)
            self->readers[index].ended = true;
    self->dirty = true;
}

void loop_reader_set_own(loop_t *self, zsock_t *sock)
{
    for (size_t index = 0; index < self->reader_count; index++)
        if (self->readers[index].sock == sock)
            self->readers[index].own = true;
}

int loop_poller(loop_t *self, zmq_pollitem_t *item, loop_fn *handler, void *arg)
{
    if (item->socket)
        return -1;
    s_grow((void **)&self->pollers, &self->poller_max, self->poller_count, sizeof(poller_t));
    self->pollers[self->poller_count++] = (poller_t){*item, handler, arg, false, false, 0};
    self->dirty = true;
    return 0;
}

void loop_poller_end(loop_t *self, zmq_pollitem_t *item)
{
    for (size_t index = 0; index < self->poller_count; index++)
        if (self->pollers[index].item.fd == item->fd)
            self->pollers[index].ended = true;
    self->dirty = true;
}

void loop_poller_set_tolerant(loop_t *self, zmq_pollitem_t *item)
{
    for (size_t index = 0; index < self->poller_count; index++)
        if (self->pollers[index].item.fd == item->fd)
            self->pollers[index].tolerant = true;
}

int loop_timer(loop_t *self, size_t delay_ms, size_t times, loop_timer_fn *handler,
               void *arg)
{
    s_grow((void **)&self->timers, &self->timer_max, self->timer_count, sizeof(timer_t_));
    self->last_timer_id = self->last_timer_id == INT32_MAX ? 1 : self->last_timer_id + 1;
    int64_t delay = (int64_t)delay_ms;
    self->timers[self->timer_count++] = (timer_t_){
        self->last_timer_id, delay, zclock_mono() + delay, times, handler, arg, false};
    return self->last_timer_id;
}

int loop_timer_end(loop_t *self, int timer_id)
{
    for (size_t index = 0; index < self->timer_count; index++)
        if (self->timers[index].id == timer_id) {
            self->timers[index].ended = true;
            self->dirty = true;
        }
    return 0;
}

//  Drops ended entries and lays out the descriptors again.
static int s_sweep(loop_t *self)
{
    size_t kept = 0;
    for (size_t index = 0; index < self->reader_count; index++)
        if (!self->readers[index].ended)
            self->readers[kept++] = self->readers[index];
    self->reader_count = kept;
    kept = 0;
    for (size_t index = 0; index < self->poller_count; index++)
        if (!self->pollers[index].ended)
            self->pollers[kept++] = self->pollers[index];
    self->poller_count = kept;
    kept = 0;
    for (size_t index = 0; index < self->timer_count; index++)
        if (!self->timers[index].ended)
            self->timers[kept++] = self->timers[index];
    self->timer_count = kept;
    size_t wanted = self->reader_count + self->poller_count;
    if (wanted > self->pollfd_max) {
        self->pollfds = mem_realloc(self->pollfds, wanted * sizeof(struct pollfd));
        self->pollfd_max = wanted;
    }
    for (size_t index = 0; index < self->reader_count; index++)
        self->pollfds[index] = (struct pollfd){self->readers[index].fd, POLLIN, 0};
    for (size_t index = 0; index < self->poller_count; index++) {
        zmq_pollitem_t *item = &self->pollers[index].item;
        short events = (short)((item->events & ZMQ_POLLIN ? POLLIN : 0) |
                               (item->events & ZMQ_POLLOUT ? POLLOUT : 0) |
                               (item->events & ZMQ_POLLPRI ? POLLPRI : 0));
        self->pollfds[self->reader_count + index] = (struct pollfd){item->fd, events, 0};
    }
    self->dirty = false;
    return 0;
}

//  What libzmq says of a reader's socket now (a system call, when nothing is queued).
static void s_ask(reader_t *reader)
{
    reader->input = (zsock_events(reader->sock) & ZMQ_POLLIN) != 0;
    reader->unknown = false;
}

//  After a handler: any socket may have been used, but those of readers that are
//  their own (loop_reader_set_own) only by their own handler, which says so.
static void s_used(loop_t *self, reader_t *by)
{
    for (size_t index = 0; index < self->reader_count; index++)
        if (!self->readers[index].own)
            self->readers[index].unknown = true;
    if (by)
        by->unknown = true;
}

//  Runs the timers due; -1 if one said stop. Returns the ms until the next, or -1.
static int s_run_timers(loop_t *self, int64_t *wait_ms)
{
    int64_t now = zclock_mono(), next = -1;
    //  Timers added by a handler wait for the next turn.
    size_t count = self->timer_count;
    for (size_t index = 0; index < count; index++) {
        timer_t_ *timer = &self->timers[index];
        if (timer->ended)
            continue;
        if (timer->when <= now) {
            int id = timer->id;
            //  Counted down before the call: the handler may end or re-add it.
            bool last = timer->times && --timer->times == 0;
            if (last)
                timer->ended = self->dirty = true;
            else
                timer->when += timer->delay > 0 ? timer->delay : 0;
            int rc = timer->handler(self, id, timer->arg);
            s_used(self, NULL);
            if (rc == -1)
                return -1;
            timer = &self->timers[index]; //  the array may have grown
            if (timer->ended)
                continue;
        }
        if (next < 0 || timer->when < next)
            next = timer->when;
    }
    for (size_t index = count; index < self->timer_count; index++)
        if (!self->timers[index].ended && (next < 0 || self->timers[index].when < next))
            next = self->timers[index].when;
    *wait_ms = next < 0 ? -1 : next > now ? next - now : 0;
    return 0;
}

int loop_start(loop_t *self)
{
    if (!self->started) {
        //  As zloop: a timer added before the start counts from the start.
        int64_t now = zclock_mono();
        for (size_t index = 0; index < self->timer_count; index++)
            self->timers[index].when = now + self->timers[index].delay;
        self->started = true;
    }
    while (true) {
        if (self->dirty && s_sweep(self) != 0)
            return 0;
        int64_t wait_ms;
        if (s_run_timers(self, &wait_ms) != 0)
            return -1;
        if (self->dirty && s_sweep(self) != 0)
            return 0;
        bool input = false;
        for (size_t index = 0; index < self->reader_count; index++) {
            reader_t *reader = &self->readers[index];
            if (reader->unknown)
                s_ask(reader);
            input = input || reader->input;
        }
        size_t count = self->reader_count + self->poller_count;
        int timeout = input ? 0 : wait_ms > INT32_MAX ? INT32_MAX : (int)wait_ms;
        int ready = poll(self->pollfds, count, timeout);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        //  Handlers may add entries (appended) or end them (marked): the counts are
        //  this turn's, and entries are found again by index after each call.
        size_t readers = self->reader_count, pollers = self->poller_count;
        for (size_t index = 0; index < pollers; index++) {
            short revents = self->pollfds[readers + index].revents;
            poller_t *poller = &self->pollers[index];
            if (!revents || poller->ended)
                continue;
            bool error = (revents & (POLLERR | POLLNVAL)) != 0;
            if (error && !poller->tolerant && poller->errors++) {
                poller->ended = self->dirty = true;
                continue;
            }
            if (!error)
                poller->errors = 0;
            poller->item.revents = (short)((revents & POLLIN ? ZMQ_POLLIN : 0) |
                                           (revents & POLLOUT ? ZMQ_POLLOUT : 0) |
                                           (revents & POLLPRI ? ZMQ_POLLPRI : 0) |
                                           (error ? ZMQ_POLLERR : 0));
            zmq_pollitem_t item = poller->item;
            int rc = poller->handler(self, &item, poller->arg);
            s_used(self, NULL);
            if (rc == -1)
                return -1;
        }
        for (size_t index = 0; index < readers; index++) {
            reader_t *reader = &self->readers[index];
            if (self->pollfds[index].revents && !reader->input)
                s_ask(reader);
            if (!reader->input || reader->ended)
                continue;
            reader->input = false;
            int rc = reader->handler(self, reader->sock, reader->arg);
            //  Found again: the handler may have added readers (the array moves).
            s_used(self, &self->readers[index]);
            if (rc == -1)
                return -1;
        }
    }
}
