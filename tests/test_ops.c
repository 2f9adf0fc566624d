/*  Unit test: the op table, called directly as the op thread calls it. */
#include "../worker/ops.h"
#include "check.h"

#include <czmq.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static ops_t *s_ops;
static char *s_result;

static int s_run(const char *op, const char *args)
{
    free(s_result);
    s_result = NULL;
    return ops_run(s_ops, op, args, strlen(args), &s_result, NULL);
}

static void s_ok(const char *op, const char *args, const char *expected)
{
    CHECK(s_run(op, args) == 0);
    CHECK_STR(s_result, expected);
}

static void s_error(const char *op, const char *args, const char *expected)
{
    CHECK(s_run(op, args) == -1);
    CHECK_STR(s_result, expected);
}

static void s_sum(void)
{
    s_ok("sum", "3 1 2 3", "6");
    s_ok("sum", "  3\t1  2 3  ", "6");
    s_ok("sum", "0", "0");
    s_ok("sum", "2 -5 +3", "-2");
    s_ok("sum", "2 9223372036854775807 -1", "9223372036854775806");
    s_ok("sum", "3 9223372036854775807 1 -1", "9223372036854775807"); //  back in range
    s_error("sum", "2 9223372036854775807 1", "Sum overflows 64 bits");
    s_error("sum", "2 -9223372036854775808 -1", "Sum overflows 64 bits");
    s_error("sum", "1 99999999999999999999",
            "Number out of 64-bit range '99999999999999999999'");
    //  The fast path takes up to 18 digits; longer numbers go the careful way.
    s_ok("sum", "2 999999999999999999 1", "1000000000000000000");
    s_ok("sum", "1 -999999999999999999", "-999999999999999999");
    s_ok("sum", "1 9223372036854775807", "9223372036854775807");
    s_ok("sum", "1 -9223372036854775808", "-9223372036854775808");
    s_ok("sum", "2 000000000000000000000000007 +3", "10");
    s_error("sum", "1 -", "Invalid number '-'");
    s_error("sum", "1 12a", "Invalid number '12a'");
    s_error("sum", "1 1234567890123456789a", "Invalid number '1234567890123456789a'");
    s_error("sum", "1 --5", "Invalid number '--5'");
    s_error("sum", "", "Expected: sum n k1 ... kn");
    s_error("sum", "x 1", "Invalid count 'x'");
    s_error("sum", "-1", "Invalid count '-1'");
    s_error("sum", "2 1", "Expected 2 numbers, got 1");
    s_error("sum", "1 1 1", "Expected 1 numbers, got 2");
    s_error("sum", "2 1 0x5", "Invalid number '0x5'");
    //  Argument text is not NUL-terminated: the length bounds it.
    free(s_result);
    CHECK(ops_run(s_ops, "sum", "2 1 2 3", 5, &s_result, NULL) == 0);
    CHECK_STR(s_result, "3");
    //  A large input, summed in place.
    size_t count = 200000;
    char *text = (char *)malloc(count * 3 + 16);
    int length = sprintf(text, "%zu", count);
    for (size_t i = 0; i < count; i++)
        length += sprintf(text + length, " %d", (int)(i % 10) - 4);
    free(s_result);
    CHECK(ops_run(s_ops, "sum", text, (size_t)length, &s_result, NULL) == 0);
    CHECK_STR(s_result, "100000"); //  each 10 numbers sum to 5
    free(text);
}

static void s_find(void)
{
    s_ok("find", "abracadabra abra", "0;7");
    s_ok("find", "aaaa aa", "0;1;2");
    s_ok("find", "abc abc", "0");
    s_ok("find", "abc abcd", "-1");
    s_ok("find", "abc x", "-1");
    s_error("find", "abc", "Expected: find text pattern");
    s_error("find", "a b c", "Expected: find text pattern");
}

static void s_dictionary(void)
{
    s_ok("get", "MyVar", "'MyVar' not found");
    s_ok("set", "MyVar 5", "");
    s_ok("get", "MyVar", "5");
    s_ok("set", "MyVar -9223372036854775808", "");
    s_ok("get", "MyVar", "-9223372036854775808");
    s_ok("get", "myvar", "'myvar' not found"); //  names are case-sensitive
    s_error("set", "My_Var 1", "Invalid name 'My_Var' (letters and digits only)");
    s_error("set", "X 1.5", "Invalid value '1.5' (a 64-bit integer)");
    s_error("set", "X", "Expected: set name value");
    s_error("get", "", "Expected: get name");
    s_error("get", "a-b", "Invalid name 'a-b' (letters and digits only)");
    //  Bounded: names of at most 1024 characters, at most 10^6 names.
    char *long_name = malloc(1100);
    memset(long_name, 'a', 1025);
    strcpy(long_name + 1025, " 1");
    s_error("set", long_name, "Name too long (at most 1024 characters)");
    long_name[1024] = '\0';
    CHECK(s_run("get", long_name) == 0 && strncmp(s_result, "'aaaa", 5) == 0);
    free(long_name);
    ops_set_dictionary_max(s_ops, 3); //  MyVar is one of them already
    s_ok("set", "A 1", "");
    s_ok("set", "B 2", "");
    s_error("set", "C 3", "Dictionary full (3 names)");
    s_ok("set", "A 4", ""); //  a name already there may change
    s_ok("get", "A", "4");
}

static void s_timer(void)
{
    s_ok("timer", "time", "0");
    s_ok("timer", "stop", "");
    s_ok("timer", "start", "");
    s_ok("sleep", "20", "");
    s_ok("timer", "stop", "");
    CHECK(s_run("timer", "time") == 0 && atoi(s_result) >= 20);
    char *stopped = strdup(s_result);
    s_ok("sleep", "5", "");
    s_ok("timer", "time", stopped); //  frozen once stopped
    s_ok("timer", "stop", "");
    s_ok("timer", "time", stopped);
    free(stopped);
    s_error("timer", "lap", "Expected: timer start|stop|time");
    s_error("sleep", "-1", "Invalid duration '-1' (0 to 3600000 ms)");
    s_error("sleep", "3600001", "Invalid duration '3600001' (0 to 3600000 ms)");
    s_error("frobnicate", "", "Unknown op 'frobnicate'");
}

//  --max-reply: a result over the cap is refused, never sent; find stops building.
static void s_reply_cap(void)
{
    ops_set_reply_max(s_ops, 13);
    s_ok("find", "aaaaaaa a", "0;1;2;3;4;5;6"); //  13 bytes: just fits
    s_error("find", "aaaaaaaa a", "Reply too large");
    s_ok("find", "abc x", "-1");
    s_ok("sum", "1 1234567890123", "1234567890123");
    s_error("sum", "1 12345678901234", "Reply too large");
    //  Errors are not results: a long word is still named, cut to 40 characters.
    s_error("sum", "1 1234567890123x", "Invalid number '1234567890123x'");
    //  A 2 MB text of one letter: 2 million matches (a 13 MB answer), refused at the
    //  cap. (Kept small: under ASan each memmem call checks the whole rest of the text.)
    ops_set_reply_max(s_ops, 16384);
    size_t length = 2 * 1000 * 1000;
    char *text = malloc(length + 3);
    memset(text, 'a', length);
    memcpy(text + length, " a", 3);
    s_error("find", text, "Reply too large");
    free(text);
    ops_set_reply_max(s_ops, 13);
    ops_set_reply_max(s_ops, 0); //  0 keeps the cap
    s_error("find", "aaaaaaaa a", "Reply too large");
}

static int64_t s_now_us(void)
{
    return zclock_usecs();
}

//  run: off unless allowed; a program's status and output (any bytes), its errors,
//  and its limits, each ending every process it started.
static void s_run_op(void)
{
    s_error("run", "true", "The run op is off (start mqtree with --allow-run)");
    ops_set_run(s_ops, true);
    s_ok("run", "true", "0");
    s_ok("run", "false", "1");
    s_ok("run", "echo  hello   world", "0: hello world"); //  words, no shell
    s_ok("run", "printf a\\n\\n", "0: a\n");           //  one newline less
    s_ok("run", "sh -c kill${IFS}-9${IFS}$$", "137");     //  128 + SIGKILL
    //  Only its standard three descriptors reach it (3 is ls's own reading), not one
    //  the worker holds without close-on-exec.
    int held = open("/dev/null", O_RDONLY);
    CHECK(held >= 0);
    s_ok("run", "ls /proc/self/fd", "0: 0\n1\n2\n3");
    close(held);
    size_t size = 0;
    free(s_result);
    CHECK(ops_run(s_ops, "run", "printf a\\0b", 11, &s_result, &size) == 0);
    CHECK(size == 6 && memcmp(s_result, "0: a\0b", 6) == 0);
    free(s_result);
    s_result = NULL;
    s_error("run", "", "Expected: run program [args...]");
    s_error("run", "no-such-program-here", "Cannot run 'no-such-program-here': No such "
                                          "file or directory");
    s_error("run", "/etc/passwd", "Cannot run '/etc/passwd': Permission denied");
    //  The cap: over it, the program is killed.
    s_error("run", "head -c 100000 /dev/zero", "Output over 65536 bytes: the program was killed");
    //  Under --max-reply, what fits with the status passes, a byte more does not.
    ops_set_reply_max(s_ops, 1000);
    CHECK(s_run("run", "head -c 995 /dev/zero") == 0);
    s_error("run", "head -c 996 /dev/zero", "Output over 995 bytes: the program was killed");
    ops_set_reply_max(s_ops, 16 << 20);
    //  The deadline: killed at it, with what it started.
    int64_t start = s_now_us();
    ops_set_deadline(s_ops, start + 200000);
    s_error("run", "sleep 5", "Time limit reached: the program was killed");
    CHECK(s_now_us() - start < 4000000);
    //  A program that exits leaving a child on its output: answered when it exits,
    //  not when the child closes the output.
    ops_set_deadline(s_ops, s_now_us() + 4000000);
    start = s_now_us();
    s_ok("run", "sh -c sleep${IFS}3&echo${IFS}x", "0: x");
    CHECK(s_now_us() - start < 2500000);
    ops_set_deadline(s_ops, 0);
    ops_set_run(s_ops, false);
}

//  What changes a node (its answer in a tree-wide command is never held, fanout.h)
//  and what only reads it.
static void s_changes(void)
{
    CHECK(ops_changes("set", 3) && ops_changes("timer", 5) && ops_changes("run", 3));
    CHECK(!ops_changes("get", 3) && !ops_changes("sum", 3) && !ops_changes("find", 4));
    CHECK(!ops_changes("sleep", 5) && !ops_changes("unknown", 7));
    CHECK(!ops_changes("se", 2) && !ops_changes("settle", 6) && !ops_changes("", 0));
}

int main(void)
{
    s_ops = ops_new();
    s_run_op();
    s_sum();
    s_find();
    s_dictionary();
    s_timer();
    s_reply_cap();
    s_changes();
    ops_destroy(&s_ops);
    free(s_result);
    return check_report("ops");
}
