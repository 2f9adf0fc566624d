/*  worker — one node of the tree: its routing loop. Upstream, a DEALER connected to
    the parent's ROUTER with the node id as routing id; downstream, the ROUTER its
    children connect to; beside them, the op thread and the signalfd for SIGCHLD.
    Requests addressed below go down one hop, replies and events go up unchanged. */
#ifndef MQTREE_WORKER_H
#define MQTREE_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/log.h"
#include "../node/children.h"

typedef struct {
    int32_t id;
    const char *parent_endpoint;
    pid_t parent_pid; //  0: the process that started it (a launcher's, on a host)
    const char *run_dir;
    tree_settings_t tree; //  from the parent: the controller's options
    int signal_fd;        //  delivers SIGCHLD; the worker takes it over
    int parent_fd;        //  a pidfd of the parent process, or -1 to check getppid()
    //  Its stdin is a pipe from its parent node (through a launcher, for a host):
    //  the keys and launcher come on it first, and its end is the parent's.
    bool stdin_link;
    //  A worker started by hand or by a batch scheduler: it joins the tree through
    //  the controller's --listen endpoint, with the tree's certificate (worker_join.h).
    const char *join;
    const char *cert_path;
    int32_t join_parent;
    bool joined; //  it did: it lives while its link to the parent does
} worker_config_t;

typedef struct _worker_t worker_t;

worker_t *worker_new(const worker_config_t *config);
void worker_destroy(worker_t **self_p);

//  Runs the loop until the parent is gone, or it was told to leave: 0; or 1 for a
//  joined worker that its parent did not take in.
int worker_run(worker_t *self);

#endif
