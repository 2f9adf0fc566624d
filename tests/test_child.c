/*  Unit test: a child's life cycle. Every state meets every event, legal or not,
    against the table below: a second statement of the one in child.c's head
    comment, written from it and not from the code. Then a few lives told as
    stories, for what `resume` remembers across a stop. */
#include "../node/child.h"
#include "check.h"

#define ILLEGAL CHILD_STATES //  the event is refused

typedef struct {
    int next;                  //  a child_state_t, or ILLEGAL
    child_report_t says, then; //  what upstream hears, in order
} edge_t;

// clang-format off
//  Short names for the cells, so that a row of the table fits a line or two.
#define NO {ILLEGAL, CHILD_SAYS_NOTHING, CHILD_SAYS_NOTHING}
#define GO(state) {CHILD_##state, CHILD_SAYS_NOTHING, CHILD_SAYS_NOTHING}
#define SAY(state, report) {CHILD_##state, CHILD_SAYS_##report, CHILD_SAYS_NOTHING}
#define SAY2(state, first, then) {CHILD_##state, CHILD_SAYS_##first, CHILD_SAYS_##then}

typedef struct {
    child_state_t state;
    child_state_t resume; //  STOPPED: where CONT goes; other states: any
    bool reachable, connected;
    edge_t on[CHILD_EVENTS];
} row_t;

//  Columns: HELLO, BEAT, MISS, STOP, CONT, KILL, EXIT.
static const row_t s_table[] = {
    {CHILD_SPAWNING, CHILD_SPAWNING, false, false,
     {SAY(READY, READY), NO, NO, GO(STOPPED), GO(SPAWNING), GO(KILLED),
      SAY(GONE, NOT_STARTED)}},
    {CHILD_READY, CHILD_READY, true, true,
     {NO, GO(READY), SAY(SILENT, LOST), SAY(STOPPED, STOPPED), GO(READY), GO(KILLED),
      SAY(GONE, EXITED)}},
    {CHILD_SILENT, CHILD_SILENT, true, true,
     {NO, SAY(READY, BACK), GO(SILENT), SAY(STOPPED, STOPPED), GO(SILENT), GO(KILLED),
      SAY(GONE, EXITED)}},
    //  Stopped while spawning: its HELLO may still come (sent before the stop); CONT
    //  says nothing of a child upstream never heard of; dying, it did not start.
    {CHILD_STOPPED, CHILD_SPAWNING, false, false,
     {SAY2(STOPPED, READY, STOPPED), GO(STOPPED), NO, GO(STOPPED), GO(SPAWNING),
      GO(KILLED), SAY(GONE, NOT_STARTED)}},
    //  Stopped after its HELLO: a second HELLO is refused.
    {CHILD_STOPPED, CHILD_READY, false, true,
     {NO, GO(STOPPED), NO, GO(STOPPED), SAY(READY, CONTINUED), GO(KILLED),
      SAY(GONE, EXITED)}},
    {CHILD_STOPPED, CHILD_SILENT, false, true,
     {NO, GO(STOPPED), NO, GO(STOPPED), SAY(SILENT, CONTINUED), GO(KILLED),
      SAY(GONE, EXITED)}},
    {CHILD_KILLED, CHILD_KILLED, false, false,
     {GO(KILLED), GO(KILLED), NO, GO(KILLED), GO(KILLED), GO(KILLED),
      SAY(GONE, REMOVED)}},
    {CHILD_GONE, CHILD_GONE, false, false, {NO, NO, NO, NO, NO, NO, NO}},
};
// clang-format on

//  The stale values `resume` may hold outside STOPPED: none may matter there.
static const child_state_t s_stale_resumes[] = {CHILD_SPAWNING, CHILD_READY,
                                                CHILD_SILENT};

#define HEARD_MAX 8

typedef struct {
    child_t *child;
    size_t count;
    child_report_t said[HEARD_MAX];
    child_state_t state_then[HEARD_MAX]; //  the child's state as each was said
} heard_t;

static void s_hear(void *arg, child_t *child, child_report_t report)
{
    heard_t *heard = (heard_t *)arg;
    CHECK(child == heard->child);
    if (heard->count < HEARD_MAX) {
        heard->said[heard->count] = report;
        heard->state_then[heard->count] = child->state;
    }
    heard->count++;
}

//  Every field set, so that a change to any shows.
static void s_child_init(child_t *child, child_state_t state, child_state_t resume)
{
    memset(child, 0, sizeof *child);
    child->id = 7;
    child->pid = 4242;
    child->state = state;
    child->resume = resume;
    child->status = 0x137f;
    child->create_request = 11;
    child->create_deadline_us = 2000000;
    child->create_timer = 3;
    child->remove_request = 12;
    child->last_beat_us = 1000000;
}

//  Where CONT takes the child after event: STOP remembers the state it came from; a
//  HELLO heard while stopped makes it ready-when-continued; nothing else moves it.
static child_state_t s_resume_after(child_state_t from, child_state_t resume,
                                    child_event_t event, int next)
{
    if (next == CHILD_STOPPED && from != CHILD_STOPPED)
        return from;
    if (from == CHILD_STOPPED && event == CHILD_HELLO)
        return CHILD_READY;
    return resume;
}

static void s_walk_edge(const row_t *row, child_state_t resume, child_event_t event)
{
    int failures_before = check_failures;
    const edge_t *edge = &row->on[event];
    child_t child, expected;
    s_child_init(&child, row->state, resume);
    memcpy(&expected, &child, sizeof child);
    heard_t heard = {.child = &child};
    int rc = child_set(&child, event, s_hear, &heard);
    if (edge->next == ILLEGAL) {
        CHECK(rc == -1 && heard.count == 0);
    } else {
        CHECK(rc == 0);
        expected.state = (child_state_t)edge->next;
        expected.resume = s_resume_after(row->state, resume, event, edge->next);
        size_t reports =
            (edge->says != CHILD_SAYS_NOTHING) + (edge->then != CHILD_SAYS_NOTHING);
        CHECK(heard.count == reports);
        //  Each report is made after the state has changed.
        CHECK(reports < 1 ||
              (heard.said[0] == edge->says && heard.state_then[0] == expected.state));
        CHECK(reports < 2 ||
              (heard.said[1] == edge->then && heard.state_then[1] == expected.state));
    }
    //  Nothing but the state and `resume` changes (nothing at all when refused).
    CHECK(memcmp(&child, &expected, sizeof child) == 0);

    //  The same without anyone to report to.
    s_child_init(&child, row->state, resume);
    CHECK(child_set(&child, event, NULL, NULL) == rc && child.state == expected.state);

    if (check_failures > failures_before)
        fprintf(stderr, "  on %s in %s (resume %s)\n", child_event_name(event),
                child_state_name(row->state), child_state_name(resume));
}

static void s_check_reach(const row_t *row, child_state_t resume)
{
    child_t child;
    s_child_init(&child, row->state, resume);
    CHECK(child_reachable(&child) == row->reachable);
    CHECK(child_connected(&child) == row->connected);
    if (child_reachable(&child) != row->reachable ||
        child_connected(&child) != row->connected)
        fprintf(stderr, "  in %s (resume %s)\n", child_state_name(row->state),
                child_state_name(resume));
}

static void s_walk_table(void)
{
    size_t rows = sizeof s_table / sizeof s_table[0];
    size_t stale = sizeof s_stale_resumes / sizeof s_stale_resumes[0];
    bool covered[CHILD_STATES] = {false};
    for (size_t index = 0; index < rows; index++) {
        const row_t *row = &s_table[index];
        covered[row->state] = true;
        size_t resumes = row->state == CHILD_STOPPED ? 1 : stale;
        for (size_t resume = 0; resume < resumes; resume++) {
            //  STOPPED rows are for their own `resume`; others for any.
            child_state_t value =
                row->state == CHILD_STOPPED ? row->resume : s_stale_resumes[resume];
            s_check_reach(row, value);
            for (int event = 0; event < CHILD_EVENTS; event++)
                s_walk_edge(row, value, (child_event_t)event);
        }
    }
    for (int state = 0; state < CHILD_STATES; state++)
        CHECK(covered[state]);

    //  Out of range: refused, nothing changed, nothing said.
    child_t child;
    heard_t heard = {.child = &child};
    s_child_init(&child, CHILD_READY, CHILD_READY);
    CHECK(child_set(&child, CHILD_EVENTS, s_hear, &heard) == -1);
    CHECK(child.state == CHILD_READY && heard.count == 0);
    s_child_init(&child, CHILD_STATES, CHILD_READY);
    CHECK(child_set(&child, CHILD_EXIT, s_hear, &heard) == -1);
    CHECK(child.state == CHILD_STATES && heard.count == 0);
}

#define STORY_MAX 6

typedef struct {
    const char *story;
    child_state_t from;
    child_event_t events[STORY_MAX]; //  up to the first CHILD_EVENTS
    child_state_t to;
    child_report_t said[STORY_MAX]; //  up to the first CHILD_SAYS_NOTHING
} story_t;

#define END CHILD_EVENTS

// clang-format off
static const story_t s_stories[] = {
    {"stopped and continued while ready", CHILD_READY,
     {CHILD_STOP, CHILD_CONT, END}, CHILD_READY,
     {CHILD_SAYS_STOPPED, CHILD_SAYS_CONTINUED}},
    {"stopped and continued while silent: still silent", CHILD_SILENT,
     {CHILD_STOP, CHILD_CONT, END}, CHILD_SILENT,
     {CHILD_SAYS_STOPPED, CHILD_SAYS_CONTINUED}},
    {"stopped twice: the second stop does not overwrite resume", CHILD_READY,
     {CHILD_STOP, CHILD_STOP, CHILD_CONT, END}, CHILD_READY,
     {CHILD_SAYS_STOPPED, CHILD_SAYS_CONTINUED}},
    {"stopped while spawning: continued in silence, then ready", CHILD_SPAWNING,
     {CHILD_STOP, CHILD_CONT, CHILD_HELLO, END}, CHILD_READY, {CHILD_SAYS_READY}},
    {"stopped while spawning, its HELLO arrives: ready, stopped, continued",
     CHILD_SPAWNING, {CHILD_STOP, CHILD_HELLO, CHILD_CONT, END}, CHILD_READY,
     {CHILD_SAYS_READY, CHILD_SAYS_STOPPED, CHILD_SAYS_CONTINUED}},
    {"stopped while spawning, dies: it did not start", CHILD_SPAWNING,
     {CHILD_STOP, CHILD_EXIT, END}, CHILD_GONE, {CHILD_SAYS_NOT_STARTED}},
    {"stopped while spawning, its HELLO arrives, dies: it exited", CHILD_SPAWNING,
     {CHILD_STOP, CHILD_HELLO, CHILD_EXIT, END}, CHILD_GONE,
     {CHILD_SAYS_READY, CHILD_SAYS_STOPPED, CHILD_SAYS_EXITED}},
    {"killed while stopped: SIGCONT does not bring it back", CHILD_READY,
     {CHILD_STOP, CHILD_KILL, CHILD_CONT, CHILD_EXIT, END}, CHILD_GONE,
     {CHILD_SAYS_STOPPED, CHILD_SAYS_REMOVED}},
    {"lost, stopped, continued still silent, then beating again", CHILD_READY,
     {CHILD_MISS, CHILD_STOP, CHILD_CONT, CHILD_BEAT, END}, CHILD_READY,
     {CHILD_SAYS_LOST, CHILD_SAYS_STOPPED, CHILD_SAYS_CONTINUED, CHILD_SAYS_BACK}},
};
// clang-format on

static void s_tell(const story_t *story)
{
    int failures_before = check_failures;
    child_t child;
    s_child_init(&child, story->from, story->from);
    heard_t heard = {.child = &child};
    for (size_t index = 0; index < STORY_MAX && story->events[index] != END; index++)
        CHECK(child_set(&child, story->events[index], s_hear, &heard) == 0);
    CHECK(child.state == story->to);
    size_t said = 0;
    while (said < STORY_MAX && story->said[said] != CHILD_SAYS_NOTHING)
        said++;
    CHECK(heard.count == said);
    for (size_t index = 0; index < said && index < heard.count; index++)
        CHECK(heard.said[index] == story->said[index]);
    if (check_failures > failures_before)
        fprintf(stderr, "  in the story: %s\n", story->story);
}

static void s_names(void)
{
    const char *states[] = {"spawning", "ready", "silent", "stopped", "killed", "gone"};
    const char *events[] = {"hello", "beat", "miss", "stop", "cont", "kill", "exit"};
    CHECK(sizeof states / sizeof states[0] == CHILD_STATES);
    CHECK(sizeof events / sizeof events[0] == CHILD_EVENTS);
    for (int state = 0; state < CHILD_STATES; state++)
        CHECK_STR(child_state_name((child_state_t)state), states[state]);
    for (int event = 0; event < CHILD_EVENTS; event++)
        CHECK_STR(child_event_name((child_event_t)event), events[event]);
    CHECK_STR(child_state_name(CHILD_STATES), "?");
    CHECK_STR(child_event_name(CHILD_EVENTS), "?");
}

int main(void)
{
    s_walk_table();
    for (size_t index = 0; index < sizeof s_stories / sizeof s_stories[0]; index++)
        s_tell(&s_stories[index]);
    s_names();
    return check_report("child");
}
