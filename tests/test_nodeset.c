/*  Unit test: node sets — ranges merged as they are added (overlapping, touching,
    at the ends of int32), the compact form, and the set syntax users type: which
    words are sets, what each item adds, and every malformed item refused with its
    reason. A random test compares the set with a plain bitmap. */
#include "../common/nodeset.h"
#include "check.h"

#include <stdlib.h>

//  The set's compact form, compared with expected.
static bool s_is(const nodeset_t *set, const char *expected)
{
    char *text = nodeset_format(set);
    bool same = strcmp(text, expected) == 0;
    if (!same)
        fprintf(stderr, "  got '%s', expected '%s'\n", text, expected);
    free(text);
    return same;
}

static void s_ranges(void)
{
    nodeset_t *set = nodeset_new();
    CHECK(nodeset_empty(set) && s_is(set, "") && nodeset_count(set) == 0);
    nodeset_add(set, 5);
    nodeset_add(set, 3);
    CHECK(s_is(set, "3,5") && nodeset_ranges(set) == 2);
    nodeset_add(set, 4); //  touches both: one range
    CHECK(s_is(set, "3-5") && nodeset_ranges(set) == 1 && nodeset_count(set) == 3);
    nodeset_add_range(set, 9, 12);
    nodeset_add_range(set, 20, 22);
    nodeset_add_range(set, 1, 1);
    CHECK(s_is(set, "1,3-5,9-12,20-22"));
    nodeset_add_range(set, 6, 8); //  joins 3-5 and 9-12
    CHECK(s_is(set, "1,3-12,20-22"));
    nodeset_add_range(set, 0, 30); //  swallows everything
    CHECK(s_is(set, "0-30") && nodeset_count(set) == 31);
    nodeset_add_range(set, 7, 6); //  empty: nothing
    CHECK(s_is(set, "0-30"));
    CHECK(nodeset_contains(set, 0) && nodeset_contains(set, 30));
    CHECK(!nodeset_contains(set, -1) && !nodeset_contains(set, 31));
    nodeset_destroy(&set);
    CHECK(set == NULL);

    //  Signed ids, and the ends of int32.
    set = nodeset_new();
    nodeset_add_range(set, -5, -3);
    nodeset_add_range(set, -2, 1);
    CHECK(s_is(set, "-5-1") && nodeset_count(set) == 7);
    nodeset_add(set, INT32_MAX);
    nodeset_add(set, INT32_MIN);
    CHECK(s_is(set, "-2147483648,-5-1,2147483647"));
    nodeset_add_range(set, INT32_MIN, INT32_MAX);
    CHECK(s_is(set, "-2147483648-2147483647") && nodeset_count(set) == 1ULL << 32);
    nodeset_destroy(&set);

    //  Merging sets.
    nodeset_t *one = nodeset_new(), *other = nodeset_new();
    nodeset_add_range(one, 1, 4);
    nodeset_add(one, 9);
    nodeset_add(other, 5);
    nodeset_add_range(other, 7, 8);
    nodeset_merge(one, other);
    CHECK(s_is(one, "1-5,7-9") && s_is(other, "5,7-8"));
    nodeset_range_t range = nodeset_range(one, 1);
    CHECK(range.first == 7 && range.last == 9);
    //  Subtracting: ranges cut, split, emptied; other kept.
    nodeset_add_range(other, 2, 3);
    nodeset_subtract(one, other);
    CHECK(s_is(one, "1,4,9") && s_is(other, "2-3,5,7-8"));
    nodeset_add_range(one, INT32_MIN, INT32_MAX);
    nodeset_subtract(one, other);
    CHECK(s_is(one, "-2147483648-1,4,6,9-2147483647"));
    nodeset_subtract(one, one); //  itself: nothing left
    CHECK(nodeset_empty(one));
    nodeset_destroy(&one);
    nodeset_destroy(&other);
}

//  Random ranges against a bitmap of ids 0..255.
static void s_random(void)
{
    unsigned seed = 42;
    for (int round = 0; round < 200; round++) {
        bool expected[256] = {false};
        nodeset_t *set = nodeset_new();
        for (int add = 0; add < 30; add++) {
            int first = (int)(rand_r(&seed) % 256);
            int last = first + (int)(rand_r(&seed) % 12);
            last = last > 255 ? 255 : last;
            nodeset_add_range(set, first, last);
            for (int id = first; id <= last; id++)
                expected[id] = true;
        }
        uint64_t count = 0;
        bool same = true;
        for (int id = 0; id < 256; id++) {
            count += expected[id];
            same = same && nodeset_contains(set, id) == expected[id];
        }
        CHECK(same && nodeset_count(set) == count);
        //  Less a random set: what is left is what the bitmaps say.
        nodeset_t *less = nodeset_new();
        bool taken[256] = {false};
        for (int add = 0; add < 10; add++) {
            int first = (int)(rand_r(&seed) % 256),
                last = first + (int)(rand_r(&seed) % 20);
            last = last > 255 ? 255 : last;
            nodeset_add_range(less, first, last);
            for (int id = first; id <= last; id++)
                taken[id] = true;
        }
        nodeset_subtract(set, less);
        bool left = true;
        for (int id = 0; id < 256; id++)
            left = left && nodeset_contains(set, id) == (expected[id] && !taken[id]);
        CHECK(left);
        nodeset_destroy(&less);
        //  Ranges ascend and never touch.
        for (size_t index = 1; index < nodeset_ranges(set); index++)
            CHECK((int64_t)nodeset_range(set, index - 1).last + 1 <
                  nodeset_range(set, index).first);
        nodeset_destroy(&set);
    }
}

static const char *s_parsed(const char *word, nodeset_spec_t *spec)
{
    const char *reason = NULL;
    int rc = nodeset_parse(word, strlen(word), spec, &reason);
    CHECK(rc == 0 ? reason == NULL : reason != NULL);
    return reason;
}

static void s_syntax(void)
{
    CHECK(nodeset_is_set("all", 3) && nodeset_is_set("1-5", 3));
    CHECK(nodeset_is_set("1,2", 3) && nodeset_is_set("3/", 2));
    CHECK(nodeset_is_set("-5--3", 5) && nodeset_is_set("-5-3", 4));
    CHECK(!nodeset_is_set("5", 1) && !nodeset_is_set("-5", 2));
    CHECK(!nodeset_is_set("al", 2) && !nodeset_is_set("x", 1));

    nodeset_spec_t spec;
    CHECK(s_parsed("1-5,9,20-22", &spec) == NULL);
    CHECK(s_is(spec.ids, "1-5,9,20-22") && nodeset_empty(spec.subtrees) && !spec.all);
    nodeset_spec_release(&spec);
    CHECK(spec.ids == NULL && spec.subtrees == NULL);
    CHECK(s_parsed("3/,7,all,10/,4-6", &spec) == NULL);
    CHECK(s_is(spec.ids, "4-7") && s_is(spec.subtrees, "3,10") && spec.all);
    nodeset_spec_release(&spec);
    CHECK(s_parsed("-5--3,-2-0,2147483647", &spec) == NULL);
    CHECK(s_is(spec.ids, "-5-0,2147483647"));
    nodeset_spec_release(&spec);
    CHECK(s_parsed("7-7", &spec) == NULL && s_is(spec.ids, "7"));
    nodeset_spec_release(&spec);

    const struct {
        const char *word, *reason;
    } bad[] = {
        {"", "an empty item"},
        {"1,,2", "an empty item"},
        {"1,", "an empty item"},
        {",1", "an empty item"},
        {"x", "not an id"},
        {"01", "not an id"},
        {"2147483648", "not an id"},
        {"1-x", "a range is two ids joined by '-'"},
        {"1-", "a range is two ids joined by '-'"},
        {"1-2-3", "a range is two ids joined by '-'"},
        {"5-3", "a range must go up"},
        {"/", "a subtree is an id and '/'"},
        {"x/", "a subtree is an id and '/'"},
        {"3//", "a subtree is an id and '/'"},
        {"All", "not an id"},
        {"12345678901234567890", "not an id"},
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        const char *reason = s_parsed(bad[index].word, &spec);
        CHECK_STR(reason, bad[index].reason);
        nodeset_spec_release(&spec);
    }
}

//  Sets built in any order: descending, interleaved merges, a list typed backwards.
//  Each such add is appended and sorted once when read (a memmove per add made a
//  600,000-item set typed descending take 19 s).
static void s_any_order(void)
{
    nodeset_t *down = nodeset_new(), *odd = nodeset_new(), *even = nodeset_new();
    for (int32_t id = 100000; id >= 1; id--) {
        nodeset_add(down, id);
        nodeset_add(id % 2 ? odd : even, id);
    }
    CHECK(nodeset_ranges(down) == 1 && nodeset_count(down) == 100000);
    CHECK(nodeset_ranges(odd) == 50000 && nodeset_contains(odd, 99999) &&
          !nodeset_contains(odd, 2));
    nodeset_merge(odd, even);
    CHECK(nodeset_ranges(odd) == 1 && nodeset_count(odd) == 100000);
    char *text = nodeset_format(odd);
    CHECK_STR(text, "1-100000");
    free(text);
    //  Overlapping, nested and touching ranges out of order.
    nodeset_t *mixed = nodeset_new();
    nodeset_add_range(mixed, 50, 60);
    nodeset_add_range(mixed, 10, 20);
    nodeset_add_range(mixed, 55, 70);
    nodeset_add_range(mixed, 21, 22);
    nodeset_add_range(mixed, 12, 14);
    nodeset_add_range(mixed, -5, -5);
    text = nodeset_format(mixed);
    CHECK_STR(text, "-5,10-22,50-70");
    free(text);
    nodeset_spec_t spec;
    const char *reason;
    CHECK(nodeset_parse("9,7,5-6,1,3/,2/,all", 19, &spec, &reason) == 0);
    text = nodeset_format(spec.ids);
    CHECK_STR(text, "1,5-7,9");
    free(text);
    text = nodeset_format(spec.subtrees);
    CHECK_STR(text, "2-3");
    free(text);
    nodeset_spec_release(&spec);
    nodeset_destroy(&mixed);
    nodeset_destroy(&down);
    nodeset_destroy(&odd);
    nodeset_destroy(&even);
}

int main(void)
{
    s_ranges();
    s_any_order();
    s_random();
    s_syntax();
    return check_report("nodeset");
}
