/*  log — leveled diagnostics on stderr. One write per line so that lines of the
    controller and of many workers sharing one stderr do not interleave mid-line. */
#include "log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
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

//  Full lines per second before drops are only counted.
#define DROPS_SHOWN 5

static int64_t s_window_start_ms;
static unsigned s_window_drops;

static int64_t s_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void log_dropped(const char *format, ...)
{
    char reason[512];
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);
    int64_t now = s_now_ms();
    if (now - s_window_start_ms >= 1000) {
        if (s_window_drops > DROPS_SHOWN)
            log_warn("... and %u more messages dropped in that second",
                     s_window_drops - DROPS_SHOWN);
        s_window_start_ms = now;
        s_window_drops = 0;
    }
    if (++s_window_drops <= DROPS_SHOWN)
        log_warn("%s", reason);
    else
        log_debug("%s", reason);
}
