/*  app — the mqtree program between its options and its shell: the config the
    options fill (their table is app_options), and the run that sets up the process
    (signals, the run directory, descriptor limits), the controller core and the
    shell, runs the shell's loop and ends every worker on the way out. */
#ifndef MQTREE_APP_H
#define MQTREE_APP_H

#include <stdbool.h>

#include "../common/options.h"
#include "../controller/controller.h"
#include "shell.h"

typedef struct {
    controller_config_t controller;
    shell_config_t shell;
    bool ascii; //  --ascii: tree draws ASCII branches even in a UTF-8 locale
    const char *cert_path;   //  --cert: the tree's certificate (NULL: a new one)
    bool insecure;           //  --insecure: tcp without CURVE
    const char *keygen_path; //  --keygen: write a certificate there and exit
} app_config_t;

//  mqtree's options: parse with options_parse (common/options.h).
extern const options_spec_t app_options;

//  Runs the shell until exit, end of input or a signal; takes over the process's
//  signals. Returns the exit code: the shell's, or 1 if the process cannot be set up.
int app_run(app_config_t *config);

#endif
