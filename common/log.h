/*  log — leveled diagnostics on stderr, tagged with the process's role and node id.
    Results never go through here: they belong on stdout, in the shell. */
#ifndef MQTREE_LOG_H
#define MQTREE_LOG_H

typedef enum { LEVEL_ERROR = 0, LEVEL_WARN, LEVEL_INFO, LEVEL_DEBUG } log_level_t;

//  The levels' words in order, for the --log-level rows of both programs' option
//  tables (which store the index of the word given).
#define LOG_LEVEL_WORDS "error|warn|info|debug"

//  Sets the tag printed before every line, e.g. "mqtree-worker[5]".
void log_set_tag(const char *tag);
void log_set_level(log_level_t level);
log_level_t log_level(void);

//  Parses "error|warn|info|debug"; returns -1 on anything else.
int log_level_parse(const char *text, log_level_t *level);
const char *log_level_name(log_level_t level);

void log_msg(log_level_t level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

//  A message dropped as malformed or foreign, with the reason. Logged as a warning,
//  but a flood of them is summed up: at most a few lines a second, then a count.
void log_dropped(const char *format, ...) __attribute__((format(printf, 1, 2)));

#define log_error(...) log_msg(LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                   \
    do {                                                                                 \
        if (log_level() >= LEVEL_DEBUG)                                                  \
            log_msg(LEVEL_DEBUG, __VA_ARGS__);                                           \
    } while (0)

#endif
