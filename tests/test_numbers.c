/*  Unit test: strict id and integer parsing. */
#include "../common/numbers.h"
#include "check.h"

static void s_ids(void)
{
    int32_t id;
    CHECK(id_parse("0", &id) == 0 && id == 0);
    CHECK(id_parse("10", &id) == 0 && id == 10);
    CHECK(id_parse("-1", &id) == 0 && id == -1);
    CHECK(id_parse("2147483647", &id) == 0 && id == 2147483647);
    CHECK(id_parse("-2147483648", &id) == 0 && id == INT32_MIN);
    const char *bad[] = {"",
                         "-",
                         "-0",
                         "+5",
                         "007",
                         "0x10",
                         "1e3",
                         " 5",
                         "5 ",
                         "5a",
                         "2147483648",
                         "-2147483649",
                         "99999999999999999999",
                         "--1",
                         "1.0",
                         "\t1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        id = 42;
        CHECK(id_parse(bad[i], &id) == -1 && id == 42);
    }
}

static int s_int64(const char *text, int64_t *value)
{
    return int64_parse(text, text + strlen(text), value);
}

static void s_int64s(void)
{
    int64_t value;
    CHECK(s_int64("0", &value) == 0 && value == 0);
    CHECK(s_int64("-0", &value) == 0 && value == 0);
    CHECK(s_int64("+17", &value) == 0 && value == 17);
    CHECK(s_int64("007", &value) == 0 && value == 7);
    CHECK(s_int64("9223372036854775807", &value) == 0 && value == INT64_MAX);
    CHECK(s_int64("-9223372036854775808", &value) == 0 && value == INT64_MIN);
    CHECK(s_int64("9223372036854775808", &value) == -2);
    CHECK(s_int64("-9223372036854775809", &value) == -2);
    CHECK(s_int64("123456789012345678901234567890", &value) == -2);
    CHECK(s_int64("", &value) == -1);
    CHECK(s_int64("-", &value) == -1);
    CHECK(s_int64("1x", &value) == -1);
    CHECK(s_int64("0x10", &value) == -1);
    //  The end bound is respected: "12" of "123".
    const char *text = "123";
    CHECK(int64_parse(text, text + 2, &value) == 0 && value == 12);
}

//  --max-reply and --max-line values.
static void s_sizes(void)
{
    size_t size;
    CHECK(size_parse("1000", &size) == 0 && size == 1000);
    CHECK(size_parse("1", &size) == 0 && size == 1);
    CHECK(size_parse("16M", &size) == 0 && size == 16 << 20);
    CHECK(size_parse("4K", &size) == 0 && size == 4096);
    CHECK(size_parse("1G", &size) == 0 && size == (size_t)1 << 30);
    CHECK(size_parse("1048576", &size) == 0 && size == 1 << 20);
    CHECK(size_parse("0", &size) == -1);
    CHECK(size_parse("", &size) == -1);
    CHECK(size_parse("M", &size) == -1);
    CHECK(size_parse("-5", &size) == -1);
    CHECK(size_parse("+5", &size) == -1);
    CHECK(size_parse("5 ", &size) == -1);
    CHECK(size_parse("5m", &size) == -1);
    CHECK(size_parse("5MB", &size) == -1);
    CHECK(size_parse("1.5M", &size) == -1);
    CHECK(size_parse("99999999999999999999", &size) == -1);
    CHECK(size_parse("9223372036854775807G", &size) == -1); //  overflows
}

int main(void)
{
    s_ids();
    s_int64s();
    s_sizes();
    return check_report("numbers");
}
