/*  shell — the front end of the mqtree controller: reads command lines from stdin
    (any length, any speed), hands them to the controller core, and prints each result
    when it arrives or, with --ordered, in the order the commands were read, in the
    format chosen (the result lines of README's Commands, or JSON with --json). */
#ifndef MQTREE_SHELL_H
#define MQTREE_SHELL_H

#include <czmq.h>
#include <stdbool.h>

#include "../common/loop.h"
#include "../controller/controller.h"
#include "../controller/parser.h"

typedef struct {
    exec_syntax_t syntax;
    bool ordered;
    bool json;     //  one JSON object per result and event
    int signal_fd; //  SIGCHLD, SIGINT, SIGTERM, SIGHUP
    //  --max-line: a longer line is answered "Error: Line too long (limit N bytes)"
    //  once, without being held whole, and the next line is read normally.
    size_t max_line;
} shell_config_t;

//  The default --max-line: 1 GiB, so that a sum of 10^8 numbers still passes.
#define SHELL_LINE_MAX ((size_t)1 << 30)

typedef struct _shell_t shell_t;

shell_t *shell_new(const shell_config_t *config, loop_t *loop);
void shell_destroy(shell_t **self_p);

//  The controller's sink (output.h): formats each result and event, as text or as
//  JSON, and prints it when it is due; arg is the shell.
void shell_sink(void *arg, const result_t *result, const event_t *event);

//  Runs until exit, end of input (after the outstanding replies) or a signal.
//  Returns the process exit code: 0, or 128 + the signal's number.
int shell_run(shell_t *self, controller_t *controller);

#endif
