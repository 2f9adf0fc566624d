/*  Unit test: escaping outside bytes so one reply stays one printable line. */
#include "../common/text.h"
#include "check.h"

#include <stdlib.h>

static void s_check(const char *data, size_t size, const char *expected)
{
    char *escaped = text_escape(data, size);
    CHECK_STR(escaped, expected);
    //  Nothing a terminal obeys is left.
    for (const unsigned char *byte = (const unsigned char *)escaped; *byte; byte++)
        CHECK(*byte >= 0x20 && *byte != 0x7f);
    free(escaped);
}

#define ESCAPES(literal, expected) s_check(literal, sizeof literal - 1, expected)

int main(void)
{
    ESCAPES("", "");
    ESCAPES("0;7", "0;7");
    ESCAPES("'Other' not found", "'Other' not found");
    //  A forged second line stays on the first one.
    ESCAPES("6\nOk:10: 7", "6\\nOk:10: 7");
    ESCAPES("a\r\tb", "a\\r\\tb");
    ESCAPES("back\\slash", "back\\\\slash");
    ESCAPES("\x1b[2J\x07\x7f\x01", "\\x1b[2J\\x07\\x7f\\x01");
    ESCAPES("nul\0byte", "nul\\x00byte");
    //  Valid UTF-8 is kept, of every length.
    ESCAPES("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\xb3",
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\xb3");
    ESCAPES("\xc2\xa0", "\xc2\xa0"); //  U+00A0, just past the C1 controls
    //  C1 controls (U+009B is CSI on some terminals).
    ESCAPES("\xc2\x9b"
            "2J",
            "\\xc2\\x9b2J");
    ESCAPES("\xc2\x80", "\\xc2\\x80");
    //  Invalid UTF-8: each byte that is not part of a valid sequence.
    ESCAPES("\xff", "\\xff");
    ESCAPES("a\x80z", "a\\x80z");
    ESCAPES("\xc3", "\\xc3");                            //  cut short at the end
    ESCAPES("\xc3(", "\\xc3(");                          //  a bad continuation
    ESCAPES("\xc0\xaf", "\\xc0\\xaf");                   //  overlong '/'
    ESCAPES("\xe0\x80\xaf", "\\xe0\\x80\\xaf");          //  overlong, 3 bytes
    ESCAPES("\xed\xa0\x80", "\\xed\\xa0\\x80");          //  a surrogate
    ESCAPES("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); //  over U+10FFFF
    ESCAPES("\xe2\x82", "\\xe2\\x82");                   //  3-byte sequence cut short
    ESCAPES("\xe2\x82\xac\xe2", "\xe2\x82\xac\\xe2");
    //  The worst case: four output bytes per input byte.
    char all[256];
    for (int byte = 0; byte < 256; byte++)
        all[byte] = (char)byte;
    char *escaped = text_escape(all, sizeof all);
    CHECK(strlen(escaped) <= 4 * sizeof all);
    CHECK(strchr(escaped, '\n') == NULL);
    free(escaped);
    return check_report("text");
}
