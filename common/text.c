/*  text — escaping outside bytes for result lines (see text.h): owns which bytes are
    shown as they are and how the others are written, once for every caller. */
#include "text.h"
#include "mem.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

//  The length of the valid UTF-8 sequence at bytes (1 to 4), or 0 if there is none.
static size_t s_utf8_length(const uint8_t *bytes, size_t left)
{
    uint8_t lead = bytes[0];
    size_t length;
    uint8_t low = 0x80, high = 0xbf; //  the range of the second byte
    if (lead >= 0xc2 && lead <= 0xdf)
        length = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        if (lead == 0xe0)
            low = 0xa0; //  no overlong forms
        if (lead == 0xed)
            high = 0x9f; //  no surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        if (lead == 0xf0)
            low = 0x90; //  no overlong forms
        if (lead == 0xf4)
            high = 0x8f; //  nothing over U+10FFFF
    } else
        return 0;
    if (left < length || bytes[1] < low || bytes[1] > high)
        return 0;
    for (size_t index = 2; index < length; index++)
        if (bytes[index] < 0x80 || bytes[index] > 0xbf)
            return 0;
    return length;
}

char *text_escape(const char *data, size_t size)
{
    //  At most four output bytes per input byte (\xNN), and the NUL.
    char *escaped = (char *)mem_alloc(size * 4 + 1);
    static const char hex[] = "0123456789abcdef";
    const uint8_t *bytes = (const uint8_t *)data;
    char *out = escaped;
    size_t index = 0;
    while (index < size) {
        uint8_t byte = bytes[index];
        size_t length = 1;
        bool plain = byte >= 0x20 && byte < 0x7f && byte != '\\';
        if (byte >= 0x80) {
            length = s_utf8_length(bytes + index, size - index);
            //  C1 controls: U+0080..U+009F are 0xc2 0x80..0x9f.
            bool c1 = length == 2 && byte == 0xc2 && bytes[index + 1] <= 0x9f;
            plain = length > 0 && !c1;
            if (!plain)
                length = length ? length : 1;
        }
        if (plain) {
            for (size_t copy = 0; copy < length; copy++)
                *out++ = (char)bytes[index + copy];
        } else
            for (size_t copy = 0; copy < length; copy++) {
                uint8_t raw = bytes[index + copy];
                *out++ = '\\';
                if (raw == '\\')
                    *out++ = '\\';
                else if (raw == '\n')
                    *out++ = 'n';
                else if (raw == '\r')
                    *out++ = 'r';
                else if (raw == '\t')
                    *out++ = 't';
                else {
                    *out++ = 'x';
                    *out++ = hex[raw >> 4];
                    *out++ = hex[raw & 0xf];
                }
            }
        index += length;
    }
    *out = '\0';
    return escaped;
}
