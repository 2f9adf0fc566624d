/*  editor — libedit line editing inside the shell's loop (see editor.h).

    libedit's own API, in character-at-a-time mode: the loop calls el_gets when stdin
    is readable and gets the line when its newline arrives, so the editor never
    blocks the loop. */
#define _GNU_SOURCE
#include "editor.h"
#include "../common/mem.h"
#include "../common/process.h"

#include <histedit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Lines of history kept across sessions.
#define HISTORY_MAX 1000
//  ^D, as the terminal sends it.
#define END_OF_INPUT 4

static EditLine *s_editor;
static History *s_history;
static HistEvent s_event;
static const char *s_prompt;
static editor_line_fn *s_on_line;
static editor_ids_fn *s_ids;
static void *s_arg;
static char *s_history_path;
static bool s_cleared;

static const char *s_commands[] = {"create", "remove",    "kill", "exec",  "ping",
                                   "pingall", "heartbeat", "tree", "stats", "help",
                                   "exit",   "quit",      NULL};
static const char *s_ops[] = {"sum", "find", "set", "get", "timer", "sleep", NULL};

static char *s_prompt_text(EditLine *editor)
{
    (void)editor;
    return (char *)s_prompt;
}

//  --- completion ---------------------------------------------------------------------

typedef struct {
    char **words;
    size_t count;
} candidates_t;

static void s_add(candidates_t *candidates, const char *word, const char *prefix,
                  size_t prefix_length)
{
    if (strncmp(word, prefix, prefix_length) != 0)
        return;
    candidates->words =
        mem_realloc(candidates->words, (candidates->count + 1) * sizeof(char *));
    candidates->words[candidates->count++] = mem_strdup(word);
}

static void s_add_list(candidates_t *candidates, const char **words, const char *prefix,
                       size_t length)
{
    for (; *words; words++)
        s_add(candidates, *words, prefix, length);
}

static void s_add_ids(candidates_t *candidates, const char *prefix, size_t length)
{
    size_t count = 0;
    int32_t *ids = s_ids(s_arg, &count);
    for (size_t i = 0; i < count; i++) {
        char text[16];
        snprintf(text, sizeof text, "%d", ids[i]);
        s_add(candidates, text, prefix, length);
    }
    free(ids);
}

//  Tab: the command words, then ids or op names depending on the word's place.
static unsigned char s_complete(EditLine *editor, int key)
{
    (void)key;
    const LineInfo *line = el_line(editor);
    const char *start = line->cursor;
    while (start > line->buffer && start[-1] != ' ' && start[-1] != '\t')
        start--;
    size_t length = (size_t)(line->cursor - start);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%.*s",
             (int)(length < sizeof prefix ? length : sizeof prefix - 1), start);
    int index = 0;
    bool in_word = false;
    for (const char *cursor = line->buffer; cursor < start; cursor++) {
        bool blank = *cursor == ' ' || *cursor == '\t';
        index += !blank && !in_word;
        in_word = !blank;
    }
    char command[16] = "";
    sscanf(line->buffer, "%15s", command);
    bool names_node = !strcmp(command, "exec") || !strcmp(command, "ping") ||
                      !strcmp(command, "remove") || !strcmp(command, "kill");
    candidates_t candidates = {NULL, 0};
    if (index == 0)
        s_add_list(&candidates, s_commands, prefix, length);
    else if ((index == 1 && names_node) || (index == 2 && !strcmp(command, "create")))
        s_add_ids(&candidates, prefix, length);
    else if (index == 2 && !strcmp(command, "exec"))
        s_add_list(&candidates, s_ops, prefix, length);
    else if (index == 1 && !strcmp(command, "help"))
        s_add_list(&candidates, s_commands, prefix, length);
    unsigned char result = CC_REFRESH_BEEP;
    if (candidates.count == 1) {
        el_insertstr(editor, candidates.words[0] + length);
        el_insertstr(editor, " ");
        result = CC_REFRESH;
    } else if (candidates.count > 1) {
        //  Extend to the common prefix; if that adds nothing, list them.
        size_t common = strlen(candidates.words[0]);
        for (size_t i = 1; i < candidates.count; i++)
            while (common > 0 &&
                   strncmp(candidates.words[0], candidates.words[i], common))
                common--;
        if (common > length) {
            char extension[64];
            snprintf(extension, sizeof extension, "%.*s", (int)(common - length),
                     candidates.words[0] + length);
            el_insertstr(editor, extension);
            result = CC_REFRESH;
        } else {
            fputc('\n', stdout);
            for (size_t i = 0; i < candidates.count; i++)
                fprintf(stdout, "%s%s", i ? "  " : "", candidates.words[i]);
            fputc('\n', stdout);
            result = CC_REDISPLAY;
        }
    }
    for (size_t i = 0; i < candidates.count; i++)
        free(candidates.words[i]);
    free(candidates.words);
    return result;
}

//  --- the editor -------------------------------------------------------------------

void editor_start(const char *prompt, editor_line_fn *on_line, editor_ids_fn *ids,
                  void *arg)
{
    s_prompt = prompt;
    s_on_line = on_line;
    s_ids = ids;
    s_arg = arg;
    s_history = history_init();
    history(s_history, &s_event, H_SETSIZE, HISTORY_MAX);
    history(s_history, &s_event, H_SETUNIQUE, 1);
    const char *home = getenv("HOME");
    if (home && *home) {
        s_history_path = process_format("%s/.mqtree_history", home);
        history(s_history, &s_event, H_LOAD, s_history_path);
    }
    s_editor = el_init("mqtree", stdin, stdout, stderr);
    el_set(s_editor, EL_EDITOR, "emacs");
    el_set(s_editor, EL_PROMPT, s_prompt_text);
    el_set(s_editor, EL_HIST, history, s_history);
    //  Signals are the loop's (a signalfd): the editor must not handle them.
    el_set(s_editor, EL_SIGNAL, 0);
    el_set(s_editor, EL_ADDFN, "mqtree-complete", "complete a word", s_complete);
    el_set(s_editor, EL_BIND, "^I", "mqtree-complete", NULL);
    //  One character at a time: el_gets returns at once, the line when it is done.
    el_set(s_editor, EL_UNBUFFERED, 1);
    el_source(s_editor, NULL); //  the user's ~/.editrc, if any
}

void editor_read(void)
{
    int count = 0;
    const char *buffer = el_gets(s_editor, &count);
    //  In character mode NULL only means no line yet (after ^U, say). The end of
    //  input is ^D on an empty line; a terminal that goes away is seen by the loop.
    if (!buffer)
        return;
    if (count == 1 && buffer[0] == END_OF_INPUT) {
        s_on_line(s_arg, NULL);
        return;
    }
    if (count <= 0 || (buffer[count - 1] != '\n' && buffer[count - 1] != '\r'))
        return; //  still typing
    char *line = mem_strndup(buffer, (size_t)count - 1);
    if (*line)
        history(s_history, &s_event, H_ENTER, line);
    //  In character mode libedit keeps the finished line: leaving and entering the
    //  mode starts a fresh one, with the prompt.
    el_set(s_editor, EL_UNBUFFERED, 0);
    el_set(s_editor, EL_UNBUFFERED, 1);
    s_on_line(s_arg, line);
}

void editor_clear(void)
{
    if (s_cleared)
        return;
    s_cleared = true;
    //  Back to the start of the line, and erase it: the printed lines take its place.
    fputs("\r\033[K", stdout);
}

void editor_redraw(void)
{
    if (!s_cleared)
        return;
    s_cleared = false;
    fflush(stdout);
    el_set(s_editor, EL_REFRESH);
}

void editor_cancel_line(void)
{
    const LineInfo *line = el_line(s_editor);
    el_cursor(s_editor, (int)(line->lastchar - line->cursor));
    line = el_line(s_editor);
    el_deletestr(s_editor, (int)(line->lastchar - line->buffer));
    fputs("^C\n", stdout);
    fflush(stdout);
    el_set(s_editor, EL_REFRESH);
}

void editor_stop(void)
{
    if (!s_editor)
        return;
    if (s_history_path)
        history(s_history, &s_event, H_SAVE, s_history_path);
    el_end(s_editor);
    history_end(s_history);
    free(s_history_path);
    s_editor = NULL;
    s_history_path = NULL;
}
