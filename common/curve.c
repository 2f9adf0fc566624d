/*  curve — the tree's certificate (see curve.h): owns making, reading and writing the
    keypair file, and setting a socket up as a CURVE server or client with it. */
#define _GNU_SOURCE
#include "curve.h"
#include "mem.h"
#include "process.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int curve_keys_new(curve_keys_t *keys)
{
    if (!zsys_has_curve())
        return -1;
    if (zmq_curve_keypair(keys->public_key, keys->secret_key) != 0)
        return -1;
    return 0;
}

static bool s_key_valid(const char *text)
{
    byte key[32];
    return strlen(text) == CURVE_KEY_TEXT - 1 && zmq_z85_decode(key, text) != NULL;
}

int curve_keys_save(const curve_keys_t *keys, const char *path, char *error,
                    size_t error_size)
{
    //  Made here, 0600 from the start and never over an existing file; zcert fills
    //  it through /proc/self/fd, so nothing is ever readable by others.
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(error, error_size, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    byte public_key[32], secret_key[32];
    zmq_z85_decode(public_key, keys->public_key);
    zmq_z85_decode(secret_key, keys->secret_key);
    zcert_t *cert = zcert_new_from(public_key, secret_key);
    zcert_set_meta(cert, "tool", "mqtree");
    char *proc_path = process_format("/proc/self/fd/%d", fd);
    int rc = cert ? zcert_save_secret(cert, proc_path) : -1;
    if (rc != 0) {
        snprintf(error, error_size, "cannot write %s", path);
        unlink(path);
    }
    free(proc_path);
    zcert_destroy(&cert);
    close(fd);
    return rc;
}

//  A certificate is a few hundred bytes; more is not one.
#define CERT_FILE_MAX 65536

//  The file at path, read through one descriptor whose mode and owner are checked
//  (so what is checked is what is read); NULL and error if it is not ours alone.
static char *s_read_private(const char *path, char *error, size_t error_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat info;
    if (fd < 0 || fstat(fd, &info) != 0) {
        snprintf(error, error_size, "cannot read %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char *text = NULL;
    size_t size = (size_t)info.st_size;
    if (!S_ISREG(info.st_mode) || size > CERT_FILE_MAX)
        snprintf(error, error_size, "%s is not a certificate with a secret key", path);
    else if (info.st_mode & (S_IRWXG | S_IRWXO))
        snprintf(error, error_size,
                 "%s may be read by others (mode %03o): it holds a secret key; "
                 "chmod 600 it",
                 path, (unsigned)(info.st_mode & 0777));
    else if (info.st_uid != geteuid())
        snprintf(error, error_size, "%s belongs to another user", path);
    else if (read(fd, (text = (char *)mem_alloc(size + 1)), size) == (ssize_t)size)
        text[size] = '\0';
    else {
        snprintf(error, error_size, "cannot read %s", path);
        free(text);
        text = NULL;
    }
    close(fd);
    return text;
}

int curve_keys_load(curve_keys_t *keys, const char *path, char *error,
                    size_t error_size)
{
    //  Parsed here, not by zcert_load, which reads PATH_secret instead of PATH when
    //  that file exists: a file nobody checked.
    char *text = s_read_private(path, error, error_size);
    if (!text)
        return -1;
    zconfig_t *config = zconfig_str_load(text);
    free(text);
    const char *public_key = config ? zconfig_get(config, "curve/public-key", "") : "";
    const char *secret_key = config ? zconfig_get(config, "curve/secret-key", "") : "";
    //  The public key must be the secret key's.
    char derived[CURVE_KEY_TEXT] = "";
    bool valid = s_key_valid(secret_key) &&
                 strcmp(secret_key, "0000000000000000000000000000000000000000") != 0 &&
                 zmq_curve_public(derived, secret_key) == 0 && strcmp(derived, public_key) == 0;
    if (valid) {
        snprintf(keys->public_key, CURVE_KEY_TEXT, "%s", public_key);
        snprintf(keys->secret_key, CURVE_KEY_TEXT, "%s", secret_key);
    } else
        snprintf(error, error_size, "%s is not a certificate with a secret key", path);
    zconfig_destroy(&config);
    return valid ? 0 : -1;
}

void curve_line(const curve_keys_t *keys, char line[CURVE_LINE_MAX])
{
    if (keys)
        snprintf(line, CURVE_LINE_MAX, "curve %s %s\n", keys->public_key,
                 keys->secret_key);
    else
        snprintf(line, CURVE_LINE_MAX, "insecure\n");
}

int curve_line_parse(const char *line, curve_keys_t *keys)
{
    if (strcmp(line, "insecure\n") == 0 || strcmp(line, "insecure") == 0)
        return 0;
    char public_key[CURVE_KEY_TEXT], secret_key[CURVE_KEY_TEXT], end;
    if (sscanf(line, "curve %40s %40s%c", public_key, secret_key, &end) != 3 ||
        end != '\n' || !s_key_valid(public_key) || !s_key_valid(secret_key))
        return -1;
    memcpy(keys->public_key, public_key, CURVE_KEY_TEXT);
    memcpy(keys->secret_key, secret_key, CURVE_KEY_TEXT);
    return 1;
}
