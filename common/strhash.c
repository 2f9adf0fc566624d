/*  strhash — SipHash-2-4 with a per-process random key (see strhash.h): owns the key
    and the hash; callers give it to zhashx or to their own tables. */
#include "strhash.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t s_key[2];
static pthread_once_t s_key_once = PTHREAD_ONCE_INIT;

static void s_key_init(void)
{
    if (getrandom(s_key, sizeof s_key, 0) != (ssize_t)sizeof s_key) {
        //  No entropy source: still a key nobody chose.
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        s_key[0] = (uint64_t)now.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
        s_key[1] =
            (uint64_t)now.tv_sec * 0xc2b2ae3d27d4eb4fULL ^ (uint64_t)(uintptr_t)&now;
    }
}

#define ROTATE(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIP_ROUND(v0, v1, v2, v3)                                                        \
    do {                                                                                 \
        v0 += v1;                                                                        \
        v1 = ROTATE(v1, 13);                                                             \
        v1 ^= v0;                                                                        \
        v0 = ROTATE(v0, 32);                                                             \
        v2 += v3;                                                                        \
        v3 = ROTATE(v3, 16);                                                             \
        v3 ^= v2;                                                                        \
        v0 += v3;                                                                        \
        v3 = ROTATE(v3, 21);                                                             \
        v3 ^= v0;                                                                        \
        v2 += v1;                                                                        \
        v1 = ROTATE(v1, 17);                                                             \
        v1 ^= v2;                                                                        \
        v2 = ROTATE(v2, 32);                                                             \
    } while (0)

size_t strhash(const void *key)
{
    return strhash_bytes(key, strlen((const char *)key));
}

size_t strhash_bytes(const void *bytes, size_t length)
{
    pthread_once(&s_key_once, s_key_init);
    const unsigned char *data = (const unsigned char *)bytes;
    uint64_t v0 = 0x736f6d6570736575ULL ^ s_key[0];
    uint64_t v1 = 0x646f72616e646f6dULL ^ s_key[1];
    uint64_t v2 = 0x6c7967656e657261ULL ^ s_key[0];
    uint64_t v3 = 0x7465646279746573ULL ^ s_key[1];
    size_t whole = length - length % 8;
    for (size_t offset = 0; offset < whole; offset += 8) {
        uint64_t word = 0;
        for (int byte = 7; byte >= 0; byte--)
            word = (word << 8) | data[offset + (size_t)byte];
        v3 ^= word;
        SIP_ROUND(v0, v1, v2, v3);
        SIP_ROUND(v0, v1, v2, v3);
        v0 ^= word;
    }
    uint64_t last = (uint64_t)length << 56;
    for (size_t byte = 0; byte < length % 8; byte++)
        last |= (uint64_t)data[whole + byte] << (8 * byte);
    v3 ^= last;
    SIP_ROUND(v0, v1, v2, v3);
    SIP_ROUND(v0, v1, v2, v3);
    v0 ^= last;
    v2 ^= 0xff;
    for (int round = 0; round < 4; round++)
        SIP_ROUND(v0, v1, v2, v3);
    return (size_t)(v0 ^ v1 ^ v2 ^ v3);
}
