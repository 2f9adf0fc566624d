/*  editor — the interactive line editor of the shell, when stdin is a terminal:
    libedit (BSD licensed) through its readline-compatible callback interface, so it
    runs inside the shell's poll loop. History in ~/.mqtree_history (bounded), tab
    completion of command words, op names and the ids that exist, and asynchronous
    lines (late replies, Heartbit) printed above the line being typed, which is then
    redrawn intact. */
#ifndef MQTREE_EDITOR_H
#define MQTREE_EDITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  A complete line typed (malloc'd, the callee frees it), or NULL at Ctrl-D on an
//  empty line.
typedef void(editor_line_fn)(void *arg, char *line);

//  The ids that exist, for completion: a malloc'd array the caller frees.
typedef int32_t *(editor_ids_fn)(void *arg, size_t *count);

//  Starts editing on the terminal. Only one editor exists at a time.
void editor_start(const char *prompt, editor_line_fn *on_line, editor_ids_fn *ids,
                  void *arg);

//  Stdin is readable: let the editor take what is there.
void editor_read(void);

//  Around lines printed while a line is being edited: the first call clears the
//  line being typed, editor_redraw puts the prompt and the partial line back.
void editor_clear(void);
void editor_redraw(void);

//  Ctrl-C: drop the line being typed and start a fresh one.
void editor_cancel_line(void);

//  Restores the terminal and saves the history.
void editor_stop(void);

#endif
