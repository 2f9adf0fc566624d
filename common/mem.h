/*  mem — allocation that does not fail: out of memory aborts the process, as czmq's
    zmalloc does. mqtree's one policy for it: code never checks for NULL after these
    (nor after zmalloc, process_format or czmq's constructors), and the product's
    sources call no allocator of the C library directly: not malloc, strdup,
    asprintf (process_format) nor open_memstream (the ctest one_oom_policy). */
#ifndef MQTREE_MEM_H
#define MQTREE_MEM_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void *mem_checked(void *memory)
{
    if (!memory) {
        fputs("mqtree: out of memory\n", stderr);
        abort();
    }
    return memory;
}

//  malloc: not zeroed. For what is allocated once per message or line (glibc's
//  calloc never takes from the per-thread cache).
static inline void *mem_alloc(size_t size)
{
    return mem_checked(malloc(size ? size : 1));
}

static inline void *mem_calloc(size_t count, size_t size)
{
    return mem_checked(calloc(count ? count : 1, size ? size : 1));
}

static inline void *mem_realloc(void *memory, size_t size)
{
    return mem_checked(realloc(memory, size ? size : 1));
}

static inline char *mem_strdup(const char *text)
{
    return (char *)mem_checked(strdup(text));
}

static inline char *mem_strndup(const char *text, size_t size)
{
    return (char *)mem_checked(strndup(text, size));
}

//  A stream that writes into *text (open_memstream): fclose it, then free *text.
static inline FILE *mem_stream(char **text, size_t *size)
{
    return (FILE *)mem_checked(open_memstream(text, size));
}

#endif
