/*  Unit test: the poll loop — readers are called while their socket has input, also
    when a handler sent that input without the socket's descriptor firing again;
    timers run on time, repeat, end from inside a handler; pollers see their
    descriptor; a handler's -1 ends the loop; entries added and ended mid-turn. */
#include "../common/loop.h"
#include "check.h"

#include <unistd.h>

typedef struct {
    zsock_t *in, *out; //  a PAIR: out sends, in is read by the loop
    int reads;         //  messages read by the reader
    int stop_after;    //  the reader ends the loop after this many
    int batch;         //  messages the reader takes per call (it need not drain)
} pair_t;

static void s_pair(pair_t *pair, const char *name, int stop_after, int batch)
{
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://test-loop-%s", name);
    pair->in = zsock_new(ZMQ_PAIR);
    CHECK(zsock_bind(pair->in, "%s", endpoint) == 0);
    pair->out = zsock_new(ZMQ_PAIR);
    CHECK(zsock_connect(pair->out, "%s", endpoint) == 0);
    //  As the node's sockets: read without waiting.
    zsock_set_rcvtimeo(pair->in, 0);
    pair->reads = 0;
    pair->stop_after = stop_after;
    pair->batch = batch;
}

static void s_pair_destroy(pair_t *pair)
{
    zsock_destroy(&pair->in);
    zsock_destroy(&pair->out);
}

static int s_on_read(loop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    pair_t *pair = (pair_t *)arg;
    for (int taken = 0; taken < pair->batch; taken++) {
        char *text = zstr_recv(reader);
        if (!text)
            break;
        free(text);
        pair->reads++;
    }
    return pair->reads >= pair->stop_after ? -1 : 0;
}

//  A loop that hangs must fail the test, not hang it.
static int s_on_give_up(loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    *(bool *)arg = true;
    return -1;
}

static void s_reads_all_even_one_per_call(void)
{
    pair_t pair;
    s_pair(&pair, "batch", 50, 1);
    for (int i = 0; i < 50; i++)
        zstr_send(pair.out, "x");
    loop_t *loop = loop_new();
    bool gave_up = false;
    loop_reader(loop, pair.in, s_on_read, &pair);
    loop_timer(loop, 10000, 1, s_on_give_up, &gave_up);
    CHECK(loop_start(loop) == -1);
    CHECK(!gave_up && pair.reads == 50);
    loop_destroy(&loop);
    CHECK(loop == NULL);
    s_pair_destroy(&pair);
}

//  Two pairs: each message read on A is sent on B's far end, and B's reader sends
//  the next on A's. Every send happens inside a handler, where the other socket's
//  descriptor may not fire again: the loop must look anyway.
typedef struct {
    pair_t a, b;
    int rounds;
} relay_t;

static int s_on_a(loop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    relay_t *relay = (relay_t *)arg;
    char *text = zstr_recv(reader);
    if (text) {
        free(text);
        relay->a.reads++;
        zstr_send(relay->b.out, "to b");
    }
    return 0;
}

static int s_on_b(loop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    relay_t *relay = (relay_t *)arg;
    char *text = zstr_recv(reader);
    if (text) {
        free(text);
        relay->b.reads++;
        if (relay->b.reads == relay->rounds)
            return -1;
        zstr_send(relay->a.out, "to a");
    }
    return 0;
}

static void s_handlers_feed_each_other(void)
{
    relay_t relay = {.rounds = 2000};
    s_pair(&relay.a, "relay-a", 0, 1);
    s_pair(&relay.b, "relay-b", 0, 1);
    loop_t *loop = loop_new();
    bool gave_up = false;
    loop_reader(loop, relay.a.in, s_on_a, &relay);
    loop_reader(loop, relay.b.in, s_on_b, &relay);
    loop_timer(loop, 10000, 1, s_on_give_up, &gave_up);
    zstr_send(relay.a.out, "start");
    CHECK(loop_start(loop) == -1);
    CHECK(!gave_up && relay.a.reads == 2000 && relay.b.reads == 2000);
    loop_destroy(&loop);
    s_pair_destroy(&relay.a);
    s_pair_destroy(&relay.b);
}

typedef struct {
    int ticks;
    int64_t first_at, last_at;
    int repeating, other; //  timer ids
    int other_ran;
} timing_t;

static int s_on_other(loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    ((timing_t *)arg)->other_ran++;
    return 0;
}

static int s_on_tick(loop_t *loop, int timer_id, void *arg)
{
    timing_t *timing = (timing_t *)arg;
    CHECK(timer_id == timing->repeating);
    int64_t now = zclock_mono();
    if (!timing->ticks++)
        timing->first_at = now;
    timing->last_at = now;
    //  Ends a timer due later, from inside a handler: it never runs.
    if (timing->ticks == 1)
        loop_timer_end(loop, timing->other);
    if (timing->ticks == 3) {
        loop_timer_end(loop, timer_id);
        //  A timer added by a handler runs on a later turn.
        static bool ended_by_it;
        loop_timer(loop, 0, 1, s_on_give_up, &ended_by_it);
    }
    return 0;
}

static void s_timers(void)
{
    loop_t *loop = loop_new();
    timing_t timing = {0};
    int64_t start = zclock_mono();
    timing.repeating = loop_timer(loop, 20, 0, s_on_tick, &timing);
    timing.other = loop_timer(loop, 200, 1, s_on_other, &timing);
    CHECK(timing.repeating > 0 && timing.other > timing.repeating);
    //  Ends the loop when the zero-delay timer added on the third tick runs.
    CHECK(loop_start(loop) == -1);
    CHECK(timing.ticks == 3 && timing.other_ran == 0);
    //  A repeating timer keeps its schedule (the third tick at 60 ms), however late
    //  one tick ran.
    CHECK(timing.first_at - start >= 20);
    CHECK(timing.last_at - start >= 60);
    //  Ending an id that is gone is harmless.
    CHECK(loop_timer_end(loop, timing.repeating) == 0);
    loop_destroy(&loop);
}

typedef struct {
    int calls;
    short revents;
    pair_t *pair;
} fd_seen_t;

static int s_on_fd(loop_t *loop, zmq_pollitem_t *item, void *arg)
{
    fd_seen_t *seen = (fd_seen_t *)arg;
    seen->calls++;
    seen->revents = item->revents;
    char byte;
    CHECK(read(item->fd, &byte, 1) == 1);
    //  Ends itself, and adds a reader mid-turn: it is called on a later turn.
    loop_poller_end(loop, item);
    loop_reader(loop, seen->pair->in, s_on_read, seen->pair);
    return 0;
}

static void s_pollers(void)
{
    int pipe_fds[2];
    CHECK(pipe(pipe_fds) == 0);
    CHECK(write(pipe_fds[1], "ab", 2) == 2);
    pair_t pair;
    s_pair(&pair, "poller", 1, 1);
    zstr_send(pair.out, "x");
    fd_seen_t seen = {0, 0, &pair};
    loop_t *loop = loop_new();
    zmq_pollitem_t item = {NULL, pipe_fds[0], ZMQ_POLLIN, 0};
    CHECK(loop_poller(loop, &item, s_on_fd, &seen) == 0);
    //  Sockets go through loop_reader.
    zmq_pollitem_t socket_item = {zsock_resolve(pair.in), 0, ZMQ_POLLIN, 0};
    CHECK(loop_poller(loop, &socket_item, s_on_fd, &seen) == -1);
    bool gave_up = false;
    loop_timer(loop, 10000, 1, s_on_give_up, &gave_up);
    CHECK(loop_start(loop) == -1);
    //  Called once although a byte is left: it ended itself.
    CHECK(!gave_up && seen.calls == 1 && (seen.revents & ZMQ_POLLIN));
    CHECK(pair.reads == 1);
    loop_destroy(&loop);
    s_pair_destroy(&pair);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

static int s_on_end_other(loop_t *loop, zsock_t *reader, void *arg)
{
    pair_t *pairs = (pair_t *)arg;
    char *text = zstr_recv(reader);
    free(text);
    pairs[0].reads++;
    //  Ended in the same turn as its input came: never called.
    loop_reader_end(loop, pairs[1].in);
    return pairs[0].reads == 1 ? 0 : -1;
}

static void s_reader_ended_mid_turn(void)
{
    pair_t pairs[2];
    s_pair(&pairs[0], "end-0", 0, 1);
    s_pair(&pairs[1], "end-1", 0, 1);
    zstr_send(pairs[0].out, "x");
    zstr_send(pairs[1].out, "y");
    loop_t *loop = loop_new();
    loop_reader(loop, pairs[0].in, s_on_end_other, pairs);
    loop_reader(loop, pairs[1].in, s_on_read, &pairs[1]);
    bool gave_up = false;
    //  The first reader ends the loop at its second message.
    loop_timer(loop, 10000, 1, s_on_give_up, &gave_up);
    zstr_send(pairs[0].out, "z");
    CHECK(loop_start(loop) == -1);
    CHECK(!gave_up && pairs[0].reads == 2 && pairs[1].reads == 0);
    loop_destroy(&loop);
    s_pair_destroy(&pairs[0]);
    s_pair_destroy(&pairs[1]);
}

//  A reader marked own is woken by its descriptor alone: messages sent to it by
//  other handlers (on the far end) still arrive, one per tick.
static int s_on_send_tick(loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    zstr_send(((pair_t *)arg)->out, "tick");
    return 0;
}

static void s_own_reader(void)
{
    pair_t pair;
    s_pair(&pair, "own", 20, 1);
    loop_t *loop = loop_new();
    loop_reader(loop, pair.in, s_on_read, &pair);
    loop_reader_set_own(loop, pair.in);
    loop_timer(loop, 1, 0, s_on_send_tick, &pair);
    bool gave_up = false;
    loop_timer(loop, 10000, 1, s_on_give_up, &gave_up);
    CHECK(loop_start(loop) == -1);
    CHECK(!gave_up && pair.reads == 20);
    loop_destroy(&loop);
    s_pair_destroy(&pair);
}

int main(void)
{
    s_reads_all_even_one_per_call();
    s_handlers_feed_each_other();
    s_timers();
    s_pollers();
    s_reader_ended_mid_turn();
    s_own_reader();
    return check_report("loop");
}
