/*  Unit test: folds — answers grouped by what they say, groups in the order of their
    first id, children's folds merged (and refused when they claim an id twice),
    reductions (sum with overflow, min, max, count, what is not a number), the limit
    on the texts a fold holds, and the wire form: every fold reads back as itself,
    byte for byte, and every malformed encoding is refused with its reason. */
#include "../node/fold.h"
#include "../common/wire.h"
#include "check.h"

#include <inttypes.h>
#include <stdlib.h>

static char *s_set(const nodeset_t *ids)
{
    static char text[256];
    char *formatted = nodeset_format(ids);
    snprintf(text, sizeof text, "%s", formatted);
    free(formatted);
    return text;
}

//  The fold as the controller would print it: "status:set:text|..." by first id.
static char *s_lines(const fold_t *fold)
{
    static char text[1024];
    size_t count = fold_size(fold), used = 0;
    fold_group_t *groups = (fold_group_t *)calloc(count + 1, sizeof *groups);
    fold_groups(fold, groups);
    text[0] = '\0';
    for (size_t index = 0; index < count; index++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s%d:%s:%.*s",
                                 index ? "|" : "", groups[index].status,
                                 s_set(groups[index].ids), (int)groups[index].size,
                                 (const char *)groups[index].text);
    free(groups);
    return text;
}

static void s_add(fold_t *fold, int32_t id, int status, const char *text)
{
    fold_add(fold, id, (uint8_t)status, text, strlen(text));
}

//  Encoded, decoded, encoded again: the same bytes; returns the decoded fold.
static fold_t *s_round_trip(const fold_t *fold)
{
    size_t size, again_size;
    uint8_t *bytes = fold_encode(fold, &size);
    const char *reason = NULL;
    fold_t *decoded = fold_decode(bytes, size, &reason);
    CHECK(decoded && reason == NULL);
    if (!decoded) {
        fprintf(stderr, "  refused: %s\n", reason);
        free(bytes);
        return NULL;
    }
    uint8_t *again = fold_encode(decoded, &again_size);
    CHECK(again_size == size && memcmp(again, bytes, size) == 0);
    free(bytes);
    free(again);
    return decoded;
}

static void s_groups(void)
{
    fold_t *fold = fold_new(REDUCE_NONE);
    CHECK(fold_size(fold) == 0 && strcmp(s_lines(fold), "") == 0);
    s_add(fold, 7, WIRE_UNAVAILABLE, "Node is unavailable");
    s_add(fold, 1, WIRE_OK, "5");
    s_add(fold, 5, WIRE_OK, "'x' not found");
    s_add(fold, 2, WIRE_OK, "5");
    s_add(fold, 8, WIRE_UNAVAILABLE, "Node is unavailable");
    s_add(fold, 4, WIRE_OK, "5");
    s_add(fold, 3, WIRE_OK, "5");
    s_add(fold, 6, WIRE_OK, "5");
    s_add(fold, 9, WIRE_UNAVAILABLE, "Node is unavailable");
    s_add(fold, 3, WIRE_ERROR, "again"); //  one answer per node: the first
    CHECK_STR(s_lines(fold), "0:1-4,6:5|0:5:'x' not found|2:7-9:Node is unavailable");
    //  The same text with another status is another answer.
    s_add(fold, 10, WIRE_ERROR, "5");
    CHECK_STR(s_lines(fold),
              "0:1-4,6:5|0:5:'x' not found|2:7-9:Node is unavailable|1:10:5");
    CHECK_STR(s_set(fold_ids(fold)), "1-10");
    fold_t *back = s_round_trip(fold);
    CHECK(back && strcmp(s_lines(back), s_lines(fold)) == 0);
    fold_destroy(&back);

    //  Many distinct answers (the index grows), and empty text and NULs are answers.
    fold_t *many = fold_new(REDUCE_NONE);
    char text[16];
    for (int id = 0; id < 1000; id++) {
        snprintf(text, sizeof text, "v%d", id % 300);
        s_add(many, id, WIRE_OK, text);
    }
    fold_add(many, 1000, WIRE_OK, "", 0);
    fold_add(many, 1001, WIRE_OK, "a\0b", 3);
    fold_add(many, 1002, WIRE_OK, "a\0c", 3);
    CHECK(fold_size(many) == 303);
    fold_group_t *groups = (fold_group_t *)calloc(303, sizeof *groups);
    fold_groups(many, groups);
    CHECK(strcmp(s_set(groups[0].ids), "0,300,600,900") == 0);
    CHECK(strcmp(s_set(groups[299].ids), "299,599,899") == 0 && groups[300].size == 0);
    free(groups);
    back = s_round_trip(many);
    CHECK(back && fold_size(back) == 303);
    fold_destroy(&back);

    //  Merging a child's fold: its groups join ours; an id claimed twice is refused.
    fold_t *child = fold_new(REDUCE_NONE);
    s_add(child, 20, WIRE_OK, "5");
    s_add(child, 21, WIRE_ERROR, "Overflow");
    CHECK(fold_merge(fold, child));
    CHECK_STR(
        s_lines(fold),
        "0:1-4,6,20:5|0:5:'x' not found|2:7-9:Node is unavailable|1:10:5|1:21:Overflow");
    CHECK(!fold_merge(fold, child));
    CHECK(!fold_merge(many, fold));
    fold_t *summing = fold_new(REDUCE_SUM);
    CHECK(!fold_merge(summing, child)); //  not the same reduction
    fold_destroy(&summing);
    fold_destroy(&child);
    fold_destroy(&many);
    fold_destroy(&fold);
}

static void s_check_reduced(const fold_t *fold, const char *ids, int64_t value,
                            bool overflow)
{
    int64_t got;
    bool overflowed;
    const nodeset_t *reduced = fold_reduced(fold, &got, &overflowed);
    CHECK(reduced != NULL);
    CHECK_STR(reduced ? s_set(reduced) : "(none)", ids);
    CHECK(overflowed == overflow && (overflow || got == value));
}

static void s_reductions(void)
{
    const reduce_t kinds[] = {REDUCE_SUM, REDUCE_MIN, REDUCE_MAX, REDUCE_COUNT};
    //  count counts every Ok answer, number or not.
    const int64_t expected[] = {12, -3, 10, 5};
    const char *ids[] = {"1-2,4,6", "1-2,4,6", "1-2,4,6", "1-4,6"};
    const char *lines[] = {"1:3:Result is not a number|2:5:Node is unavailable",
                           "1:3:Result is not a number|2:5:Node is unavailable",
                           "1:3:Result is not a number|2:5:Node is unavailable",
                           "2:5:Node is unavailable"};
    for (size_t kind = 0; kind < 4; kind++) {
        //  Split over a node and two children, merged up as a tree would.
        fold_t *top = fold_new(kinds[kind]), *left = fold_new(kinds[kind]),
               *right = fold_new(kinds[kind]);
        int64_t none;
        bool overflow;
        CHECK(fold_reduced(top, &none, &overflow) == NULL);
        s_add(top, 1, WIRE_OK, "5");
        s_add(left, 2, WIRE_OK, "-3");
        s_add(left, 3, WIRE_OK, "hello");
        s_add(right, 4, WIRE_OK, "10");
        s_add(right, 5, WIRE_UNAVAILABLE, "Node is unavailable");
        s_add(right, 6, WIRE_OK, "0");
        CHECK(fold_merge(top, left) && fold_merge(top, right));
        s_check_reduced(top, ids[kind], expected[kind], false);
        CHECK_STR(s_lines(top), lines[kind]);
        fold_t *back = s_round_trip(top);
        if (back)
            s_check_reduced(back, ids[kind], expected[kind], false);
        fold_destroy(&back);
        fold_destroy(&left);
        fold_destroy(&right);
        fold_destroy(&top);
    }
    //  A sum whose parts leave int64 on the way but whose whole fits: exact, in any
    //  order and any shape of tree.
    int64_t orders[3][3] = {{INT64_MAX, -INT64_MAX, INT64_MAX},
                            {INT64_MAX, INT64_MAX, -INT64_MAX},
                            {-INT64_MAX, INT64_MAX, INT64_MAX}};
    for (int order = 0; order < 3; order++) {
        fold_t *top = fold_new(REDUCE_SUM), *child = fold_new(REDUCE_SUM);
        char text[24];
        snprintf(text, sizeof text, "%" PRId64, orders[order][0]);
        s_add(top, 1, WIRE_OK, text);
        snprintf(text, sizeof text, "%" PRId64, orders[order][1]);
        s_add(child, 2, WIRE_OK, text);
        snprintf(text, sizeof text, "%" PRId64, orders[order][2]);
        s_add(child, 3, WIRE_OK, text);
        fold_t *wire = s_round_trip(child); //  the child's partial crosses a link
        CHECK(wire && fold_merge(top, wire));
        s_check_reduced(top, "1-3", INT64_MAX, false);
        fold_destroy(&wire);
        fold_destroy(&child);
        fold_destroy(&top);
    }
    //  A sum that leaves int64 says so, also once merged.
    fold_t *sum = fold_new(REDUCE_SUM), *child = fold_new(REDUCE_SUM);
    s_add(sum, 1, WIRE_OK, "9223372036854775807");
    s_add(child, 2, WIRE_OK, "1");
    CHECK(fold_merge(sum, child));
    s_check_reduced(sum, "1-2", 0, true);
    fold_t *back = s_round_trip(sum);
    if (back)
        s_check_reduced(back, "1-2", 0, true);
    fold_destroy(&back);
    fold_destroy(&child);
    fold_destroy(&sum);
    //  Without numbers there is nothing reduced, and that round-trips too.
    fold_t *empty = fold_new(REDUCE_MAX);
    s_add(empty, 4, WIRE_ERROR, "x");
    back = s_round_trip(empty);
    int64_t value;
    bool overflow;
    CHECK(back && fold_reduced(back, &value, &overflow) == NULL);
    fold_destroy(&back);
    fold_destroy(&empty);
}

static bool s_refused(const uint8_t *data, size_t size, const char *expected)
{
    const char *reason = NULL;
    fold_t *fold = fold_decode(data, size, &reason);
    bool refused = fold == NULL;
    fold_destroy(&fold);
    CHECK_STR(reason ? reason : "(accepted)", expected);
    return refused;
}

static void s_malformed(void)
{
    //  No group: reduction none, 1 group "ok" for ids 1-2.
    uint8_t good[] = {0, 0, 0, 0, 0, 2, 'o', 'k', 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2};
    const char *reason = NULL;
    fold_t *fold = fold_decode(good, sizeof good, &reason);
    CHECK(fold && fold_size(fold) == 1);
    fold_destroy(&fold);
    CHECK(s_refused(good, 0, "a fold is cut short"));
    //  The group's set starts at byte 8.
    for (size_t cut = 2; cut < sizeof good; cut++)
        CHECK(s_refused(good, cut, cut < 8 ? "a fold is cut short" : "a set is cut short"));
    uint8_t bad[sizeof good];
    memcpy(bad, good, sizeof good);
    bad[0] = REDUCE_KINDS;
    CHECK(s_refused(bad, sizeof bad, "a fold's reduction is unknown"));
    memcpy(bad, good, sizeof good);
    bad[1] = WIRE_UNAVAILABLE + 1;
    CHECK(s_refused(bad, sizeof bad, "a fold's status is unknown"));
    memcpy(bad, good, sizeof good);
    bad[15] = 3; //  first 3 > last 2
    CHECK(s_refused(bad, sizeof bad, "a set's ranges are out of order"));
    memcpy(bad, good, sizeof good);
    bad[11] = 0; //  no range
    CHECK(s_refused(bad, 12, "a set is empty"));
    //  Two groups: touching ranges across groups are fine, shared ids are not, and
    //  groups go by first id, each answer once.
    uint8_t two[] = {0, 0, 0, 0, 0, 1,   'a', 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2,
                     0, 0, 0, 0, 1, 'b', 0,   0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 4};
    fold = fold_decode(two, sizeof two, &reason);
    CHECK(fold && fold_size(fold) == 2);
    fold_destroy(&fold);
    uint8_t shared[sizeof two];
    memcpy(shared, two, sizeof two);
    shared[32] = 2; //  b from 2: 2 is a's
    CHECK(s_refused(shared, sizeof shared, "a fold holds an id twice"));
    memcpy(shared, two, sizeof two);
    shared[32] = 0; //  b from 0 after a from 1
    CHECK(s_refused(shared, sizeof shared, "a fold's groups are out of order"));
    memcpy(shared, two, sizeof two);
    shared[24] = 'a'; //  a twice
    CHECK(s_refused(shared, sizeof shared, "a fold holds one answer twice"));
    //  A reduction with a value and no ids.
    uint8_t reduced[] = {REDUCE_SUM, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                         0,          0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0};
    CHECK(
        s_refused(reduced, sizeof reduced, "a fold's reduction has a value but no ids"));
    reduced[1] = 2;
    CHECK(s_refused(reduced, sizeof reduced, "a fold's overflow flag is not 0 or 1"));
}

//  A limit: the groups' texts never total more; answers past it (added or merged)
//  are counted in the FOLD_TOO_LARGE group, which the limit does not hold; known
//  answers still join their group; a cleared fold keeps its limit and reduction.
static void s_limited(void)
{
    fold_t *fold = fold_new(REDUCE_NONE);
    fold_limit(fold, 10);
    s_add(fold, 1, WIRE_OK, "aaaa");
    s_add(fold, 2, WIRE_OK, "bbbb");
    s_add(fold, 3, WIRE_OK, "ccc");   //  4 + 4 + 3 > 10
    s_add(fold, 4, WIRE_OK, "aaaa");  //  a known answer takes no room
    s_add(fold, 5, WIRE_ERROR, "dd"); //  4 + 4 + 2 = 10: fits
    s_add(fold, 6, WIRE_OK, "e");
    s_add(fold, 7, WIRE_OK, "");      //  an empty text always fits
    CHECK_STR(s_lines(fold), "0:1,4:aaaa|0:2:bbbb|1:3,6:" FOLD_TOO_LARGE "|1:5:dd|0:7:");
    //  A child's groups: known ones merge, new ones that do not fit are too large,
    //  and the child's own too-large ids join ours.
    fold_t *child = fold_new(REDUCE_NONE);
    s_add(child, 10, WIRE_OK, "bbbb");
    s_add(child, 11, WIRE_OK, "ffff");
    s_add(child, 12, WIRE_ERROR, FOLD_TOO_LARGE);
    CHECK(fold_merge(fold, child));
    CHECK_STR(s_lines(fold),
              "0:1,4:aaaa|0:2,10:bbbb|1:3,6,11-12:" FOLD_TOO_LARGE "|1:5:dd|0:7:");
    CHECK_STR(s_set(fold_ids(fold)), "1-7,10-12");
    fold_t *back = s_round_trip(fold);
    CHECK(back && strcmp(s_lines(back), s_lines(fold)) == 0);
    fold_destroy(&back);

    //  Thousands of distinct answers of 64 KiB under a limit of 1 MiB: 16 kept.
    fold_t *big = fold_new(REDUCE_NONE);
    fold_limit(big, 1 << 20);
    size_t size = 64 * 1024;
    char *text = (char *)malloc(size);
    for (int id = 0; id < 4000; id++) {
        memset(text, 'a' + id % 26, size);
        snprintf(text, size, "%d", id); //  distinct
        fold_add(big, id, WIRE_OK, text, size);
    }
    free(text);
    CHECK(fold_size(big) == 17);
    size_t encoded;
    uint8_t *bytes = fold_encode(big, &encoded);
    CHECK(encoded > 16 * size && encoded < 16 * size + 4096);
    free(bytes);

    //  Cleared: no answer left, the limit and reduction stay.
    fold_clear(fold);
    CHECK(fold_size(fold) == 0 && nodeset_empty(fold_ids(fold)));
    CHECK(fold_reduction(fold) == REDUCE_NONE);
    s_add(fold, 20, WIRE_OK, "0123456789");
    s_add(fold, 21, WIRE_OK, "x");
    CHECK_STR(s_lines(fold), "0:20:0123456789|1:21:" FOLD_TOO_LARGE);
    fold_destroy(&big);
    fold_t *max = fold_new(REDUCE_MAX);
    s_add(max, 1, WIRE_OK, "12");
    fold_clear(max);
    int64_t value;
    bool overflow;
    CHECK(fold_reduction(max) == REDUCE_MAX &&
          fold_reduced(max, &value, &overflow) == NULL);
    s_add(max, 2, WIRE_OK, "3");
    s_check_reduced(max, "2", 3, false);
    fold_destroy(&max);
    fold_destroy(&child);
    fold_destroy(&fold);
}

int main(void)
{
    s_groups();
    s_reductions();
    s_malformed();
    s_limited();
    return check_report("fold");
}
