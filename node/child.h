/*  child — one child of a node and its life cycle, as a state machine with one
    setter. child_set is the only place a child's state changes, and the only place
    that reports what upstream must hear of it (ready, died, stopped, continued,
    heartbeats lost or back): the node core turns each report into a reply or an
    EVENT. The table of states, events and transitions is in child.c's head. */
#ifndef MQTREE_CHILD_H
#define MQTREE_CHILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum {
    CHILD_SPAWNING, //  its process started; its HELLO not heard yet
    CHILD_READY,    //  connected, beating (if heartbeats are on): can be sent to
    CHILD_SILENT,   //  connected, but its heartbeats stopped
    CHILD_STOPPED,  //  waitpid saw it stopped (SIGSTOP); `resume` says where CONT goes
    CHILD_KILLED,   //  we sent SIGKILL (remove, or a create past its deadline)
    CHILD_GONE,     //  reaped: the entry is about to be freed
    CHILD_STATES
} child_state_t;

typedef enum {
    CHILD_HELLO, //  its HELLO arrived
    CHILD_BEAT,  //  a heartbeat arrived
    CHILD_MISS,  //  its heartbeats are missing for too long
    CHILD_STOP,  //  waitpid: stopped
    CHILD_CONT,  //  waitpid: continued
    CHILD_KILL,  //  we SIGKILL it
    CHILD_EXIT,  //  waitpid: it ended
    CHILD_EVENTS
} child_event_t;

//  What a transition tells upstream.
typedef enum {
    CHILD_SAYS_NOTHING = 0,
    CHILD_SAYS_READY,        //  its create succeeded
    CHILD_SAYS_NOT_STARTED,  //  it ended before it was ready: its create failed
    CHILD_SAYS_REMOVED,      //  killed by us and reaped
    CHILD_SAYS_EXITED,       //  it died
    CHILD_SAYS_STOPPED,
    CHILD_SAYS_CONTINUED,
    CHILD_SAYS_LOST,         //  its heartbeats stopped
    CHILD_SAYS_BACK,         //  they came back
} child_report_t;

typedef struct {
    int32_t id;
    pid_t pid; //  the process we spawned: the worker, or its launcher
    //  On another host (host set): the worker's pid there, from its HELLO.
    pid_t worker_pid;
    char *host;     //  where it runs: NULL here, or the host of create @host
    char *endpoint; //  where its children connect, from its HELLO (NULL: not yet)
    int link_fd;    //  the pipe on its stdin, or -1
    //  Which process of its id this is: its routing id is "id.incarnation", so a
    //  connection left from an earlier process of the id (a cut link closes late)
    //  is never taken for this one, nor blocks it.
    uint32_t incarnation;
    child_state_t state;
    child_state_t resume; //  CHILD_STOPPED only: the state SIGCONT returns it to
    int status;           //  the waitpid status of the last STOP or EXIT
    //  The CREATE request to answer when it is ready (0: none), and its deadline.
    uint64_t create_request;
    int64_t create_deadline_us;
    int create_timer; //  the node's timer for that deadline, 0 if none
    //  The REMOVE request to answer once the killed child is reaped (0: none).
    uint64_t remove_request;
    //  Requests for it, or for nodes below it, that came before its HELLO, in the
    //  order they came (wire_msg_t *; NULL while none): sent on once it is ready,
    //  answered unavailable if it never is (node.c).
    struct _zlistx_t *held;
    int64_t last_beat_us;
} child_t;

//  The pid the tree knows it by: its worker's, on whatever host it runs.
static inline pid_t child_pid(const child_t *child)
{
    return child->worker_pid ? child->worker_pid : child->pid;
}

//  Receives every report, after the state has changed.
typedef void(child_report_fn)(void *arg, child_t *child, child_report_t report);

//  Applies event. Returns 0, or -1 (state unchanged, nothing reported) if the event
//  is illegal in the child's state: the caller logs it and drops what caused it.
int child_set(child_t *child, child_event_t event, child_report_fn *report, void *arg);

//  Is it asked in a broadcast: ready or silent (a silent child may only be slow).
bool child_reachable(const child_t *child);

//  Can a request be passed to it: reachable, or stopped after its HELLO (the
//  request waits in its queue; it drops it after SIGCONT if its deadline passed).
bool child_connected(const child_t *child);

//  Its HELLO not heard yet (stopped meanwhile or not), and not being ended.
bool child_starting(const child_t *child);

const char *child_state_name(child_state_t state);
const char *child_event_name(child_event_t event);

#endif
