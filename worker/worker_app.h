/*  worker_app — the mqtree-worker program between its options and its routing loop:
    the option table (worker_app_options, filling a worker_config_t) and the run that
    ties the process's life to its parent's and runs the loop. */
#ifndef MQTREE_WORKER_APP_H
#define MQTREE_WORKER_APP_H

#include "../common/options.h"
#include "worker.h"

//  mqtree-worker's options: parse with options_parse (common/options.h).
extern const options_spec_t worker_app_options;

//  Runs the node until its parent is gone, then exits the process. Returns only
//  if the node cannot start: the exit code (2 without signals, else 1).
int worker_app_run(worker_config_t *config);

#endif
