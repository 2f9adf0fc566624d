/*  zap — admits the tree's key, refuses every other (see zap.h): owns the ZAP socket
    and the check of each request libzmq makes on a CURVE handshake. */
#include "zap.h"

#include "../common/log.h"
#include "../common/mem.h"

struct _zap_t {
    zsock_t *sock;
    byte key[32]; //  the tree's public key, binary
    size_t refused;
};

zap_t *zap_new(const curve_keys_t *keys)
{
    zap_t *self = (zap_t *)zmalloc(sizeof(zap_t));
    zmq_z85_decode(self->key, keys->public_key);
    self->sock = zsock_new(ZMQ_REP);
    if (!self->sock || zsock_bind(self->sock, "inproc://zeromq.zap.01") != 0) {
        zap_destroy(&self);
        return NULL;
    }
    zsock_set_linger(self->sock, 0);
    return self;
}

void zap_destroy(zap_t **self_p)
{
    zap_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy(&self->sock);
    free(self);
    *self_p = NULL;
}

zsock_t *zap_sock(zap_t *self)
{
    return self->sock;
}

size_t zap_refused(zap_t *self)
{
    return self->refused;
}

//  A request: version, request id, domain, address, identity, mechanism, then the
//  mechanism's credentials (CURVE: the client's 32-byte public key).
static bool s_admitted(zap_t *self, zmsg_t *request, char **address)
{
    zframe_t *version = zmsg_first(request);
    zmsg_next(request); //  request id
    zmsg_next(request); //  domain
    zframe_t *from = zmsg_next(request);
    zmsg_next(request); //  routing id
    zframe_t *mechanism = zmsg_next(request);
    zframe_t *key = zmsg_next(request);
    *address = from ? zframe_strdup(from) : mem_strdup("?");
    return version && zframe_streq(version, "1.0") && mechanism &&
           zframe_streq(mechanism, "CURVE") && key && zframe_size(key) == 32 &&
           memcmp(zframe_data(key), self->key, 32) == 0;
}

int zap_handle(zap_t *self)
{
    int count = 0;
    while (zsock_events(self->sock) & ZMQ_POLLIN) {
        zmsg_t *request = zmsg_recv(self->sock);
        if (!request)
            break;
        count++;
        char *address = NULL;
        bool admitted = zmsg_size(request) >= 7 && s_admitted(self, request, &address);
        //  The reply names the request by its id (the second frame).
        zmsg_first(request);
        zframe_t *request_id = zmsg_next(request);
        zmsg_t *reply = zmsg_new();
        zmsg_addstr(reply, "1.0");
        if (request_id)
            zmsg_addmem(reply, zframe_data(request_id), zframe_size(request_id));
        else
            zmsg_addstr(reply, "");
        zmsg_addstr(reply, admitted ? "200" : "400");
        zmsg_addstr(reply, admitted ? "OK" : "Not the tree's certificate");
        zmsg_addstr(reply, "");
        zmsg_addstr(reply, "");
        if (!admitted) {
            //  A flood of them must not flood the log: each is counted, and told at
            //  info, but the first.
            self->refused++;
            log_msg(self->refused == 1 ? LEVEL_WARN : LEVEL_INFO,"refused a connection from %s: not the tree's certificate",
                     address ? address : "?");
        }
        free(address);
        zmsg_destroy(&request);
        zmsg_send(&reply, self->sock);
    }
    return count;
}
