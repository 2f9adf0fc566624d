/*  numbers — strict integer parsing for ids and op arguments (see numbers.h): owns
    what counts as a canonical decimal integer, and every range check on one. */
#include "numbers.h"

#include <string.h>

int id_parse(const char *text, int32_t *id)
{
    const char *cursor = text;
    bool negative = *cursor == '-';
    if (negative)
        cursor++;
    if (*cursor < '0' || *cursor > '9')
        return -1;
    //  One canonical spelling per id, so "007" and "-0" cannot alias 7 and 0.
    if (*cursor == '0' && (cursor[1] != '\0' || negative))
        return -1;
    int64_t magnitude = 0;
    for (; *cursor; cursor++) {
        if (*cursor < '0' || *cursor > '9')
            return -1;
        magnitude = magnitude * 10 + (*cursor - '0');
        if (magnitude > (int64_t)INT32_MAX + 1)
            return -1;
    }
    int64_t value = negative ? -magnitude : magnitude;
    if (value > INT32_MAX || value < INT32_MIN)
        return -1;
    *id = (int32_t)value;
    return 0;
}

int int64_parse(const char *begin, const char *end, int64_t *value)
{
    const char *cursor = begin;
    bool negative = false;
    if (cursor < end && (*cursor == '-' || *cursor == '+')) {
        negative = *cursor == '-';
        cursor++;
    }
    if (cursor == end)
        return -1;
    //  Accumulate negatively so INT64_MIN parses without overflowing.
    int64_t accumulated = 0;
    for (; cursor < end; cursor++) {
        unsigned digit = (unsigned)(*cursor - '0');
        if (digit > 9)
            return -1;
        if (__builtin_mul_overflow(accumulated, 10, &accumulated) ||
            __builtin_sub_overflow(accumulated, (int64_t)digit, &accumulated))
            return -2;
    }
    if (!negative) {
        if (accumulated == INT64_MIN)
            return -2;
        accumulated = -accumulated;
    }
    *value = accumulated;
    return 0;
}

int size_parse(const char *text, size_t *size)
{
    const char *end = text + strlen(text);
    uint64_t unit = 1;
    if (end > text) {
        switch (end[-1]) {
            case 'K':
                unit = 1ULL << 10;
                break;
            case 'M':
                unit = 1ULL << 20;
                break;
            case 'G':
                unit = 1ULL << 30;
                break;
        }
        if (unit > 1)
            end--;
    }
    if (end == text || *text == '+' || *text == '-')
        return -1;
    int64_t count;
    uint64_t bytes;
    if (int64_parse(text, end, &count) != 0 || count <= 0 ||
        __builtin_mul_overflow((uint64_t)count, unit, &bytes) || bytes > SIZE_MAX)
        return -1;
    *size = (size_t)bytes;
    return 0;
}
