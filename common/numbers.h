/*  numbers — strict parsing of the integers users type: node ids and 64-bit values.
    No strtol: it accepts "0x10", " 5", "1e3"-prefixes and silently saturates. */
#ifndef MQTREE_NUMBERS_H
#define MQTREE_NUMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
//  A positive byte count: decimal digits, optionally followed by K, M or G (binary:
//  1024, 1024^2, 1024^3), as `--max-reply 16M` or `--max-line 1000`. No sign, no
//  spaces, no zero. Returns 0, or -1 if malformed or out of range.
int size_parse(const char *text, size_t *size);

#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
//  A positive byte count: decimal digits, optionally followed by K, M or G (binary:
//  1024, 1024^2, 1024^3), as `--max-reply 16M` or `--max-line 1000`. No sign, no
//  spaces, no zero. Returns 0, or -1 if malformed or out of range.
int size_parse(const char *text, size_t *size);

#endif

//  A node id: "0" or an optional '-' then digits without a leading zero, in int32
//  range. "-0", "+5", "007", "0x10" and "1e3" are refused. Returns 0 or -1.
int id_parse(const char *text, int32_t *id);

//  A signed 64-bit decimal from [begin, end): optional '+' or '-', then digits
//  (leading zeros allowed). Returns 0, or -1 if malformed, or -2 on overflow.
int int64_parse(const char *begin, const char *end, int64_t *value);

//  A positive byte count: decimal digits, optionally followed by K, M or G (binary:
//  1024, 1024^2, 1024^3), as `--max-reply 16M` or `--max-line 1000`. No sign, no
//  spaces, no zero. Returns 0, or -1 if malformed or out of range.
int size_parse(const char *text, size_t *size);

#endif
