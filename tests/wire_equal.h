/*  wire_equal — whether two typed messages carry the same fields, byte fields by
    their bytes (not by who owns them). test_wire and fuzz_wire check round trips
    with it: encode, then decode, gives the message back. */
#ifndef MQTREE_WIRE_EQUAL_H
#define MQTREE_WIRE_EQUAL_H

#include <stdbool.h>
#include <string.h>

#include "../common/wire.h"

static inline bool wire_bytes_equal(const wire_bytes_t *a, const wire_bytes_t *b)
{
    return a->size == b->size && (a->size == 0 || memcmp(a->data, b->data, a->size) == 0);
}

//  Deadlines travel as budgets (wire.h), within ±WIRE_BUDGET_MAX of the stamp: equal
//  are "none" and "none", two that had passed when encoded, two beyond the largest
//  budget, and two within a second of each other.
static inline bool wire_deadlines_equal(int64_t a, int64_t b)
{
    if (a == 0 || b == 0)
        return a == b;
    int64_t now = wire_now_us();
    if (a <= now || b <= now)
        return a <= now && b <= now;
    if (a >= now + WIRE_BUDGET_MAX - 1000000 || b >= now + WIRE_BUDGET_MAX - 1000000)
        return a >= now + WIRE_BUDGET_MAX - 2000000 && b >= now + WIRE_BUDGET_MAX - 2000000;
    return a - b < 1000000 && b - a < 1000000;
}

static inline bool wire_equal(const wire_msg_t *a, const wire_msg_t *b)
{
    return a->type == b->type && a->request_id == b->request_id &&
           wire_deadlines_equal(a->deadline_us, b->deadline_us) && a->node == b->node &&
           wire_bytes_equal(&a->path, &b->path) && a->child == b->child &&
           a->pid == b->pid && a->code == b->code && a->interval_ms == b->interval_ms &&
           a->status == b->status && a->event == b->event &&
           wire_bytes_equal(&a->op, &b->op) && wire_bytes_equal(&a->text, &b->text) &&
           wire_bytes_equal(&a->host, &b->host) &&
           wire_bytes_equal(&a->endpoint, &b->endpoint) && a->parent == b->parent &&
           a->reduce == b->reduce && wire_bytes_equal(&a->sets, &b->sets);
}

#endif
