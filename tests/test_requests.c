/*  Unit test: the request table — ids, lookup, deadline order, expiry — and how a
    request's end picks its behaviour's entry. */
#include "../controller/requests.h"
#include "check.h"

#include <czmq.h>

#include "../common/wire.h"

static void s_table(void)
{
    requests_t *requests = requests_new();
    CHECK(requests_size(requests) == 0 && requests_next_deadline(requests) == -1);
    CHECK(requests_expired(requests, 1000000) == NULL);
    request_t *late = requests_add(requests, 3, 1, 10, 10, 5000);
    request_t *early = requests_add(requests, 3, 2, 11, 11, 1000);
    request_t *middle = requests_add(requests, 3, 3, 12, 12, 3000);
    CHECK(late->id == 1 && early->id == 2 && middle->id == 3);
    CHECK(requests_find(requests, 2) == early && requests_find(requests, 9) == NULL);
    //  0 is no id: a foreign reply or a child with nothing to answer looks it up.
    CHECK(requests_find(requests, 0) == NULL);
    CHECK(requests_size(requests) == 3);
    CHECK(requests_next_deadline(requests) == 1000);

    CHECK(requests_expired(requests, 999) == NULL);
    CHECK(requests_expired(requests, 1000) == early);
    requests_remove(requests, early);
    CHECK(requests_expired(requests, 2000) == NULL);
    CHECK(requests_next_deadline(requests) == 3000);

    zlist_t *snapshot = requests_snapshot(requests);
    CHECK(zlist_size(snapshot) == 2 && zlist_first(snapshot) == middle);
    zlist_destroy(&snapshot);

    //  Ids never repeat, even after removals.
    request_t *another = requests_add(requests, 1, 4, 1, 1, 100);
    CHECK(another->id == 4 && requests_next_deadline(requests) == 100);
    CHECK(requests_expired(requests, 10000) == another);
    requests_remove(requests, another);
    CHECK(requests_expired(requests, 10000) == middle);
    //  Destroying frees what is left.
    requests_destroy(&requests);
    CHECK(requests == NULL);
}

static void s_many(void)
{
    requests_t *requests = requests_new();
    //  Deadlines mostly ascending with some jitter, as a busy shell makes them.
    for (int i = 0; i < 10000; i++)
        requests_add(requests, 1, (uint64_t)i, 1, 1, 1000 + i - (i % 7) * 3);
    int64_t previous = -1;
    int expired = 0;
    request_t *request;
    while ((request = requests_expired(requests, 1000000))) {
        CHECK(request->deadline_us >= previous);
        previous = request->deadline_us;
        requests_remove(requests, request);
        expired++;
    }
    CHECK(expired == 10000 && requests_size(requests) == 0);
    requests_destroy(&requests);
}

//  Finding by id while requests come and go in any order: a few stay for the whole
//  run (later ids land on their slots and probe past them), the others leave in a
//  shuffled window; every live id is found, every gone one is not.
static void s_ids(void)
{
    requests_t *requests = requests_new();
    enum { TOTAL = 100000, WINDOW = 300 };
    static request_t *live[TOTAL + 1];
    unsigned seed = 7;
    for (int i = 1; i <= TOTAL; i++) {
        live[i] = requests_add(requests, 1, (uint64_t)i, 1, 1, 1000 + i);
        CHECK(live[i]->id == (uint64_t)i);
        if (i <= 3)
            continue; //  the first three stay
        int gone = i - (int)(rand_r(&seed) % WINDOW);
        if (gone > 3 && live[gone]) {
            requests_remove(requests, live[gone]);
            live[gone] = NULL;
        }
        if (i % 997 == 0)
            for (int id = 1; id <= i; id++)
                if (requests_find(requests, (uint64_t)id) != live[id]) {
                    CHECK(requests_find(requests, (uint64_t)id) == live[id]);
                    break;
                }
    }
    size_t count = 0;
    for (int id = 1; id <= TOTAL; id++)
        count += live[id] != NULL;
    CHECK(requests_size(requests) == count);
    CHECK(requests_find(requests, TOTAL + 1) == NULL &&
          requests_find(requests, 0) == NULL);
    requests_destroy(&requests);
}

//  What the behaviour below was called with: "reply 1 why", "unavailable", "timeout",
//  "made 4321 ipc://e".
static char s_called[64];

static void s_on_reply(void *arg, request_t *request, int status, const char *text)
{
    CHECK(arg == s_called && request->id == 1);
    snprintf(s_called, sizeof s_called, "reply %d %s", status, text);
}

static void s_on_unavailable(void *arg, request_t *request)
{
    CHECK(arg == s_called && request->id == 1);
    snprintf(s_called, sizeof s_called, "unavailable");
}

static void s_on_timeout(void *arg, request_t *request)
{
    CHECK(arg == s_called && request->id == 1);
    snprintf(s_called, sizeof s_called, "timeout");
}

static void s_on_made(void *arg, request_t *request, int32_t pid, const char *endpoint)
{
    CHECK(arg == s_called && request->id == 1);
    snprintf(s_called, sizeof s_called, "made %d %s", (int)pid, endpoint);
}

static const request_behaviour_t s_behaviour = {s_on_reply, s_on_unavailable,
                                                s_on_timeout, s_on_made};

//  Replies (ok, error) go to on_reply with their text; a deadline to on_timeout;
//  a death on the way, or a status no node sends, to on_unavailable; a node made to
//  on_made with its pid and endpoint. The request
//  stays in the table for its owner to remove.
static void s_end(void)
{
    requests_t *requests = requests_new();
    request_t *request = requests_add(requests, 3, 1, 10, 10, 5000);
    request->behaviour = &s_behaviour;
    request_end(request, s_called, WIRE_OK, "6");
    CHECK_STR(s_called, "reply 0 6");
    request_end(request, s_called, WIRE_ERROR, "why");
    CHECK_STR(s_called, "reply 1 why");
    request_end(request, s_called, WIRE_UNAVAILABLE, "");
    CHECK_STR(s_called, "unavailable");
    request_end(request, s_called, REQUEST_TIMED_OUT, "");
    CHECK_STR(s_called, "timeout");
    request_end(request, s_called, 77, "");
    CHECK_STR(s_called, "unavailable");
    request_made(request, s_called, 4321, "ipc://e");
    CHECK_STR(s_called, "made 4321 ipc://e");
    CHECK(requests_find(requests, 1) == request && requests_size(requests) == 1);
    requests_destroy(&requests);
}

int main(void)
{
    s_table();
    s_many();
    s_ids();
    s_end();
    return check_report("requests");
}
