/*  children — a node's table of child processes: the ROUTER they connect to,
    spawning, killing, reaping, and routing a message to a child by id. Every change
    of a child's state goes through child_set (child.h), with the report function the
    owner gives here.

    The same unit serves the controller (node -1) and every worker, because "the
    parent process of a node is its parent node" holds at every level. Spawning and
    killing go through a spawner, so the unit tests can make in-process children. */
#ifndef MQTREE_CHILDREN_H
#define MQTREE_CHILDREN_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/curve.h"
#include "../common/log.h"
#include "../common/timers.h"
#include "../common/wire.h"
#include "child.h"

//  Starts the process of child id, which connects to endpoint with routing id route,
//  on host (NULL: here):
//  returns its pid, or -1 with errno set; *link_fd may be set to the write end of a
//  pipe on the child's stdin, which the table closes when the child goes. kill ends
//  it (SIGKILL). The default spawner runs mqtree-worker, through the launcher for a
//  host.
typedef struct {
    pid_t (*spawn)(void *arg, int32_t id, const char *endpoint, const char *route,
                   const char *host, int *link_fd);
    void (*kill)(void *arg, pid_t pid);
    void *arg;
} spawner_t;

//  In the order of the words "ipc|tcp" of --transport; inproc is for the tests.
typedef enum { TRANSPORT_IPC, TRANSPORT_TCP, TRANSPORT_INPROC } transport_t;

//  What every node of a tree shares: the controller's options, passed on to each
//  worker on its command line; but children_max, each process's own (limits.h).
typedef struct {
    transport_t transport; //  ipc in the run directory, or tcp
    bool bst;              //  a binary search tree: requests are routed by key
    log_level_t log_level;
    size_t children_max; //  spawn refuses beyond it; 0: none
    size_t max_reply;    //  the longest reply a node builds or passes (--max-reply)
    bool allow_run;      //  the run op may start programs (--allow-run)
    //  tcp: the address this node's ROUTER binds (NULL: 127.0.0.1; 0.0.0.0: all), and
    //  the one its children are told (NULL: the bound one, or for all, this host's
    //  address on the route to the parent).
    const char *bind;
    const char *advertise;
    //  The command a child on another host is started with, {host} replaced, the
    //  worker's command line after it (NULL: CHILDREN_LAUNCHER).
    const char *launcher;
    const curve_keys_t *keys; //  tcp: the tree's certificate; NULL: --insecure
} tree_settings_t;

#define CHILDREN_LAUNCHER "ssh -o BatchMode=yes {host}"
//  Words of a launcher template, at most.
#define CHILDREN_LAUNCHER_WORDS 64

typedef struct {
    int32_t self_id;
    const char *worker_path; //  the mqtree-worker binary
    const char *run_dir;     //  ipc endpoints live here
    tree_settings_t tree;
    const char *parent_endpoint; //  tcp: the route to it gives the advertised address
    const spawner_t *spawner; //  NULL: processes of worker_path
    clock_source_t clock;     //  what messages to children are stamped with (node.h)
} children_config_t;

typedef struct _children_t children_t;

//  Binds the ROUTER children connect to. Returns NULL on failure. report hears every
//  child's reports (child.h).
children_t *children_new(const children_config_t *config, child_report_fn *report,
                         void *report_arg);

//  Kills every child still running and, for processes, reaps them.
void children_destroy(children_t **self_p);

zsock_t *children_router(children_t *self);
const char *children_endpoint(children_t *self);

//  Spawns the process for node id: the new entry (spawning), or NULL with errno set.
//  An older process of the same id that is not reaped yet is killed and forgotten:
//  one id, one live process. EMFILE when the node already has children_max children.
child_t *children_spawn(children_t *self, int32_t id, const char *host);

//  An entry for a worker that joins by itself (ADOPT) as id.incarnation: no process
//  of ours, pid 0; its HELLO makes it ready. NULL with errno set (EMFILE at the
//  limit). Spawns count incarnations from 1 up; joins take theirs from
//  CHILDREN_JOINED up (the controller's count), so the two never meet.
#define CHILDREN_JOINED 0x80000000u
child_t *children_adopt(children_t *self, int32_t id, uint32_t incarnation,
                        const char *host);

//  A child's routing id: "id.incarnation" (CHILDREN_ROUTE_MAX bytes at most).
void children_route(char *route, int32_t id, uint32_t incarnation);

//  Forgets an adopted child told to leave (children_kill): as if it was reaped.
void children_forget(children_t *self, child_t *child);

//  The reply text for a spawn that failed with error (an errno): the limit for
//  EMFILE at the limit, else the system's reason. The caller frees it.
char *children_spawn_error(children_t *self, int error);

//  Children in the table: running, starting, or killed and not yet reaped (each
//  still holds a connection, so each still costs a descriptor).
size_t children_count(children_t *self);

child_t *children_find(children_t *self, int32_t id);

//  Applies event to child (child_set with the table's report function). Returns -1
//  if the event is illegal in its state, logged.
int children_set(children_t *self, child_t *child, child_event_t event);

//  Takes one message from the ROUTER, if one is waiting: 1 with a valid message from
//  a child in *msg and *child; 0 for a message dropped as malformed or foreign
//  (logged); -1 if none is waiting. A JOIN (from a connection that is no child) is
//  given with *child NULL and its routing id in join_route (CHILDREN_ROUTE_MAX).
#define CHILDREN_ROUTE_MAX 64
int children_recv(children_t *self, wire_msg_t **msg, child_t **child, char *join_route);

//  Sends msg (taken) to a connection by its routing id (a joiner's).
int children_send_route(children_t *self, const char *route, wire_msg_t **msg);

//  The messages received from below (valid or not) and sent down since the start.
void children_counts(children_t *self, uint64_t *received, uint64_t *sent);

//  Binds the ROUTER to one more endpoint as well (the controller's --listen).
int children_listen(children_t *self, const char *endpoint);

//  Iteration over the current children; the table must not change meanwhile.
child_t *children_first(children_t *self);
child_t *children_next(children_t *self);

//  Sends msg (taken) to child. Returns -1 if the child's connection is gone.
//  (Taking the entry, not its id: a lookup would move the table's one cursor, and
//  the broadcasts send while they iterate.)
int children_send(children_t *self, child_t *child, wire_msg_t **msg);

//  Its process is its launcher's (a child on another host): the pid its HELLO gave
//  is the worker's, and its host and endpoint are as it said (copied).
void children_hello(children_t *self, child_t *child, const wire_msg_t *hello);

//  Ends the child's process; it stays in the table until it is reaped. An adopted
//  child is told to LEAVE, and stays until children_forget.
void children_kill(children_t *self, child_t *child);

//  Ends a process of this host's tree that may be no child of ours (a deeper node
//  the controller ends itself), the way the table ends its own: the spawner's kill.
void children_kill_pid(children_t *self, pid_t pid);

//  One status change of a process, as waitpid reports it: the child's event is
//  applied (a replaced process is forgotten silently; an ended child leaves the
//  table before its report, so the report may spawn its id anew). Returns false if
//  pid is no child of ours.
bool children_status(children_t *self, pid_t pid, int status);

//  Collects every status change waiting in the kernel; on_other hears those of
//  processes that are no child of ours (reparented orphans). Returns how many.
typedef void(children_other_fn)(void *arg, pid_t pid, int status);
int children_reap(children_t *self, children_other_fn *on_other, void *arg);

//  The options of every tcp link's sockets: handshake bound, ZMTP heartbeats.
void children_tcp_options(zsock_t *sock);
//  A DEALER's end of a tcp link: the tree's keys as a CURVE client (none: insecure)
//  and children_tcp_options.
void children_tcp_client(zsock_t *sock, const curve_keys_t *keys);

//  The socket file of a node's ROUTER: its name in the run directory, and its path.
//  Workers bind the path (libzmq unlinks a stale file there first and the socket
//  file at close): safe, since no one but root and us can change any directory on
//  the way (run_dir.h). The controller removes a removed node's file by name,
//  relative to the run directory's descriptor (run_dir_unlink).
char *children_ipc_name(int32_t id);
char *children_ipc_path(const char *run_dir, int32_t id);

#endif
