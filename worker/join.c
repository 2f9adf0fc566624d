/*  join — the JOIN exchange with the controller (see join.h): owns the one request a
    joining worker makes, and reading its answer: its route and its parent's endpoint. */
#include "join.h"

#include <czmq.h>
#include <string.h>
#include <unistd.h>

#include "../common/process.h"
#include "../common/wire.h"
#include "../common/mem.h"

#define MONITOR_ENDPOINT "inproc://mqtree-join-monitor"

static void s_refused(const worker_config_t *config, const char *why)
{
    fprintf(stderr, "mqtree-worker: node %d cannot join the tree at %s: %s\n", config->id,
            config->join, why);
}

int join_ask(const worker_config_t *config, const curve_keys_t *keys, char **route,
             char **endpoint)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    if (!sock) {
        s_refused(config, "no socket");
        return -1;
    }
    zsock_set_linger(sock, 0);
    //  A text routing id: the controller answers on it (never a child's: "join:").
    char identity[48];
    snprintf(identity, sizeof identity, "join:%d:%d", config->id, (int)getpid());
    zsock_set_identity(sock, identity);
    children_tcp_client(sock, keys);
    //  The handshake's outcome: a certificate the tree does not know is refused there.
    zmq_socket_monitor(zsock_resolve(sock), MONITOR_ENDPOINT,
                       ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
    zsock_t *monitor = zsock_new_pair(">" MONITOR_ENDPOINT);
    int rc = -1;
    if (!monitor || zsock_connect(sock, "%s", config->join) != 0) {
        s_refused(config, "not a valid endpoint");
        goto done;
    }
    wire_msg_t *join = wire_msg_new(WIRE_JOIN);
    join->request_id = 1;
    join->node = config->id;
    join->parent = config->join_parent;
    join->pid = (int32_t)getpid();
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    wire_bytes_copy(&join->host, host, strlen(host));
    wire_send(sock, NULL, &join);
    zpoller_t *poller = zpoller_new(sock, monitor, NULL);
    int64_t deadline = zclock_mono() + JOIN_WAIT_MS;
    while (true) {
        int64_t left = deadline - zclock_mono();
        void *ready = left > 0 ? zpoller_wait(poller, (int)left) : NULL;
        if (ready == monitor) {
            zmsg_t *event = zmsg_recv(monitor);
            zmsg_destroy(&event);
            s_refused(config, keys ? "the tree refused this certificate"
                                   : "the tree wants a certificate (--cert)");
            break;
        }
        if (!ready) {
            s_refused(config, "no answer (nothing listening there, or a cut link)");
            break;
        }
        wire_msg_t *answer = NULL;
        const char *reason = NULL;
        int got = wire_recv(sock, NULL, 0, &answer, &reason);
        if (got == 1 && answer->type == WIRE_ADMIT && answer->pid > 0 &&
            answer->endpoint.size) {
            //  Who it is at its parent, and where that is.
            char route_id[CHILDREN_ROUTE_MAX];
            children_route(route_id, config->id, CHILDREN_JOINED | (uint32_t)answer->pid);
            *route = mem_strdup(route_id);
            *endpoint = wire_bytes_strdup(&answer->endpoint);
            rc = 0;
        } else if (got == 1 && answer->type == WIRE_REPLY && answer->status == WIRE_ERROR) {
            char *why = wire_bytes_strdup(&answer->text);
            s_refused(config, why);
            free(why);
        } else
            s_refused(config, "not an mqtree controller (or another version)");
        wire_msg_destroy(&answer);
        break;
    }
    zpoller_destroy(&poller);
done:
    zmq_socket_monitor(zsock_resolve(sock), NULL, 0);
    zsock_destroy(&monitor);
    zsock_destroy(&sock);
    return rc;
}
