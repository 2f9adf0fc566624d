/*  log — leveled diagnostics on stderr. One write per line so that lines of the
    controller and of many workers sharing one stderr do not interleave mid-line. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char s_tag[64] = "mqtree";
static log_level_t s_level = LEVEL_WARN;

static const char *s_names[] = {"error", "warn", "info", "debug"};

void log_set_tag(const char *tag)
{
    snprintf(s_tag, sizeof s_tag, "%s", tag);
}

void log_set_level(log_level_t level)
{
    s_level = level;
}

log_level_t log_level(void)
{
    return s_level;
}

int log_level_parse(const char *text, log_level_t *level)
{
    for (int i = 0; i <= LEVEL_DEBUG; i++)
        if (strcmp(text, s_names[i]) == 0) {
            *level = (log_level_t)i;
            return 0;
        }
    return -1;
}

const char *log_level_name(log_level_t level)
{
    return s_names[level];
}

void log_msg(log_level_t level, const char *format, ...)
{
    if (level > s_level)
        return;
    //  Diagnostics are short; a longer one is cut rather than split.
    char line[1024];
    int used = snprintf(line, sizeof line, "%s: %s: ", s_tag, s_names[level]);
    va_list args;
    va_start(args, format);
    vsnprintf(line + used, sizeof line - (size_t)used - 1, format, args);
    va_end(args);
    size_t length = strlen(line);
    line[length++] = '\n';
    ssize_t rc = write(STDERR_FILENO, line, length);
    (void)rc;
}
