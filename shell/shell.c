/*  shell — stdin lines in, result lines out (see shell.h): owns reading lines of
    any length, --ordered and --json delivery, the prompt, and when the shell is done. */
#include "shell.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "../common/numbers.h"
#include "commands.h"
#include "editor.h"
#include "../controller/output.h"
#include "../common/process.h"
#include "../common/text.h"
#include "../common/mem.h"

//  Reads grow with the line being read, so a 1 GB line takes few system calls.
#define READ_MIN 65536
#define READ_MAX (16 * 1024 * 1024)

struct _shell_t {
    shell_config_t config;
    loop_t *loop;
    controller_t *controller;
    bool interactive;
    //  Input not yet made into lines: buffer[0..used), no newline in [0..scanned).
    char *buffer;
    size_t used, scanned, capacity;
    bool input_done; //  exit read, or end of input
    //  A line over --max-line was answered: its rest is dropped up to its newline.
    bool skipping;
    uint64_t next_seq;
    const output_format_t *format; //  text, or JSON with --json
    //  --ordered: results that arrived before an earlier command's, formatted.
    zhashx_t *waiting; //  seq (as text) -> line
    uint64_t next_to_print;
    bool flush_scheduled;
    int exit_code;
    //  --json: when each command awaiting its result was read, for its "ms".
    zhashx_t *read_at; //  seq (as text) -> int64_t, microseconds
};

static int s_on_idle(loop_t *loop, int timer_id, void *arg);

//  Output is flushed, and the exit condition checked, once per loop turn: a zero-delay
//  timer runs after the handler that is producing results has returned.
static void s_schedule(shell_t *self)
{
    if (!self->flush_scheduled) {
        self->flush_scheduled = true;
        loop_timer(self->loop, 0, 1, s_on_idle, self);
    }
}

static void s_print(shell_t *self, const char *line)
{
    //  Printed above the line being typed, which is redrawn once the batch is out.
    if (self->interactive)
        editor_clear();
    fputs(line, stdout);
    fputc('\n', stdout);
}

static char *s_key(uint64_t seq, char *buffer, size_t size)
{
    snprintf(buffer, size, "%" PRIu64, seq);
    return buffer;
}

//  --json: command seq was read now.
static void s_note_read(shell_t *self, uint64_t seq)
{
    if (!self->config.json)
        return;
    int64_t *read_us = (int64_t *)mem_alloc(sizeof(int64_t));
    *read_us = zclock_usecs();
    char key[24];
    zhashx_update(self->read_at, s_key(seq, key, sizeof key), read_us);
}

//  --json: the milliseconds since command seq was read.
static double s_took_ms(shell_t *self, uint64_t seq)
{
    char key[24];
    int64_t *read_us =
        (int64_t *)zhashx_lookup(self->read_at, s_key(seq, key, sizeof key));
    int64_t now = zclock_usecs();
    double ms = (double)(now - (read_us ? *read_us : now)) / 1000.0;
    zhashx_delete(self->read_at, key);
    return ms;
}

//  Prints the line for command seq now or, with --ordered, once every earlier
//  command's line is out. Takes the line over.
static void s_deliver(shell_t *self, uint64_t seq, char *line)
{
    char key[24];
    if (self->config.ordered && seq != self->next_to_print) {
        zhashx_insert(self->waiting, s_key(seq, key, sizeof key), line);
        return;
    }
    s_print(self, line);
    free(line);
    if (!self->config.ordered)
        return;
    self->next_to_print++;
    char *next;
    while ((next = (char *)zhashx_lookup(self->waiting,
                                         s_key(self->next_to_print, key, sizeof key)))) {
        s_print(self, next);
        zhashx_delete(self->waiting, key);
        self->next_to_print++;
    }
}

void shell_sink(void *arg, const result_t *result, const event_t *event)
{
    shell_t *self = (shell_t *)arg;
    s_schedule(self);
    if (event) {
        //  Asynchronous: printed at once, in either order mode.
        char *line = self->format->event(event);
        s_print(self, line);
        free(line);
        return;
    }
    double ms = self->config.json ? s_took_ms(self, result->seq) : 0;
    s_deliver(self, result->seq, self->format->result(result, ms));
}

//  A line that did not parse is answered like a command that failed.
static void s_parse_error(shell_t *self, uint64_t seq, const parse_error_t *error)
{
    result_t result = result_for(seq, RESULT_NO_COMMAND, false, 0);
    result.status = RESULT_ERROR;
    result.id = error->id;
    result.shows_id = error->names_node;
    result.error = error->why;
    shell_sink(self, &result, NULL);
}

static void s_answer_help(shell_t *self, uint64_t seq, const char *topic, size_t length)
{
    result_t result = result_for(seq, CMD_HELP, false, 0);
    char *text = commands_help(topic, length);
    if (text) {
        result.value.text = text;
        shell_sink(self, &result, NULL);
        free(text);
        return;
    }
    //  The topic is the user's word, echoed: escaped like every echo (text.h).
    char *shown = text_escape(topic, MIN(length, 40));
    char *error = process_format("No help for '%s' (try help)", shown);
    result.status = RESULT_ERROR;
    result.error = error;
    shell_sink(self, &result, NULL);
    free(error);
    free(shown);
}

static void s_line(shell_t *self, char *line, size_t length)
{
    if (length && line[length - 1] == '\r')
        line[--length] = '\0';
    command_t *command;
    parse_error_t error;
    int rc = parser_parse(line, length, self->config.syntax, &command, &error);
    if (rc == 0)
        return;
    if (rc > 0 && command->kind == CMD_EXIT) {
        //  exit answers nothing: the results still due are printed, then we leave.
        self->input_done = true;
        command_destroy(&command);
        return;
    }
    uint64_t seq = self->next_seq++;
    s_note_read(self, seq);
    if (rc < 0) {
        s_parse_error(self, seq, &error);
        parse_error_clear(&error);
    } else if (command->kind == CMD_HELP) {
        s_answer_help(self, seq, command->args, command->args_length);
        command_destroy(&command);
    } else
        controller_submit(self->controller, &command, seq);
}

//  A line over --max-line gets one error, like any bad line, and is never parsed.
static void s_refuse_line(shell_t *self)
{
    uint64_t seq = self->next_seq++;
    s_note_read(self, seq);
    char *error =
        process_format("Line too long (limit %zu bytes)", self->config.max_line);
    result_t result = result_for(seq, RESULT_NO_COMMAND, false, 0);
    result.status = RESULT_ERROR;
    result.error = error;
    shell_sink(self, &result, NULL);
    free(error);
}

//  Cuts the buffer's complete lines and hands each over, then moves what is left to
//  the front once. A line that fills most of the buffer is handed over with the buffer
//  itself, so a huge line is never copied. A line over --max-line is refused as soon
//  as the buffer holds more of it than the limit, so it is never held whole.
static void s_lines(shell_t *self, bool at_end)
{
    size_t start = 0;
    while (!self->input_done) {
        char *newline = (char *)memchr(self->buffer + MAX(start, self->scanned), '\n',
                                       self->used - MAX(start, self->scanned));
        if (self->skipping) {
            start = newline ? (size_t)(newline - self->buffer) + 1 : self->used;
            self->skipping = !newline;
            if (!newline)
                break;
            continue;
        }
        size_t length = (newline ? (size_t)(newline - self->buffer) : self->used) - start;
        //  The CR of a CRLF line is cut off, not counted (nor a last byte that may be
        //  one, until the next read says).
        bool cr = length && self->buffer[start + length - 1] == '\r';
        if (length - cr > self->config.max_line) {
            s_refuse_line(self);
            start += newline ? length + 1 : length;
            //  Resynchronised at the next newline: the rest of this line is dropped.
            self->skipping = !newline && !at_end;
            continue;
        }
        if (!newline && !(at_end && self->used > start))
            break;
        size_t consumed = newline ? length + 1 : length;
        size_t rest = self->used - start - consumed;
        char *line;
        if (start == 0 && rest < length) {
            line = self->buffer;
            self->capacity = MAX(READ_MIN, rest + 1);
            self->buffer = (char *)mem_alloc(self->capacity);
            memcpy(self->buffer, line + consumed, rest);
            self->used = rest;
        } else {
            line = (char *)mem_alloc(length + 1);
            memcpy(line, self->buffer + start, length);
            start += consumed;
        }
        line[length] = '\0';
        self->scanned = 0;
        s_line(self, line, length);
    }
    if (start) {
        memmove(self->buffer, self->buffer + start, self->used - start);
        self->used -= start;
    }
    if (!self->input_done)
        self->scanned = self->used;
    if (self->skipping && self->capacity > READ_MIN) {
        //  The refused line grew the buffer to the limit: give that memory back.
        free(self->buffer);
        self->capacity = READ_MIN;
        self->buffer = (char *)mem_alloc(self->capacity);
    }
}

//  A line typed at the terminal, or NULL for Ctrl-D on an empty line.
static void s_typed(void *arg, char *line)
{
    shell_t *self = (shell_t *)arg;
    if (line && strlen(line) > self->config.max_line) {
        free(line);
        s_refuse_line(self);
    } else if (line)
        s_line(self, line, strlen(line));
    else {
        self->input_done = true;
        fputc('\n', stdout);
    }
    s_schedule(self);
}

static int32_t *s_ids(void *arg, size_t *count)
{
    return controller_ids(((shell_t *)arg)->controller, count);
}

static int s_on_stdin(loop_t *loop, zmq_pollitem_t *item, void *arg)
{
    shell_t *self = (shell_t *)arg;
    if (self->interactive) {
        //  A terminal that hangs up polls as an error: that is the end of input.
        if (item->revents & ZMQ_POLLERR)
            s_typed(self, NULL);
        else
            editor_read();
        if (self->input_done)
            loop_poller_end(loop, item);
        return 0;
    }
    //  Grown only when less than READ_MIN is free, and then by as much as it holds
    //  (up to READ_MAX): a pipe gives 64 KB per read, and growing for every read
    //  copied the line each time (quadratic where realloc cannot remap, as under ASan).
    if (self->capacity - self->used < READ_MIN) {
        self->capacity = self->used + MIN(MAX(READ_MIN, self->used), READ_MAX);
        self->buffer = (char *)mem_realloc(self->buffer, self->capacity);
    }
    size_t want = MIN(self->capacity - self->used, READ_MAX);
    ssize_t got = read(item->fd, self->buffer + self->used, want);
    if (got < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    bool at_end = got <= 0;
    if (got > 0)
        self->used += (size_t)got;
    s_lines(self, at_end);
    if (at_end)
        self->input_done = true;
    if (self->input_done) {
        loop_poller_end(loop, item);
        s_schedule(self);
    }
    return 0;
}

static int s_on_signal(loop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    shell_t *self = (shell_t *)arg;
    int signal_number;
    while ((signal_number = process_signalfd_read(item->fd)) > 0) {
        if (signal_number == SIGCHLD)
            controller_on_sigchld(self->controller);
        else if (signal_number == SIGINT && self->interactive && !self->input_done)
            editor_cancel_line(); //  Ctrl-C drops the line, not the shell
        else {
            log_info("signal %d: ending every node", signal_number);
            self->exit_code = 128 + signal_number;
            return -1;
        }
    }
    return 0;
}

static int s_on_idle(loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    shell_t *self = (shell_t *)arg;
    self->flush_scheduled = false;
    fflush(stdout);
    if (self->input_done && controller_outstanding(self->controller) == 0)
        return -1;
    if (self->interactive && !self->input_done)
        editor_redraw();
    return 0;
}

shell_t *shell_new(const shell_config_t *config, loop_t *loop)
{
    shell_t *self = (shell_t *)zmalloc(sizeof(shell_t));
    self->config = *config;
    self->loop = loop;
    //  Line editing needs a terminal on both sides.
    self->interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    self->capacity = READ_MIN;
    self->buffer = (char *)mem_alloc(self->capacity);
    self->format = config->json ? &output_json : &output_text;
    self->waiting = zhashx_new();
    self->read_at = zhashx_new();
    zhashx_set_destructor(self->read_at, (zhashx_destructor_fn *)zstr_free);
    zhashx_set_destructor(self->waiting, (zhashx_destructor_fn *)zstr_free);
    return self;
}

void shell_destroy(shell_t **self_p)
{
    shell_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy(&self->waiting);
    zhashx_destroy(&self->read_at);
    free(self->buffer);
    free(self);
    *self_p = NULL;
}

int shell_run(shell_t *self, controller_t *controller)
{
    self->controller = controller;
    zmq_pollitem_t input = {NULL, STDIN_FILENO, ZMQ_POLLIN, 0};
    zmq_pollitem_t signals = {NULL, self->config.signal_fd, ZMQ_POLLIN, 0};
    loop_poller(self->loop, &input, s_on_stdin, self);
    //  A pipe whose writer is gone polls as an error (POLLHUP); read() then tells
    //  the end of input, so the poller must not be dropped for it.
    loop_poller_set_tolerant(self->loop, &input);
    loop_poller(self->loop, &signals, s_on_signal, self);
    if (self->interactive)
        editor_start("> ", s_typed, s_ids, self);
    loop_start(self->loop);
    fflush(stdout);
    if (self->interactive)
        editor_stop();
    return self->exit_code;
}
