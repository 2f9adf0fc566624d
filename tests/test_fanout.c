/*  Unit test: gathering the answers of a node's children. */
#include "../node/fanout.h"
#include "../common/wire.h"
#include "check.h"

//  A child's answer: the fold of ids that answered (Ok, no text), encoded.
static byte *s_answer(const int32_t *ids, size_t count, size_t *size)
{
    fold_t *fold = fold_new(REDUCE_NONE);
    for (size_t i = 0; i < count; i++)
        fold_add(fold, ids[i], WIRE_OK, "", 0);
    byte *answer = fold_encode(fold, size);
    fold_destroy(&fold);
    return answer;
}

//  What the fanout gathered since its last answer went up, as a set.
static bool s_gathered(fanout_t *fanout, const char *expected)
{
    char *text = nodeset_format(fold_ids(fanout->fold));
    bool same = strcmp(text, expected) == 0;
    if (!same)
        fprintf(stderr, "  gathered '%s', expected '%s'\n", text, expected);
    free(text);
    return same;
}

static void s_gathering(void)
{
    fanout_t *fanout = fanout_new(7, 1000, REDUCE_NONE, 0);
    fanout_add(fanout, 1, WIRE_OK, "", 0);
    CHECK(fanout_done(fanout));
    fanout_expect(fanout, 2);
    fanout_expect(fanout, 3);
    fanout_expect(fanout, -4);
    CHECK(!fanout_done(fanout));

    size_t size;
    int32_t subtree[] = {2, 20, 21};
    byte *answer = s_answer(subtree, 3, &size);
    CHECK(fanout_answer(fanout, 2, answer, size, true));
    CHECK(!fanout_answer(fanout, 2, answer, size, true));     //  answered already
    CHECK(!fanout_answer(fanout, 9, answer, size, true));     //  never asked
    CHECK(!fanout_answer(fanout, 3, answer, size, true));     //  ids another child gave
    CHECK(!fanout_answer(fanout, 3, answer, size - 1, true)); //  not a fold
    free(answer);
    CHECK(!fanout_done(fanout));
    CHECK(fanout_forget(fanout, 3));
    CHECK(!fanout_forget(fanout, 3));
    int32_t negative[] = {-4};
    answer = s_answer(negative, 1, &size);
    CHECK(fanout_answer(fanout, -4, answer, size, true));
    free(answer);
    CHECK(fanout_done(fanout));
    CHECK(s_gathered(fanout, "-4,1-2,20-21"));
    fanout_destroy(&fanout);
    CHECK(fanout == NULL);
}

//  A child that answered at its deadline with part of its subtree stays awaited:
//  the rest follows, and once the node's own partial answer has gone up, what it
//  sends next holds only what came since.
static void s_partial_answers(void)
{
    fanout_t *fanout = fanout_new(8, 1000, REDUCE_NONE, 0);
    fanout_add(fanout, 1, WIRE_OK, "", 0);
    fanout_expect(fanout, 2);
    fanout_expect(fanout, 5);
    size_t size;
    int32_t part[] = {2, 3};
    byte *answer = s_answer(part, 2, &size);
    CHECK(fanout_answer(fanout, 2, answer, size, false));
    free(answer);
    CHECK(!fanout_done(fanout));
    CHECK(s_gathered(fanout, "1-3"));
    //  Our deadline: what we have goes up.
    CHECK(!fanout->answered);
    fanout_sent(fanout);
    CHECK(fanout->answered && s_gathered(fanout, ""));
    int32_t rest[] = {4};
    answer = s_answer(rest, 1, &size);
    CHECK(fanout_answer(fanout, 2, answer, size, true));
    CHECK(!fanout_done(fanout) && s_gathered(fanout, "4"));
    fanout_sent(fanout);
    CHECK(!fanout_answer(fanout, 2, answer, size, true)); //  2 is complete
    free(answer);
    CHECK(fanout_forget(fanout, 5));
    CHECK(fanout_done(fanout) && s_gathered(fanout, ""));
    fanout_destroy(&fanout);
}

//  Deadlines in microseconds, as on the wire.
#define MS 1000

static void s_deadlines(void)
{
    //  Each level keeps 1/512 of the time left for its own answer.
    CHECK(fanout_child_deadline(10000 * MS + 2048 * MS, 10000 * MS) ==
          12048 * MS - 4 * MS);
    CHECK(fanout_child_deadline(1024 * MS, 0) == 1022 * MS);
    CHECK(fanout_child_deadline(51200, 0) == 51100); //  100 us: a hop's worth
    //  No fixed amount: a little time left is shared, not taken whole.
    CHECK(fanout_child_deadline(10000 * MS + 512, 10000 * MS) == 10000 * MS + 511);
    CHECK(fanout_child_deadline(10000 * MS + 100, 10000 * MS) == 10000 * MS + 100);
    //  Passed, or none: nothing to share.
    CHECK(fanout_child_deadline(10000 * MS, 10000 * MS) == 10000 * MS);
    CHECK(fanout_child_deadline(9000 * MS, 10000 * MS) == 9000 * MS);
    CHECK(fanout_child_deadline(0, 10000 * MS) == 0);
    //  The controller keeps 1/16 of the timeout for late answers to climb.
    CHECK(fanout_root_deadline(10000 * MS + 2000 * MS, 10000 * MS) == 11875 * MS);
    CHECK(fanout_root_deadline(0, 10000 * MS) == 0);
}

//  A chain of depth levels under the controller, asked at time 0, each level asked
//  hop_us after its parent: returns the least margin a level kept, and the time
//  left at the bottom in left_us.
static int64_t s_chain(int64_t timeout_us, int depth, int64_t hop_us, int64_t *left_us)
{
    int64_t deadline = fanout_root_deadline(timeout_us, 0), least_margin = INT64_MAX;
    for (int level = 1; level <= depth; level++) {
        int64_t now = level * hop_us;
        int64_t child = fanout_child_deadline(deadline, now);
        if (deadline - child < least_margin)
            least_margin = deadline - child;
        deadline = child;
    }
    *left_us = deadline - depth * hop_us;
    return least_margin;
}

static void s_depth(void)
{
    int64_t left;
    //  The default 2000 ms timeout, a 500-deep chain whose request takes 0.1 ms a hop
    //  going down: the bottom still has most of the time, and every level keeps more
    //  than a millisecond, room for its child's answer at the child's deadline.
    //  (A fixed 1 ms a level left nothing below depth ~240.)
    CHECK(s_chain(2000 * MS, 500, 100, &left) > 1 * MS && left > 600 * MS);
    //  Even 1 ms a hop (a loaded machine, sanitizers) leaves time at depth 500.
    CHECK(s_chain(2000 * MS, 500, 1 * MS, &left) > MS / 2 && left > 350 * MS);
    //  A short timeout and twice the depth: tighter, still not exhausted.
    CHECK(s_chain(500 * MS, 1000, 100, &left) > 40 && left > 15 * MS);
    //  The margin shrinks with the time left, never below zero, and the deadlines
    //  never rise: deep in a huge chain time runs out, but only for the bottom.
    CHECK(s_chain(2000 * MS, 20000, 0, &left) >= 0 && left >= 0);
}

int main(void)
{
    s_gathering();
    s_partial_answers();
    s_deadlines();
    s_depth();
    return check_report("fanout");
}
