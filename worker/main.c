/*  mqtree-worker — one node of an mqtree. Started by its parent node, never by hand:
    its options are a table (worker_app.c) parsed into one config; the run ties its
    life to its parent's and runs the routing loop. */
#include "worker_app.h"

int main(int argc, char *argv[])
{
    worker_config_t config;
    int exit_code = options_parse(&worker_app_options, argc, argv, &config);
    if (exit_code >= 0)
        return exit_code;
    return worker_app_run(&config);
}
