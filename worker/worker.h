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
    pid_t parent_pid;
    const char *run_dir;
    tree_settings_t tree; //  from the parent: the controller's options
    int signal_fd;        //  delivers SIGCHLD; the worker takes it over
    int parent_fd;        //  a pidfd of the parent process, or -1 to check getppid()
} worker_config_t;

typedef struct _worker_t worker_t;

worker_t *worker_new(const worker_config_t *config);
void worker_destroy(worker_t **self_p);

//  Runs the loop until the parent is gone. Returns 0.
int worker_run(worker_t *self);

#endif
