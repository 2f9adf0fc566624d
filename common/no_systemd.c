/*  no_systemd — what czmq asks of libsystemd, answered when czmq is linked statically
    (CMakeLists.txt): no socket was passed by socket activation. */
#include <stddef.h>
#include <stdint.h>

//  czmq's zsock_bind asks these only when ZSYS_AUTO_USE_FD is set, to bind to a socket
//  systemd passed instead of making one; no node is started by systemd. Linking
//  libsystemd for them costs each worker about 150 kB of private pages (it and what
//  it loads: gcrypt, gpg-error, lz4, zstd, lzma, cap), a fifth of an idle worker.
int sd_listen_fds(int unset_environment);
int sd_is_socket_unix(int fd, int type, int listening, const char *path, size_t length);
int sd_is_socket_inet(int fd, int family, int type, int listening, uint16_t port);

int sd_listen_fds(int unset_environment)
{
    (void)unset_environment;
    return 0;
}

int sd_is_socket_unix(int fd, int type, int listening, const char *path, size_t length)
{
    (void)fd;
    (void)type;
    (void)listening;
    (void)path;
    (void)length;
    return 0;
}

int sd_is_socket_inet(int fd, int family, int type, int listening, uint16_t port)
{
    (void)fd;
    (void)family;
    (void)type;
    (void)listening;
    (void)port;
    return 0;
}
