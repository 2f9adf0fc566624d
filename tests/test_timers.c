/*  Unit test: one-shot timers on a clock the test moves by hand. Due timers run
    earliest first, equal times in the order they were added; timers added or
    cancelled by a running timer count in the same run; the watch hears each change
    of the earliest time, and -1 when none is left. */
#include "../common/timers.h"
#include "../common/wire.h"
#include "check.h"

typedef struct {
    int64_t now_us;
} manual_clock_t;

static int64_t s_now(void *arg)
{
    return ((manual_clock_t *)arg)->now_us;
}

#define LOG_MAX 16

//  What the timers did, in order: the ids that ran, or the times the watch heard.
typedef struct {
    int64_t values[LOG_MAX];
    size_t count;
} log_t;

static void s_log(log_t *log, int64_t value)
{
    if (log->count < LOG_MAX)
        log->values[log->count] = value;
    log->count++;
}

static void s_ran(void *arg, int id)
{
    s_log((log_t *)arg, id);
}

static void s_watched(void *arg, int64_t at_us)
{
    s_log((log_t *)arg, at_us);
}

static bool s_logged(const log_t *log, const int64_t *values, size_t count)
{
    if (log->count != count)
        return false;
    for (size_t index = 0; index < count; index++)
        if (log->values[index] != values[index])
            return false;
    return true;
}

#define LOGGED(log, ...)                                                                 \
    s_logged(log, (const int64_t[]){__VA_ARGS__},                                        \
             sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

//  One test's timers on its own clock, and the ids of those that ran.
typedef struct {
    manual_clock_t clock;
    timers_t *timers;
    log_t ran;
} fixture_t;

static void s_setup(fixture_t *test, int64_t now_us)
{
    memset(test, 0, sizeof *test);
    test->clock.now_us = now_us;
    test->timers = timers_new((clock_source_t){s_now, &test->clock});
}

//  A timer at at_us that logs its id when it runs.
static int s_add(fixture_t *test, int64_t at_us)
{
    return timers_add(test->timers, at_us, s_ran, &test->ran);
}

static void s_empty(void)
{
    fixture_t test;
    s_setup(&test, 1000);
    CHECK(timers_now(test.timers) == 1000);
    CHECK(timers_next(test.timers) == -1 && timers_size(test.timers) == 0);
    CHECK(timers_run(test.timers) == 0);
    timers_cancel(test.timers, 0);
    timers_cancel(test.timers, -1);
    timers_cancel(test.timers, 42);
    CHECK(timers_size(test.timers) == 0);
    timers_destroy(&test.timers);
    CHECK(test.timers == NULL);
    timers_destroy(&test.timers);
}

static void s_order(void)
{
    fixture_t test;
    s_setup(&test, 0);
    int late = s_add(&test, 300);
    int early = s_add(&test, 100);
    int middle = s_add(&test, 200);
    CHECK(late > 0 && early > 0 && middle > 0);
    CHECK(late != early && early != middle && middle != late);
    CHECK(timers_next(test.timers) == 100 && timers_size(test.timers) == 3);

    test.clock.now_us = 99; //  nothing is due before its time
    CHECK(timers_run(test.timers) == 0 && test.ran.count == 0);
    test.clock.now_us = 100; //  due at its time
    CHECK(timers_run(test.timers) == 1 && LOGGED(&test.ran, early));
    CHECK(timers_next(test.timers) == 200);
    test.clock.now_us = 1000; //  late ones run earliest first
    CHECK(timers_run(test.timers) == 2 && LOGGED(&test.ran, early, middle, late));
    CHECK(timers_next(test.timers) == -1 && timers_size(test.timers) == 0);

    //  A timer added for a time already past runs at the next run.
    int past = s_add(&test, 50);
    CHECK(timers_next(test.timers) == 50);
    CHECK(timers_run(test.timers) == 1 && LOGGED(&test.ran, early, middle, late, past));

    //  Equal times run in the order they were added.
    test.ran.count = 0;
    int first = s_add(&test, 1500);
    int second = s_add(&test, 1500);
    int earlier = s_add(&test, 1400);
    int third = s_add(&test, 1500);
    test.clock.now_us = 1500;
    CHECK(timers_run(test.timers) == 4 &&
          LOGGED(&test.ran, earlier, first, second, third));
    timers_destroy(&test.timers);
}

static void s_cancel(void)
{
    fixture_t test;
    s_setup(&test, 0);
    //  A timer cancelled before its time never runs.
    int cancelled = s_add(&test, 100), kept = s_add(&test, 200);
    timers_cancel(test.timers, cancelled);
    CHECK(timers_next(test.timers) == 200 && timers_size(test.timers) == 1);
    //  Twice, or an id never given, or 0: ignored.
    timers_cancel(test.timers, cancelled);
    timers_cancel(test.timers, kept + 100);
    timers_cancel(test.timers, 0);
    CHECK(timers_next(test.timers) == 200 && timers_size(test.timers) == 1);

    test.clock.now_us = 200;
    CHECK(timers_run(test.timers) == 1 && LOGGED(&test.ran, kept));
    //  An id already run: ignored, and a timer added since keeps its own.
    int added = s_add(&test, 300);
    timers_cancel(test.timers, kept);
    CHECK(added != kept && timers_next(test.timers) == 300 &&
          timers_size(test.timers) == 1);
    timers_destroy(&test.timers);
}

//  A timer that adds another, or cancels one, when it runs.
typedef struct {
    timers_t *timers;
    log_t *ran;
    int64_t add_at; //  -1: adds none
    int added;
    int cancel; //  0: cancels none
} action_t;

static void s_act(void *arg, int id)
{
    action_t *action = (action_t *)arg;
    s_log(action->ran, id);
    if (action->add_at >= 0)
        action->added = timers_add(action->timers, action->add_at, s_ran, action->ran);
    timers_cancel(action->timers, action->cancel);
}

static void s_added_while_running(void)
{
    fixture_t test;
    s_setup(&test, 0);

    //  Added for a time due, and earlier than the other due ones: it runs among them.
    action_t adds_due = {test.timers, &test.ran, 110, 0, 0};
    int adding = timers_add(test.timers, 100, s_act, &adds_due);
    int other = s_add(&test, 120);
    test.clock.now_us = 200;
    CHECK(timers_run(test.timers) == 3 &&
          LOGGED(&test.ran, adding, adds_due.added, other));

    //  Added for a time not due: it waits.
    test.ran.count = 0;
    action_t adds_later = {test.timers, &test.ran, 250, 0, 0};
    adding = timers_add(test.timers, 200, s_act, &adds_later);
    CHECK(timers_run(test.timers) == 1 && LOGGED(&test.ran, adding));
    CHECK(timers_next(test.timers) == 250 && timers_size(test.timers) == 1);
    test.clock.now_us = 250;
    CHECK(timers_run(test.timers) == 1 && LOGGED(&test.ran, adding, adds_later.added));

    //  Cancelled by a timer that runs before it: it never runs.
    test.ran.count = 0;
    action_t cancels = {test.timers, &test.ran, -1, 0, 0};
    int cancelling = timers_add(test.timers, 250, s_act, &cancels);
    cancels.cancel = s_add(&test, 250);
    CHECK(timers_run(test.timers) == 1 && LOGGED(&test.ran, cancelling));
    CHECK(timers_size(test.timers) == 0);
    timers_destroy(&test.timers);
}

static void s_watch(void)
{
    fixture_t test;
    s_setup(&test, 0);
    log_t heard = {{0}, 0};
    timers_set_watch(test.timers, s_watched, &heard);

    int at_300 = s_add(&test, 300);
    CHECK(LOGGED(&heard, 300));
    int at_400 = s_add(&test, 400);
    CHECK(LOGGED(&heard, 300)); //  not the earliest: nothing to hear
    int at_200 = s_add(&test, 200);
    CHECK(LOGGED(&heard, 300, 200));
    timers_cancel(test.timers, at_400);
    CHECK(LOGGED(&heard, 300, 200));
    timers_cancel(test.timers, at_200);
    CHECK(LOGGED(&heard, 300, 200, 300));
    CHECK(timers_run(test.timers) == 0 && LOGGED(&heard, 300, 200, 300));
    test.clock.now_us = 300;
    CHECK(timers_run(test.timers) == 1 && LOGGED(&test.ran, at_300));
    CHECK(LOGGED(&heard, 300, 200, 300, -1)); //  none left

    //  A running timer's own timer: what is heard last is the earliest.
    heard.count = 0;
    action_t adds = {test.timers, &test.ran, 500, 0, 0};
    timers_add(test.timers, 300, s_act, &adds);
    CHECK(timers_run(test.timers) == 1 && heard.count >= 2);
    CHECK(heard.values[0] == 300 && heard.values[heard.count - 1] == 500);

    //  Without a watch, nothing is heard.
    heard.count = 0;
    timers_set_watch(test.timers, NULL, NULL);
    timers_cancel(test.timers, adds.added);
    CHECK(heard.count == 0 && timers_next(test.timers) == -1);
    timers_destroy(&test.timers);
}

//  The default clock is the clock of the wire's deadlines.
static void s_monotonic(void)
{
    timers_t *timers = timers_new(clock_monotonic());
    int64_t before = wire_now_us();
    int64_t now = timers_now(timers);
    CHECK(before <= now && now <= wire_now_us());
    timers_destroy(&timers);
}

//  A late timer: a grace for the I/O thread, longer while messages keep coming in
//  (a burst of connections after SIGCONT), never longer than its cap.
static void s_stall(void)
{
    stall_t stall = {0};
    int64_t now = 1000000;
    CHECK(stall_wait_ms(&stall, now, now - STALL_MS * 1000) == 0); //  on time
    CHECK(stall_wait_ms(&stall, now, now - 500000) == STALL_GRACE_MS); //  late
    now += STALL_GRACE_MS * 1000;
    CHECK(stall_wait_ms(&stall, now, now) == 0 && !stall.grace); //  nothing came: run
    //  Late again; messages keep coming: the grace goes on, up to its cap.
    CHECK(stall_wait_ms(&stall, now, now - 500000) == STALL_GRACE_MS);
    int graces = 1;
    for (int round = 0; round < 1000; round++) {
        stall_heard(&stall);
        now += STALL_GRACE_MS * 1000;
        if (stall_wait_ms(&stall, now, now) == 0)
            break;
        graces++;
    }
    CHECK(!stall.grace);
    CHECK(graces == STALL_GRACE_MAX_MS / STALL_GRACE_MS);
    //  Outside a grace, messages count for nothing.
    stall_heard(&stall);
    CHECK(stall.heard == 0);
}

int main(void)
{
    s_stall();
    s_empty();
    s_order();
    s_cancel();
    s_added_while_running();
    s_watch();
    s_monotonic();
    return check_report("timers");
}
