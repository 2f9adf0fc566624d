/*  run — the run op: one program on the node's host, started with an argv (the op's
    words, no shell), its standard output read back, within the request's time and
    an output cap. Off unless the tree was started with --allow-run (ops.c asks).

    The node's loop reaps its own children with waitpid(-1), so the program is not
    one: the op starts a keeper, a clone child whose exit sends no signal (exit
    signal 0), which waitpid(-1) never sees; the keeper starts the program in a
    process group of its own, waits for it and exits with its status, which only this
    op collects (waitid with __WCLONE; a pipe the keeper holds open tells when it has
    ended). The keeper is the subreaper of all the program starts: when the program
    ends, or on SIGHUP (the op gives up at the time limit or the cap; the worker died:
    PR_SET_PDEATHSIG), it kills the program's group and every process left as its
    child, until none is. The program has stdin and stderr on /dev/null, no other
    descriptor of the worker and no signal blocked. */
#ifndef MQTREE_RUN_H
#define MQTREE_RUN_H

#include <stddef.h>
#include <stdint.h>

//  The most output a program may write: a tree-wide run folds every node's output
//  at the controller, so each stays small. Over it, the program is killed.
#define RUN_OUTPUT_MAX 65536
//  The most the status takes before the output: "255: ".
#define RUN_STATUS_ROOM 5

//  Runs the words of args[0..length) as a program and its arguments until deadline_us
//  (CLOCK_MONOTONIC µs, as wire_now_us; 0: RUN_TIME_MAX_MS from now), keeping at
//  most output_max bytes of its output. Returns 0 with *result "<status>: <output>"
//  (status: the exit code, or 128 + the signal that ended it; output without one
//  trailing newline, any bytes, *size long; "<status>" alone when there is none),
//  or -1 with *result an error text.
#define RUN_TIME_MAX_MS 3600000
int run_program(const char *args, size_t length, int64_t deadline_us, size_t output_max,
                char **result, size_t *size);

#endif
