/*  ops — the op table and its handlers (see ops.h): owns sum, find, set/get, timer,
    sleep and the run op's policy; each handler's arguments and its answer's text. */
#define _GNU_SOURCE
#include "ops.h"

#include <czmq.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "../common/limits.h"
#include "../common/numbers.h"
#include "../common/process.h"
#include "dict.h"
#include "run.h"
#include "../common/mem.h"

struct _ops_t {
    dict_t *dictionary;
    size_t dictionary_max;
    size_t reply_max;
    bool allow_run;      //  --allow-run
    int64_t deadline_us; //  the op's request's (run's time limit), 0: none
    size_t result_size;  //  set by an op whose result may hold NUL bytes (run)
    bool timer_started;
    bool timer_stopped;
    int64_t timer_start_ms;
    int64_t timer_stop_ms;
};

typedef struct {
    const char *begin;
    size_t length;
} token_t;

typedef int(op_handler_fn)(ops_t *self, const char *args, size_t length, char **result);

//  Errors name the offending word, cut so a 1 GB argument makes a short message.
#define SHOWN 40

static int s_fail(char **result, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static int s_fail(char **result, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    *result = process_vformat(format, args);
    va_end(args);
    return -1;
}

static bool s_blank(char c)
{
    return c == ' ' || c == '\t';
}

//  Splits at most max words; returns how many words there are in all.
static size_t s_tokens(const char *args, size_t length, token_t *tokens, size_t max)
{
    size_t count = 0;
    const char *cursor = args, *end = args + length;
    while (true) {
        while (cursor < end && s_blank(*cursor))
            cursor++;
        if (cursor == end)
            return count;
        const char *word = cursor;
        while (cursor < end && !s_blank(*cursor))
            cursor++;
        if (count < max)
            tokens[count] = (token_t){word, (size_t)(cursor - word)};
        count++;
    }
}

static int s_expect_words(size_t count, size_t expected, const char *usage, char **result)
{
    if (count != expected)
        return s_fail(result, "Expected: %s", usage);
    return 0;
}

static int s_sum(ops_t *self, const char *args, size_t length, char **result)
{
    (void)self;
    const char *cursor = args, *end = args + length;
    while (cursor < end && s_blank(*cursor))
        cursor++;
    const char *word = cursor;
    while (cursor < end && !s_blank(*cursor))
        cursor++;
    int64_t expected;
    if (word == cursor)
        return s_fail(result, "Expected: sum n k1 ... kn");
    if (int64_parse(word, cursor, &expected) != 0 || expected < 0)
        return s_fail(result, "Invalid count '%.*s'", (int)MIN(cursor - word, SHOWN),
                      word);
    //  One pass over the text in place: 10^8 numbers must not become 10^8 tokens.
    //  The sum is kept in 128 bits, so only a result out of 64-bit range is an
    //  overflow, not a partial sum on the way (10^8 terms of 2^63 fit in 2^127).
    int64_t count = 0;
    __int128 sum = 0;
    while (true) {
        while (cursor < end && s_blank(*cursor))
            cursor++;
        if (cursor == end)
            break;
        word = cursor;
        //  The common case in one pass: an optional '-' and up to 18 digits, which
        //  cannot overflow. Anything else is left to the careful parser.
        bool negative = *cursor == '-';
        cursor += negative;
        uint64_t magnitude = 0;
        const char *digits = cursor;
        while (cursor < end && (unsigned)(*cursor - '0') <= 9 && cursor - digits < 18)
            magnitude = magnitude * 10 + (uint64_t)(*cursor++ - '0');
        if (cursor > digits && (cursor == end || s_blank(*cursor))) {
            sum += negative ? -(__int128)magnitude : (__int128)magnitude;
            count++;
            continue;
        }
        while (cursor < end && !s_blank(*cursor))
            cursor++;
        int64_t value;
        int rc = int64_parse(word, cursor, &value);
        if (rc == -1)
            return s_fail(result, "Invalid number '%.*s'", (int)MIN(cursor - word, SHOWN),
                          word);
        if (rc == -2)
            return s_fail(result, "Number out of 64-bit range '%.*s'",
                          (int)MIN(cursor - word, SHOWN), word);
        sum += value;
        count++;
    }
    if (count != expected)
        return s_fail(result, "Expected %" PRId64 " numbers, got %" PRId64, expected,
                      count);
    if (sum > INT64_MAX || sum < INT64_MIN)
        return s_fail(result, "Sum overflows 64 bits");
    *result = process_format("%" PRId64, (int64_t)sum);
    return 0;
}

//  The error of a result over the cap. Result texts only: error texts are short
//  (a quoted word is cut to SHOWN characters).
#define TOO_LARGE "Reply too large"

static int s_find(ops_t *self, const char *args, size_t length, char **result)
{
    token_t words[2] = {{NULL, 0}};
    if (s_expect_words(s_tokens(args, length, words, 2), 2, "find text pattern", result))
        return -1;
    token_t text = words[0], pattern = words[1];
    char *found = NULL;
    size_t found_size = 0;
    FILE *out = mem_stream(&found, &found_size);
    size_t matches = 0;
    const char *from = text.begin, *end = text.begin + text.length;
    //  Restarting one byte after each match start reports overlapping matches.
    while (from < end) {
        const char *match =
            memmem(from, (size_t)(end - from), pattern.begin, pattern.length);
        if (!match)
            break;
        fprintf(out, matches++ ? ";%zu" : "%zu", (size_t)(match - text.begin));
        from = match + 1;
        //  A 20 MB text of one letter has 20 million matches, a 170 MB answer:
        //  stop building it at the cap rather than after.
        if ((size_t)ftello(out) > self->reply_max) {
            fclose(out);
            free(found);
            return s_fail(result, TOO_LARGE);
        }
    }
    if (!matches)
        fputs("-1", out);
    fclose(out);
    *result = found;
    return 0;
}

static bool s_valid_name(token_t name)
{
    for (size_t i = 0; i < name.length; i++) {
        char c = name.begin[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return name.length > 0;
}

//  A node's dictionary is bounded, so no sequence of commands can exhaust its memory
//  (the fuzzer found a node grown to gigabytes by millions of distinct names).
#define NAME_MAX_LENGTH 1024
#define DICTIONARY_MAX 1000000

static int s_name_check(token_t name, char **result)
{
    if (!s_valid_name(name))
        return s_fail(result, "Invalid name '%.*s' (letters and digits only)",
                      (int)MIN(name.length, SHOWN), name.begin);
    if (name.length > NAME_MAX_LENGTH)
        return s_fail(result, "Name too long (at most %d characters)", NAME_MAX_LENGTH);
    return 0;
}

static int s_set(ops_t *self, const char *args, size_t length, char **result)
{
    token_t words[2] = {{NULL, 0}};
    if (s_expect_words(s_tokens(args, length, words, 2), 2, "set name value", result) ||
        s_name_check(words[0], result))
        return -1;
    int64_t value;
    if (int64_parse(words[1].begin, words[1].begin + words[1].length, &value) != 0)
        return s_fail(result, "Invalid value '%.*s' (a 64-bit integer)",
                      (int)MIN(words[1].length, SHOWN), words[1].begin);
    char *name = mem_strndup(words[0].begin, words[0].length);
    if (dict_size(self->dictionary) >= self->dictionary_max &&
        !dict_find(self->dictionary, name)) {
        free(name);
        return s_fail(result, "Dictionary full (%zu names)", self->dictionary_max);
    }
    dict_set(self->dictionary, name, value);
    free(name);
    *result = mem_strdup("");
    return 0;
}

static int s_get(ops_t *self, const char *args, size_t length, char **result)
{
    token_t words[1] = {{NULL, 0}};
    if (s_expect_words(s_tokens(args, length, words, 1), 1, "get name", result) ||
        s_name_check(words[0], result))
        return -1;
    char *name = mem_strndup(words[0].begin, words[0].length);
    int64_t *stored = dict_find(self->dictionary, name);
    if (stored)
        *result = process_format("%" PRId64, *stored);
    else
        *result = process_format("'%s' not found", name);
    free(name);
    return 0;
}

static bool s_word_is(token_t word, const char *text)
{
    return word.length == strlen(text) && memcmp(word.begin, text, word.length) == 0;
}

static int s_timer(ops_t *self, const char *args, size_t length, char **result)
{
    token_t words[1] = {{NULL, 0}};
    if (s_expect_words(s_tokens(args, length, words, 1), 1, "timer start|stop|time",
                       result))
        return -1;
    int64_t now = zclock_mono();
    if (s_word_is(words[0], "start")) {
        self->timer_started = true;
        self->timer_stopped = false;
        self->timer_start_ms = now;
        *result = mem_strdup("");
    } else if (s_word_is(words[0], "stop")) {
        //  Stopping a stopped or never started timer changes nothing.
        if (self->timer_started && !self->timer_stopped) {
            self->timer_stopped = true;
            self->timer_stop_ms = now;
        }
        *result = mem_strdup("");
    } else if (s_word_is(words[0], "time")) {
        int64_t elapsed = 0;
        if (self->timer_started)
            elapsed =
                (self->timer_stopped ? self->timer_stop_ms : now) - self->timer_start_ms;
        *result = process_format("%" PRId64, elapsed);
    } else
        return s_fail(result, "Expected: timer start|stop|time");
    return 0;
}

//  An hour bounds what a typo can cost: the node's ops wait behind a sleep.
#define SLEEP_MAX_MS 3600000

static int s_sleep(ops_t *self, const char *args, size_t length, char **result)
{
    (void)self;
    token_t words[1] = {{NULL, 0}};
    if (s_expect_words(s_tokens(args, length, words, 1), 1, "sleep ms", result))
        return -1;
    int64_t ms;
    if (int64_parse(words[0].begin, words[0].begin + words[0].length, &ms) != 0 ||
        ms < 0 || ms > SLEEP_MAX_MS)
        return s_fail(result, "Invalid duration '%.*s' (0 to %d ms)",
                      (int)MIN(words[0].length, SHOWN), words[0].begin, SLEEP_MAX_MS);
    //  This runs on the op thread, never on the routing loop: the node stays busy
    //  for its ops while it keeps routing and answering pings.
    zclock_sleep((int)ms);
    *result = mem_strdup("");
    return 0;
}

//  A program on the node's host (run.h), if the tree allows it.
static int s_run(ops_t *self, const char *args, size_t length, char **result)
{
    if (!self->allow_run)
        return s_fail(result, "The run op is off (start mqtree with --allow-run)");
    //  The answer is "<status>: <output>": the status's room comes off --max-reply.
    size_t room = self->reply_max > RUN_STATUS_ROOM ? self->reply_max - RUN_STATUS_ROOM : 0;
    size_t cap = room < RUN_OUTPUT_MAX ? room : RUN_OUTPUT_MAX;
    return run_program(args, length, self->deadline_us, cap, result, &self->result_size);
}

//  changes: what the op does outlives its answer (a name set, a timer started, a
//  program run), so its answer must not wait anywhere it could be lost (ops.h).
static const struct {
    const char *name;
    op_handler_fn *handler;
    bool changes;
} s_ops[] = {
    {"sum", s_sum, false}, {"find", s_find, false},  {"set", s_set, true},
    {"get", s_get, false}, {"timer", s_timer, true}, {"sleep", s_sleep, false},
    {"run", s_run, true},
};

//  The table's row of the op named op[0..length), -1 if there is none.
static int s_op(const char *op, size_t length)
{
    for (int i = 0; i < (int)(sizeof s_ops / sizeof s_ops[0]); i++)
        if (strlen(s_ops[i].name) == length && memcmp(op, s_ops[i].name, length) == 0)
            return i;
    return -1;
}

bool ops_changes(const char *op, size_t length)
{
    int row = s_op(op, length);
    return row >= 0 && s_ops[row].changes;
}

ops_t *ops_new(void)
{
    ops_t *self = (ops_t *)zmalloc(sizeof(ops_t));
    self->dictionary = dict_new();
    self->dictionary_max = DICTIONARY_MAX;
    self->reply_max = LIMITS_REPLY_MAX;
    return self;
}

void ops_destroy(ops_t **self_p)
{
    ops_t *self = *self_p;
    if (!self)
        return;
    dict_destroy(&self->dictionary);
    free(self);
    *self_p = NULL;
}

void ops_set_dictionary_max(ops_t *self, size_t names)
{
    self->dictionary_max = names;
}

void ops_set_reply_max(ops_t *self, size_t bytes)
{
    if (bytes)
        self->reply_max = bytes;
}

void ops_set_run(ops_t *self, bool allowed)
{
    self->allow_run = allowed;
}

void ops_set_deadline(ops_t *self, int64_t deadline_us)
{
    self->deadline_us = deadline_us;
}

int ops_run(ops_t *self, const char *op, const char *args, size_t length, char **result,
            size_t *size)
{
    int row = s_op(op, strlen(op));
    op_handler_fn *handler = row >= 0 ? s_ops[row].handler : NULL;
    self->result_size = SIZE_MAX; //  set by an op whose result may hold NUL bytes
    int rc = handler ? handler(self, args, length, result)
                     : s_fail(result, "Unknown op '%.*s'", SHOWN, op);
    size_t built = self->result_size != SIZE_MAX ? self->result_size : strlen(*result);
    //  Whatever op built it, no result over the cap leaves the node.
    if (rc == 0 && built > self->reply_max) {
        free(*result);
        rc = s_fail(result, TOO_LARGE);
        built = strlen(*result);
    }
    if (size)
        *size = built;
    return rc;
}
