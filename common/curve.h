/*  curve — the tree's CURVE certificate: one keypair per tree (the model Flux uses),
    made at start or read from a file (mqtree --keygen writes one). Every tcp link is
    a CURVE link with it: each node's ROUTER is the server, each node's DEALER the
    client, and a node's ZAP handler (node/zap.h) admits only this key. The secret
    key never appears in argv or the environment: a spawned worker reads it from the
    pipe its parent holds on its stdin (curve_line), a joiner from its 0600 file. */
#ifndef MQTREE_CURVE_H
#define MQTREE_CURVE_H

#include <stdbool.h>
#include <stdio.h>

#define CURVE_KEY_TEXT 41 //  a Z85 key and its NUL

typedef struct {
    char public_key[CURVE_KEY_TEXT];
    char secret_key[CURVE_KEY_TEXT];
} curve_keys_t;

//  A new keypair. Returns -1 if libzmq has no CURVE.
int curve_keys_new(curve_keys_t *keys);

//  Writes keys to path as a zcert secret certificate, mode 0600, never over an
//  existing file. Returns -1 with the reason in error (error_size bytes).
int curve_keys_save(const curve_keys_t *keys, const char *path, char *error,
                    size_t error_size);

//  Reads a certificate written by curve_keys_save. Refused: a missing or unreadable
//  file, one without a secret key, one that others may read or that is not ours.
int curve_keys_load(curve_keys_t *keys, const char *path, char *error,
                    size_t error_size);

//  The first line a parent writes on a spawned worker's stdin: the keys, or
//  "insecure". The line is at most CURVE_LINE_MAX bytes, newline included.
#define CURVE_LINE_MAX 128
void curve_line(const curve_keys_t *keys, char line[CURVE_LINE_MAX]);
//  Parses that line: 1 with keys, 0 for "insecure", -1 if malformed.
int curve_line_parse(const char *line, curve_keys_t *keys);

#endif
