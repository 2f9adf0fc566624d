/*  zap — the ZAP handler of a process's CURVE links (RFC 27): libzmq asks it, over
    inproc://zeromq.zap.01, whether a client that completed the CURVE handshake may
    connect. It admits the tree's public key only: a peer without the tree's
    certificate gets nothing and breaks nothing. It answers on the node's loop, not
    on a thread of its own (zauth's actor would add one per node). */
#ifndef MQTREE_ZAP_H
#define MQTREE_ZAP_H

#include <czmq.h>

#include "../common/curve.h"

typedef struct _zap_t zap_t;

//  Binds the ZAP endpoint of this process. NULL if it is taken or cannot be bound.
zap_t *zap_new(const curve_keys_t *keys);
void zap_destroy(zap_t **self_p);

zsock_t *zap_sock(zap_t *self);

//  Answers every request waiting. Returns how many.
int zap_handle(zap_t *self);

//  Requests refused so far.
size_t zap_refused(zap_t *self);

#endif
