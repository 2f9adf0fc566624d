/*  child — a child's life cycle (see child.h): the transition table and its one
    setter.

    state \ event  HELLO        BEAT         MISS         STOP        CONT         KILL    EXIT
    SPAWNING       READY ready  -            -            STOPPED*    SPAWNING     KILLED  GONE not-started
    READY          -            READY        SILENT lost  STOPPED* st READY        KILLED  GONE exited
    SILENT         -            READY back   SILENT       STOPPED* st SILENT       KILLED  GONE exited
    STOPPED        STOPPED** rd STOPPED      -            STOPPED     resume cont  KILLED  GONE exited**
    KILLED         KILLED       KILLED       -            KILLED      KILLED       KILLED  GONE removed
    GONE           -            -            -            -           -            -       -

    "-" is illegal: the event is refused and the caller drops what caused it (a second
    HELLO, a beat before the HELLO, anything about a reaped child). A stopped child is
    not watched for heartbeats, so MISS is illegal there.
    *  STOP remembers the state it came from in `resume`; CONT returns there and says
       "continued", except to SPAWNING: the parent never spoke of that child yet.
    ** A child stopped while spawning whose HELLO still arrives (sent before the stop):
       it becomes ready-when-continued (resume READY) and says "ready" then "stopped";
       if it ends while still spawning it says "not-started". HELLO is illegal in
       STOPPED otherwise. */
#include "child.h"

#include <stddef.h>

#define ILLEGAL CHILD_STATES
#define RESUME (CHILD_STATES + 1)

typedef struct {
    int next; //  a child_state_t, ILLEGAL or RESUME
    child_report_t report;
} edge_t;

#define X {ILLEGAL, CHILD_SAYS_NOTHING}

static const edge_t s_edges[CHILD_STATES][CHILD_EVENTS] = {
    [CHILD_SPAWNING] = {{CHILD_READY, CHILD_SAYS_READY}, X, X,
                        {CHILD_STOPPED, CHILD_SAYS_NOTHING},
                        {CHILD_SPAWNING, CHILD_SAYS_NOTHING},
                        {CHILD_KILLED, CHILD_SAYS_NOTHING},
                        {CHILD_GONE, CHILD_SAYS_NOT_STARTED}},
    [CHILD_READY] = {X, {CHILD_READY, CHILD_SAYS_NOTHING},
                     {CHILD_SILENT, CHILD_SAYS_LOST},
                     {CHILD_STOPPED, CHILD_SAYS_STOPPED},
                     {CHILD_READY, CHILD_SAYS_NOTHING},
                     {CHILD_KILLED, CHILD_SAYS_NOTHING},
                     {CHILD_GONE, CHILD_SAYS_EXITED}},
    [CHILD_SILENT] = {X, {CHILD_READY, CHILD_SAYS_BACK},
                      {CHILD_SILENT, CHILD_SAYS_NOTHING},
                      {CHILD_STOPPED, CHILD_SAYS_STOPPED},
                      {CHILD_SILENT, CHILD_SAYS_NOTHING},
                      {CHILD_KILLED, CHILD_SAYS_NOTHING},
                      {CHILD_GONE, CHILD_SAYS_EXITED}},
    [CHILD_STOPPED] = {{CHILD_STOPPED, CHILD_SAYS_READY},
                       {CHILD_STOPPED, CHILD_SAYS_NOTHING}, X,
                       {CHILD_STOPPED, CHILD_SAYS_NOTHING},
                       {RESUME, CHILD_SAYS_CONTINUED},
                       {CHILD_KILLED, CHILD_SAYS_NOTHING},
                       {CHILD_GONE, CHILD_SAYS_EXITED}},
    [CHILD_KILLED] = {{CHILD_KILLED, CHILD_SAYS_NOTHING},
                      {CHILD_KILLED, CHILD_SAYS_NOTHING}, X,
                      {CHILD_KILLED, CHILD_SAYS_NOTHING},
                      {CHILD_KILLED, CHILD_SAYS_NOTHING},
                      {CHILD_KILLED, CHILD_SAYS_NOTHING},
                      {CHILD_GONE, CHILD_SAYS_REMOVED}},
    [CHILD_GONE] = {X, X, X, X, X, X, X},
};

static const char *s_state_names[CHILD_STATES] = {
    "spawning", "ready", "silent", "stopped", "killed", "gone"};
static const char *s_event_names[CHILD_EVENTS] = {"hello", "beat", "miss", "stop",
                                                  "cont",  "kill", "exit"};

const char *child_state_name(child_state_t state)
{
    return state < CHILD_STATES ? s_state_names[state] : "?";
}

const char *child_event_name(child_event_t event)
{
    return event < CHILD_EVENTS ? s_event_names[event] : "?";
}

bool child_reachable(const child_t *child)
{
    return child->state == CHILD_READY || child->state == CHILD_SILENT;
}

bool child_starting(const child_t *child)
{
    return child->state == CHILD_SPAWNING ||
           (child->state == CHILD_STOPPED && child->resume == CHILD_SPAWNING);
}

bool child_connected(const child_t *child)
{
    return child_reachable(child) ||
           (child->state == CHILD_STOPPED && child->resume != CHILD_SPAWNING);
}

int child_set(child_t *child, child_event_t event, child_report_fn *report, void *arg)
{
    if (child->state >= CHILD_STATES || event >= CHILD_EVENTS)
        return -1;
    edge_t edge = s_edges[child->state][event];
    child_state_t from = child->state;
    bool spawning = from == CHILD_STOPPED && child->resume == CHILD_SPAWNING;
    //  The rows' exceptions (** in the table above).
    if (from == CHILD_STOPPED && event == CHILD_HELLO && !spawning)
        return -1;
    if (edge.next == ILLEGAL)
        return -1;
    if (spawning && (event == CHILD_CONT || event == CHILD_EXIT))
        edge.report = event == CHILD_EXIT ? CHILD_SAYS_NOT_STARTED : CHILD_SAYS_NOTHING;
    if (edge.next == RESUME)
        child->state = child->resume;
    else
        child->state = (child_state_t)edge.next;
    if (event == CHILD_STOP && from != CHILD_STOPPED && child->state == CHILD_STOPPED)
        child->resume = from;
    if (event == CHILD_HELLO && from == CHILD_STOPPED)
        child->resume = CHILD_READY;
    if (edge.report && report)
        report(arg, child, edge.report);
    //  A child that came up stopped: upstream hears "ready", then at once why it
    //  cannot be reached.
    if (event == CHILD_HELLO && from == CHILD_STOPPED && report)
        report(arg, child, CHILD_SAYS_STOPPED);
    return 0;
}
