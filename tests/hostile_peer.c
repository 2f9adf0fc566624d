/*  hostile_peer — a foreign process that connects to an mqtree node's endpoint and
    sends what no node would: for the end-to-end robustness test.

    hostile_peer ENDPOINT garbage|lying|version|flood|storm|impersonate [COUNT]

    garbage      random frames of random sizes
    lying        well-formed headers with frames of the wrong size or number
    version      valid messages of every type, but of the next protocol version
    flood        COUNT (default 100000) header-shaped messages as fast as possible
    storm        COUNT (default 200) connections, each sending one message
    impersonate  connects with routing id 3 (a live child's) and sends replies

    An endpoint that refuses the connection (CURVE) is reported on stdout: "no
    connection", exit 0. */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/wire.h"

static zsock_t *s_connect(const char *endpoint, const char *identity)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    zsock_set_sndhwm(sock, 0);
    zsock_set_linger(sock, 2000);
    zsock_set_immediate(sock, 1);
    if (identity)
        zsock_set_identity(sock, identity);
    zsock_connect(sock, "%s", endpoint);
    return sock;
}

static void s_header(byte *out, int version, int type)
{
    //  By hand, on purpose: a hostile peer writes whatever bytes it likes.
    out[0] = (byte)version;
    out[1] = (byte)type;
    wire_put_u64(out + 2, (uint64_t)rand());
    wire_put_u64(out + 10, 0);
    wire_put_u32(out + 18, (uint32_t)(rand() % 10));
}

static void s_random_frames(zsock_t *sock, unsigned *seed)
{
    zmsg_t *msg = zmsg_new();
    int frames = 1 + (int)(rand_r(seed) % 6);
    for (int i = 0; i < frames; i++) {
        size_t size = rand_r(seed) % 100;
        byte data[100];
        for (size_t j = 0; j < size; j++)
            data[j] = (byte)rand_r(seed);
        //  Sometimes start like a header, so validation gets past the first check.
        if (i == 0 && size >= 2 && rand_r(seed) % 2) {
            data[0] = WIRE_VERSION;
            data[1] = (byte)(1 + rand_r(seed) % (WIRE_TYPE_COUNT - 1));
        }
        zmsg_addmem(msg, data, size);
    }
    zmsg_send(&msg, sock);
}

static void s_lying(zsock_t *sock)
{
    for (int type = 1; type < WIRE_TYPE_COUNT; type++)
        for (int variant = 0; variant < 6; variant++) {
            zmsg_t *msg = zmsg_new();
            byte header[WIRE_HEADER_SIZE];
            s_header(header, WIRE_VERSION, type);
            zmsg_addmem(msg, header,
                        variant == 0 ? WIRE_HEADER_SIZE - 1 : WIRE_HEADER_SIZE);
            //  A path of 5 bytes, a 3-byte id, an event of 12 bytes, a missing frame,
            //  an extra frame...
            byte junk[16] = {0};
            if (variant != 3)
                zmsg_addmem(msg, junk, variant == 1 ? 5 : 3);
            if (variant >= 4)
                zmsg_addmem(msg, junk, variant == 4 ? 12 : 0);
            if (variant == 5)
                zmsg_addmem(msg, junk, 16);
            zmsg_send(&msg, sock);
        }
}

static void s_versions(zsock_t *sock)
{
    for (int type = 1; type < WIRE_TYPE_COUNT; type++) {
        zmsg_t *msg = zmsg_new();
        byte header[WIRE_HEADER_SIZE];
        s_header(header, WIRE_VERSION + 1, type);
        zmsg_addmem(msg, header, WIRE_HEADER_SIZE);
        zmsg_addmem(msg, "", 0);
        zmsg_send(&msg, sock);
    }
}

int main(int argc, char *argv[])
{
    if (argc < 3) {
        fprintf(stderr, "usage: hostile_peer ENDPOINT MODE [COUNT]\n");
        return 2;
    }
    zsys_handler_set(NULL);
    const char *endpoint = argv[1], *mode = argv[2];
    int count = argc > 3 ? atoi(argv[3]) : 0;
    unsigned seed = 12345;
    if (!strcmp(mode, "storm")) {
        for (int i = 0; i < (count ? count : 200); i++) {
            char identity[16];
            snprintf(identity, sizeof identity, "storm%d", i);
            zsock_t *sock = s_connect(endpoint, i % 2 ? identity : NULL);
            zsock_set_linger(sock, 0);
            zsock_set_sndtimeo(sock, 1000);
            if (zstr_send(sock, "") != 0) {
                printf("no connection: the endpoint refused us\n");
                zsock_destroy(&sock);
                return 0;
            }
            s_random_frames(sock, &seed);
            zsock_destroy(&sock);
        }
        return 0;
    }
    zsock_t *sock = s_connect(endpoint, !strcmp(mode, "impersonate") ? "3" : NULL);
    //  A CURVE endpoint never completes a handshake with us: nothing can be sent, and
    //  nothing is (s_connect: a message waits for a finished handshake).
    zsock_set_sndtimeo(sock, 1000);
    if (zstr_send(sock, "") != 0) {
        printf("no connection: the endpoint refused us\n");
        zsock_destroy(&sock);
        return 0;
    }
    zsock_set_sndtimeo(sock, -1);
    if (!strcmp(mode, "garbage"))
        for (int i = 0; i < (count ? count : 2000); i++)
            s_random_frames(sock, &seed);
    else if (!strcmp(mode, "lying"))
        s_lying(sock);
    else if (!strcmp(mode, "version"))
        s_versions(sock);
    else if (!strcmp(mode, "flood"))
        for (int i = 0; i < (count ? count : 100000); i++) {
            //  Well formed (one frame: header, status, text), from no one we know.
            byte reply[WIRE_HEADER_SIZE + 6] = {0};
            s_header(reply, WIRE_VERSION, WIRE_REPLY);
            memcpy(reply + WIRE_HEADER_SIZE + 1, "flood", 5);
            zmq_send(zsock_resolve(sock), reply, sizeof reply, 0);
        }
    else if (!strcmp(mode, "impersonate"))
        for (int i = 0; i < 100; i++) {
            wire_msg_t *msg = wire_reply_new((uint64_t)i, 3, WIRE_OK, "forged", 6);
            wire_send(sock, NULL, &msg);
        }
    else {
        fprintf(stderr, "hostile_peer: unknown mode %s\n", mode);
        return 2;
    }
    //  Linger delivers what is queued before the process goes.
    zsock_destroy(&sock);
    return 0;
}
