/*  mqtree — the controller shell. Its options are a table (app.c) parsed into one
    config; the run sets up the process, the controller core and the shell. */
#include "app.h"

int main(int argc, char *argv[])
{
    app_config_t config;
    int exit_code = options_parse(&app_options, argc, argv, &config);
    if (exit_code >= 0)
        return exit_code;
    return app_run(&config);
}
