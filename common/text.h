/*  text — making bytes from outside (a node's reply, a word the user typed) safe to
    print as part of one result line.

    Replies and echoed words are data: a newline in one would make two lines (a
    forged reply could print a fake `Ok:` line), a terminal escape sequence would be
    run by the user's terminal, and invalid UTF-8 cannot go into a JSON string. So
    every such text is escaped once, where it enters the controller, C-style and
    reversibly:
        \n \r \t         for newline, carriage return and tab
        \\               for a backslash, so that an escape is never ambiguous
        \xNN             (two lower-case hex digits) for every other byte below 0x20,
                         0x7f, each byte of a C1 control (U+0080..U+009F, which some
                         terminals obey too), and each byte that is not part of a
                         valid UTF-8 sequence (overlong forms, surrogates and code
                         points over U+10FFFF are not valid)
    Everything else, valid UTF-8 included, is copied as it is. The result holds no
    byte below 0x20, no 0x7f, and is valid UTF-8. */
#ifndef MQTREE_TEXT_H
#define MQTREE_TEXT_H

#include <stddef.h>

//  The escaped form of size bytes at data (NUL bytes included), NUL-terminated.
//  Caller frees. Aborts on out-of-memory, like czmq.
char *text_escape(const char *data, size_t size);

#endif
