/*  join — a worker started by someone else (by hand, by a batch scheduler) asks the
    controller's --listen endpoint for a place in the tree: JOIN with its id, the
    parent it wants, its pid and host; the answer is the endpoint of its parent, or
    why not. Then it runs as any node (worker.h) under that parent, which expects it
    (ADOPT). A wrong certificate is seen as the handshake's refusal. */
#ifndef MQTREE_JOIN_H
#define MQTREE_JOIN_H

#include "../common/curve.h"
#include "worker.h"

//  How long the controller may take to answer, and the parent to welcome the node.
#define JOIN_WAIT_MS 10000
//  A joined node leaves when its parent is gone: at once when the parent's endpoint
//  refuses connections (its process ended; its host answers), or when the link has
//  been down this long without an answer (a cut that does not heal: nothing else
//  would ever end it).
#define JOIN_LINK_GRACE_MS 30000

//  Asks to join: 0 and *endpoint (the caller frees it) to connect to, or -1 with
//  why on stderr. keys NULL: an insecure tree.
int join_ask(const worker_config_t *config, const curve_keys_t *keys, char **endpoint);

#endif
