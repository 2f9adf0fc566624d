/*  Unit test: gathering the answers of a node's children. */
#include "../common/fanout.h"
#include "../common/wire.h"
#include "check.h"

static void s_pack(byte *out, const int32_t *ids, size_t count)
{
    for (size_t i = 0; i < count; i++)
        wire_put_u32(out + i * 4, (uint32_t)ids[i]);
}

static void s_gathering(void)
{
    fanout_t *fanout = fanout_new(7, 1000);
    fanout_add_id(fanout, 1);
    CHECK(fanout_done(fanout));
    fanout_expect(fanout, 2);
    fanout_expect(fanout, 3);
    fanout_expect(fanout, -4);
    CHECK(!fanout_done(fanout));

    byte packed[12];
    int32_t subtree[] = {2, 20, 21};
    s_pack(packed, subtree, 3);
    CHECK(fanout_answer(fanout, 2, packed, 12));
    CHECK(!fanout_answer(fanout, 2, packed, 12)); //  answered already
    CHECK(!fanout_answer(fanout, 9, packed, 12)); //  never asked
    CHECK(!fanout_answer(fanout, 3, packed, 7));  //  malformed: not whole ids
    CHECK(!fanout_done(fanout));
    CHECK(fanout_forget(fanout, 3));
    CHECK(!fanout_forget(fanout, 3));
    int32_t negative[] = {-4};
    s_pack(packed, negative, 1);
    CHECK(fanout_answer(fanout, -4, packed, 4));
    CHECK(fanout_done(fanout));

    CHECK(zchunk_size(fanout->ids) == 5 * 4);
    int32_t expected[] = {1, 2, 20, 21, -4};
    for (size_t i = 0; i < 5; i++)
        CHECK((int32_t)wire_get_u32(zchunk_data(fanout->ids) + i * 4) == expected[i]);
    fanout_destroy(&fanout);
    CHECK(fanout == NULL);
    fanout_destroy(&fanout);
}

static void s_deadlines(void)
{
    //  Each level keeps a margin, at most 10 ms, at least 1 ms.
    CHECK(fanout_child_deadline(12000, 10000) == 11990);
    CHECK(fanout_child_deadline(10160, 10000) == 10150);
    CHECK(fanout_child_deadline(10032, 10000) == 10030);
    CHECK(fanout_child_deadline(10005, 10000) == 10004);
    //  A chain of 200 levels under a 2000 ms timeout still leaves time at the bottom.
    int64_t deadline = 2000;
    for (int level = 0; level < 200; level++)
        deadline = fanout_child_deadline(deadline, 0);
    CHECK(deadline > 0);
}

int main(void)
{
    s_gathering();
    s_deadlines();
    return check_report("fanout");
}
