/*  fanout — one request broadcast to a node's children and their answers merged
    up (see fanout.h): the bookkeeping of one, then the table of those in progress. */
#include "fanout.h"

#include "../common/idmap.h"
#include "../common/log.h"

fanout_t *fanout_new(uint64_t request_id, int64_t deadline_us, reduce_t reduce,
                     size_t limit)
{
    fanout_t *self = (fanout_t *)zmalloc(sizeof(fanout_t));
    self->request_id = request_id;
    self->deadline_us = deadline_us;
    self->waiting = idmap_new();
    self->fold = fold_new(reduce);
    fold_limit(self->fold, limit);
    return self;
}

void fanout_destroy(fanout_t **self_p)
{
    fanout_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy(&self->waiting);
    fold_destroy(&self->fold);
    free(self);
    *self_p = NULL;
}

void fanout_expect(fanout_t *self, int32_t child)
{
    zhashx_insert(self->waiting, idmap_key(child), self);
}

void fanout_add(fanout_t *self, int32_t id, uint8_t status, const void *text, size_t size)
{
    fold_add(self->fold, id, status, text, size);
}

//  Whether child (or the node itself) has yet to answer: a set, so that a wide
//  node's answers cost O(1) each, not a walk of the children still awaited.
static bool s_awaits(fanout_t *self, int32_t child)
{
    return zhashx_lookup(self->waiting, idmap_key(child)) != NULL;
}

bool fanout_answer(fanout_t *self, int32_t child, const byte *answer, size_t size,
                   bool complete)
{
    if (!s_awaits(self, child))
        return false;
    const char *reason;
    fold_t *fold = fold_decode(answer, size, &reason);
    bool taken = fold && fold_merge(self->fold, fold);
    fold_destroy(&fold);
    if (taken && complete)
        zhashx_delete(self->waiting, idmap_key(child));
    return taken;
}

void fanout_sent(fanout_t *self)
{
    fold_clear(self->fold);
    self->answered = true;
}

bool fanout_forget(fanout_t *self, int32_t child)
{
    bool awaited = s_awaits(self, child);
    zhashx_delete(self->waiting, idmap_key(child));
    return awaited;
}

bool fanout_done(fanout_t *self)
{
    return zhashx_size(self->waiting) == 0;
}

static int64_t s_keep(int64_t deadline_us, int64_t now_us, int64_t share)
{
    //  No deadline stays none; a passed one has nothing left to share.
    int64_t left = deadline_us - now_us;
    if (!deadline_us || left <= 0)
        return deadline_us;
    return deadline_us - left / share;
}

int64_t fanout_child_deadline(int64_t deadline_us, int64_t now_us)
{
    return s_keep(deadline_us, now_us, FANOUT_SHARE);
}

int64_t fanout_root_deadline(int64_t deadline_us, int64_t now_us)
{
    return s_keep(deadline_us, now_us, FANOUT_RESERVE);
}

//  --- The fanouts of a node --------------------------------------------------------

#define ENDED_KEPT 64

struct _fanouts_t {
    int32_t self_id;
    size_t reply_max; //  a fold's limit (--max-reply, fold.h)
    children_t *children;
    timers_t *timers;
    fanout_send_fn *send_up;
    fanout_run_fn *run;         //  the node's own op, NULL: it runs none (node -1)
    fanout_changes_fn *changes; //  NULL: no op's own answer is sent ahead
    void *arg;
    zhashx_t *table; //  request id -> fanout_t, broadcasts in progress
    //  The node's own ops started for broadcasts and not answered yet: while none is,
    //  a reply is no broadcast's, and an exec's answer costs no lookup.
    size_t own_waiting;
    //  The last broadcasts ended here, so that answers still on their way to them are
    //  known for what they are (late), not taken for replies to pass up.
    uint64_t ended[ENDED_KEPT];
    size_t ended_next;
};

fanouts_t *fanouts_new(int32_t self_id, size_t reply_max, children_t *children,
                       timers_t *timers, fanout_send_fn *send_up, fanout_run_fn *run,
                       void *arg)
{
    fanouts_t *self = (fanouts_t *)zmalloc(sizeof(fanouts_t));
    *self = (fanouts_t){.self_id = self_id,
                        .reply_max = reply_max,
                        .children = children,
                        .timers = timers,
                        .send_up = send_up,
                        .run = run,
                        .arg = arg,
                        .table = idmap_new()};
    zhashx_set_destructor(self->table, (zhashx_destructor_fn *)fanout_destroy);
    return self;
}

void fanouts_set_changes(fanouts_t *self, fanout_changes_fn *changes)
{
    self->changes = changes;
}

void fanouts_destroy(fanouts_t **self_p)
{
    fanouts_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy(&self->table);
    free(self);
    *self_p = NULL;
}

static void s_end(fanouts_t *self, fanout_t *fanout)
{
    timers_cancel(self->timers, fanout->timer_id);
    self->ended[self->ended_next++ % ENDED_KEPT] = fanout->request_id;
    //  The table owns the fanout once it is in it.
    if (zhashx_lookup(self->table, idmap_request_key(fanout->request_id)) == fanout)
        zhashx_delete(self->table, idmap_request_key(fanout->request_id));
    else
        fanout_destroy(&fanout);
}

static bool s_ended(fanouts_t *self, uint64_t request_id)
{
    for (size_t i = 0; i < ENDED_KEPT; i++)
        if (self->ended[i] == request_id)
            return true;
    return false;
}

static void s_free_answer(void *data, void *hint)
{
    (void)data;
    free(hint);
}

static void s_reply(fanouts_t *self, fanout_t *fanout, wire_status_t status)
{
    wire_msg_t *reply = wire_msg_new(WIRE_REPLY);
    reply->request_id = fanout->request_id;
    reply->node = self->self_id;
    reply->status = (uint8_t)status;
    size_t size;
    byte *answer = fold_encode(fanout->fold, &size);
    wire_bytes_give(&reply->text, answer, size, s_free_answer, answer);
    self->send_up(self->arg, &reply);
}

//  Whether a fanout has gathered answers that have not gone up.
static bool s_holds(const fanout_t *fanout)
{
    return !nodeset_empty(fold_ids(fanout->fold));
}

//  Sends up what was gathered since the last answer: the last answer once nothing
//  is awaited (and then the fanout ends), a partial one otherwise (none if nothing
//  came since the last).
static void s_send(fanouts_t *self, fanout_t *fanout)
{
    if (fanout_done(fanout)) {
        s_reply(self, fanout, WIRE_OK);
        s_end(self, fanout);
    } else if (s_holds(fanout) || !fanout->answered) {
        s_reply(self, fanout, WIRE_PARTIAL);
        fanout_sent(fanout);
    }
}

static void s_on_timer(void *arg, int timer_id)
{
    fanouts_t *self = (fanouts_t *)arg;
    for (fanout_t *fanout = (fanout_t *)zhashx_first(self->table); fanout;
         fanout = (fanout_t *)zhashx_next(self->table))
        if (fanout->timer_id == timer_id) {
            fanout->timer_id = 0; //  spent: nothing to cancel
            if (fanout->lingering) {
                log_debug("broadcast %" PRIu64 ": no more waiting for silent children",
                          fanout->request_id);
                s_end(self, fanout);
                return;
            }
            //  Our deadline: we answer with what we have (but what went ahead), and
            //  pass late answers up for as long again as we had. The controller's own
            //  deadline, after ours by its reserve and the levels' shares, is well
            //  within that.
            fanout->lingering = true;
            int64_t linger = fanout->deadline_us - fanout->asked_us;
            fanout->timer_id = timers_add(self->timers, timers_now(self->timers) + linger,
                                          s_on_timer, self);
            s_send(self, fanout);
            return;
        }
}

bool fanout_sets(const wire_msg_t *request, nodeset_t **targets, nodeset_t **reach)
{
    *targets = *reach = NULL;
    if (!request->sets.size)
        return true;
    *targets = nodeset_new();
    *reach = nodeset_new();
    size_t used, more;
    const byte *data = request->sets.data;
    size_t size = request->sets.size;
    if (!nodeset_decode(data, size, &used, *targets, true) &&
        !nodeset_decode(data + used, size - used, &more, *reach, true) &&
        used + more == size)
        return true;
    nodeset_destroy(targets);
    nodeset_destroy(reach);
    return false;
}

//  The node's own op, run by the node's owner: its answer comes back through
//  fanouts_own, at once or later.
static void s_run_own(fanouts_t *self, fanout_t *fanout, const wire_msg_t *request)
{
    fanout_expect(fanout, self->self_id);
    wire_msg_t *exec = wire_msg_new(WIRE_EXEC);
    exec->request_id = request->request_id;
    exec->node = self->self_id;
    //  Its start is due a little before our own answer: an op that did not start in
    //  time never runs, so what we report missing never takes effect (at most once).
    exec->deadline_us =
        fanout_child_deadline(request->deadline_us, timers_now(self->timers));
    wire_bytes_lend(&exec->op, request->op.data, request->op.size);
    wire_bytes_lend(&exec->text, request->text.data, request->text.size);
    self->own_waiting++;
    self->run(self->arg, &exec);
    wire_msg_destroy(&exec);
}

void fanouts_start(fanouts_t *self, const wire_msg_t *request)
{
    nodeset_t *targets, *reach;
    if (!request->request_id) {
        //  Its answers could not be told apart from another's.
        log_dropped("dropped a BROADCAST with no request id");
        return;
    }
    if (!fanout_sets(request, &targets, &reach)) {
        log_dropped("dropped a BROADCAST whose node sets are malformed");
        return;
    }
    int64_t now = timers_now(self->timers);
    fanout_t *fanout = fanout_new(request->request_id, request->deadline_us,
                                  (reduce_t)request->reduce, self->reply_max);
    fanout->asked_us = now;
    fanout->effects = request->op.size > 0;
    fanout->streams = fanout->effects && self->changes && self->changes(&request->op);
    int64_t deadline = fanout_child_deadline(request->deadline_us, now);
    for (child_t *child = children_first(self->children); child;
         child = children_next(self->children)) {
        //  A child off the way to every target is not asked; one that cannot answer
        //  is reported by the controller, which knows what was asked.
        if (!child_reachable(child) || (reach && !nodeset_contains(reach, child->id)))
            continue;
        wire_msg_t *down = wire_msg_new(WIRE_BROADCAST);
        down->request_id = request->request_id;
        down->deadline_us = deadline;
        down->node = child->id;
        down->reduce = request->reduce;
        wire_bytes_lend(&down->sets, request->sets.data, request->sets.size);
        wire_bytes_lend(&down->op, request->op.data, request->op.size);
        wire_bytes_lend(&down->text, request->text.data, request->text.size);
        if (children_send(self->children, child, &down) == 0)
            fanout_expect(fanout, child->id);
    }
    bool target = self->run && (!targets || nodeset_contains(targets, self->self_id));
    nodeset_destroy(&targets);
    nodeset_destroy(&reach);
    //  Presence alone is answered here; an op is run last (below).
    if (target && !fanout->effects)
        fanout_add(fanout, self->self_id, WIRE_OK, "", 0);
    bool own = target && fanout->effects;
    if ((!own && fanout_done(fanout)) || !request->deadline_us) {
        s_reply(self, fanout, WIRE_OK);
        fanout_destroy(&fanout);
        return;
    }
    fanout->timer_id = timers_add(self->timers, request->deadline_us, s_on_timer, self);
    zhashx_update(self->table, idmap_request_key(request->request_id), fanout);
    //  Last: the op may answer at once, and that answer may end the fanout.
    if (own)
        s_run_own(self, fanout, request);
}

//  A fanout gathered an answer (own: the node's own). It goes up at once if it is
//  the last, if the deadline passed (late ones follow the partial answer sent then),
//  or if it is the node's own to an op that changes nodes (fanout.h); otherwise it
//  waits to go up with the rest of the subtree: one message for a subtree, not one
//  per answer at every level.
static void s_gathered(fanouts_t *self, fanout_t *fanout, bool own)
{
    if (fanout_done(fanout) || fanout->lingering || (own && fanout->streams))
        s_send(self, fanout);
}

bool fanouts_own(fanouts_t *self, uint64_t request_id, uint8_t status, const void *text,
                 size_t size)
{
    if (!request_id || !self->own_waiting)
        return false;
    fanout_t *fanout =
        (fanout_t *)zhashx_lookup(self->table, idmap_request_key(request_id));
    if (!fanout && !s_ended(self, request_id))
        return false;
    self->own_waiting--;
    if (!fanout || !fanout_forget(fanout, self->self_id)) {
        log_debug("broadcast %" PRIu64 ": our own answer came late", request_id);
        return true;
    }
    fanout_add(fanout, self->self_id, status, text, size);
    s_gathered(self, fanout, true);
    return true;
}

bool fanouts_answer(fanouts_t *self, child_t *child, const wire_msg_t *reply)
{
    if (!reply->request_id)
        return false; //  the answer to a cleanup: never a broadcast's
    fanout_t *fanout =
        (fanout_t *)zhashx_lookup(self->table, idmap_request_key(reply->request_id));
    if (!fanout) {
        if (!s_ended(self, reply->request_id))
            return false;
        log_debug("broadcast %" PRIu64 ": a late answer from child %d", reply->request_id,
                  child->id);
        return true;
    }
    bool complete = reply->status != WIRE_PARTIAL;
    if (reply->node != child->id ||
        !fanout_answer(fanout, child->id, reply->text.data, reply->text.size, complete)) {
        if (s_awaits(fanout, child->id))
            log_dropped("dropped a malformed broadcast answer from child %d", child->id);
        else //  stopped meanwhile and counted out; its answer came all the same
            log_debug("broadcast %" PRIu64 ": child %d answered after it was counted out",
                      reply->request_id, child->id);
    } else
        s_gathered(self, fanout, false);
    return true;
}

void fanouts_forget(fanouts_t *self, int32_t child, bool gone)
{
    zlist_t *finished = zlist_new();
    for (fanout_t *fanout = (fanout_t *)zhashx_first(self->table); fanout;
         fanout = (fanout_t *)zhashx_next(self->table)) {
        //  A stopped or silent child may still run the op after all, or hold its
        //  subtree's answers: an op that has effects waits for it to its deadline,
        //  as a single exec does (at most once). Presence alone needs no wait.
        if (!gone && fanout->effects)
            continue;
        if (fanout_forget(fanout, child) && fanout_done(fanout))
            zlist_append(finished, fanout);
    }
    for (fanout_t *fanout = (fanout_t *)zlist_first(finished); fanout;
         fanout = (fanout_t *)zlist_next(finished))
        s_send(self, fanout);
    zlist_destroy(&finished);
}
