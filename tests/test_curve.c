/*  Unit test: the tree's certificate and the ZAP handler. A certificate file is
    written 0600 and read back, refused when others may read it or it is not one
    (and never read from a PATH_secret beside it); the link line
    round-trips; a ROUTER on 127.0.0.1 that is a CURVE server admits a client with
    the tree's keys and refuses one that knows the server's key but not the tree's
    (ZAP), and one that knows neither (the handshake). Every wait has a deadline. */
#include "check.h"

#include <czmq.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/curve.h"
#include "../common/log.h"
#include "../node/zap.h"

#define WAIT_MS 5000

//  path, now holding length bytes of data, mode 0600.
static void s_rewrite(const char *path, const char *data, size_t length)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0 && write(fd, data, length) == (ssize_t)length);
    close(fd);
}

static void s_certificate_files(void)
{
    char dir[] = "/tmp/mqtree-test-curve-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128], error[512];
    snprintf(path, sizeof path, "%s/tree.cert", dir);
    curve_keys_t keys, back;
    CHECK(curve_keys_new(&keys) == 0);
    CHECK(curve_keys_save(&keys, path, error, sizeof error) == 0);
    struct stat info;
    CHECK(stat(path, &info) == 0 && (info.st_mode & 0777) == 0600);
    CHECK(curve_keys_load(&back, path, error, sizeof error) == 0);
    CHECK_STR(back.public_key, keys.public_key);
    CHECK_STR(back.secret_key, keys.secret_key);
    //  Never over an existing file.
    CHECK(curve_keys_save(&keys, path, error, sizeof error) == -1);
    //  Readable by others: refused, with the reason.
    chmod(path, 0644);
    CHECK(curve_keys_load(&back, path, error, sizeof error) == -1);
    CHECK(strstr(error, "may be read by others") != NULL);
    chmod(path, 0600);
    //  What is checked is what is read: a PATH_secret beside it (czmq's zcert_load
    //  reads that one instead), readable by anyone and holding other keys, is not.
    char sibling[160];
    snprintf(sibling, sizeof sibling, "%s_secret", path);
    curve_keys_t other;
    CHECK(curve_keys_new(&other) == 0);
    CHECK(curve_keys_save(&other, sibling, error, sizeof error) == 0);
    chmod(sibling, 0644);
    CHECK(curve_keys_load(&back, path, error, sizeof error) == 0);
    CHECK_STR(back.secret_key, keys.secret_key);
    unlink(sibling);
    //  Not certificates: cut short (a parse error), garbage, a public key that is not
    //  the secret key's. Refused, and nothing leaks (zconfig_load leaked on these).
    FILE *file = fopen(path, "r");
    char text[1024];
    size_t length = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[length] = '\0';
    char *public_at = strstr(text, keys.public_key);
    CHECK(public_at != NULL && length > 10);
    s_rewrite(path, text, length - 10);
    CHECK(curve_keys_load(&back, path, error, sizeof error) == -1);
    CHECK(strstr(error, "is not a certificate") != NULL);
    s_rewrite(path, "\x01\x02 curve = \"", 9);
    CHECK(curve_keys_load(&back, path, error, sizeof error) == -1);
    memcpy(public_at, other.public_key, CURVE_KEY_TEXT - 1);
    s_rewrite(path, text, length);
    CHECK(curve_keys_load(&back, path, error, sizeof error) == -1);
    unlink(path);
    CHECK(curve_keys_load(&back, path, error, sizeof error) == -1);
    CHECK(curve_keys_load(&back, dir, error, sizeof error) == -1);
    rmdir(dir);

    char line[CURVE_LINE_MAX];
    curve_line(&keys, line);
    CHECK(curve_line_parse(line, &back) == 1);
    CHECK_STR(back.secret_key, keys.secret_key);
    curve_line(NULL, line);
    CHECK(curve_line_parse(line, &back) == 0);
    CHECK(curve_line_parse("curve short key\n", &back) == -1);
    CHECK(curve_line_parse("", &back) == -1);
}

//  Connects a client with the given keys and the given idea of the server's key, sends
//  one message: whether the server got it within the deadline.
static bool s_admitted(zsock_t *server, zap_t *zap, const char *endpoint,
                       const curve_keys_t *client, const char *server_key)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    zsock_set_linger(sock, 0);
    zsock_set_curve_serverkey(sock, server_key);
    zsock_set_curve_publickey(sock, client->public_key);
    zsock_set_curve_secretkey(sock, client->secret_key);
    zsock_connect(sock, "%s", endpoint);
    zstr_send(sock, "hello");
    zpoller_t *poller = zpoller_new(server, zap_sock(zap), NULL);
    bool got = false;
    int64_t deadline = zclock_mono() + 1500;
    while (!got && zclock_mono() < deadline) {
        void *ready = zpoller_wait(poller, 100);
        if (ready == zap_sock(zap))
            zap_handle(zap);
        else if (ready == server) {
            zmsg_t *msg = zmsg_recv(server);
            got = msg && zmsg_size(msg) == 2;
            zmsg_destroy(&msg);
        }
    }
    zpoller_destroy(&poller);
    zsock_destroy(&sock);
    return got;
}

static void s_zap(void)
{
    curve_keys_t tree, other;
    CHECK(curve_keys_new(&tree) == 0 && curve_keys_new(&other) == 0);
    zap_t *zap = zap_new(&tree);
    CHECK(zap != NULL);
    if (!zap)
        return;
    zsock_t *server = zsock_new(ZMQ_ROUTER);
    zsock_set_zap_domain(server, "mqtree");
    zsock_set_curve_server(server, 1);
    zsock_set_curve_secretkey(server, tree.secret_key);
    int port = zsock_bind(server, "tcp://127.0.0.1:*");
    CHECK(port > 0);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    CHECK(s_admitted(server, zap, endpoint, &tree, tree.public_key));
    CHECK(zap_refused(zap) == 0);
    //  Knows where it connects, but is not of the tree: ZAP says no.
    CHECK(!s_admitted(server, zap, endpoint, &other, tree.public_key));
    CHECK(zap_refused(zap) >= 1);
    //  Knows nothing: the handshake itself fails, ZAP is not even asked.
    size_t refused = zap_refused(zap);
    CHECK(!s_admitted(server, zap, endpoint, &other, other.public_key));
    CHECK(zap_refused(zap) == refused);
    //  And the tree's own client still gets in.
    CHECK(s_admitted(server, zap, endpoint, &tree, tree.public_key));
    zsock_destroy(&server);
    zap_destroy(&zap);
}

int main(void)
{
    zsys_init();
    zsys_handler_set(NULL);
    log_set_level(LEVEL_ERROR);
    s_certificate_files();
    s_zap();
    return check_report("curve");
}
