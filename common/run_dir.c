/*  run_dir — the controller's private directory for ipc endpoints (see run_dir.h):
    owns choosing, making and checking it, and emptying it without following a link. */
#define _GNU_SOURCE
#include "run_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "process.h"
#include "mem.h"

struct _run_dir_t {
    char *path;       //  absolute, no symbolic link in it
    const char *name; //  the last component, inside path
    int parent_fd;    //  the parent, opened when it was checked
    int dir_fd;       //  the directory itself, checked after mkdtemp
    dev_t device;     //  what dir_fd is, to know the name still denotes it at exit
    ino_t inode;
};

//  The ipc path limit (108 bytes with "/<id>.sock") rules out long bases.
#define BASE_MAX 60

//  Why a directory on the way lets another user swap its entries, or NULL.
static const char *s_unsafe(const struct stat *status)
{
    if (!S_ISDIR(status->st_mode))
        return "not a directory";
    if (status->st_uid != 0 && status->st_uid != geteuid())
        return "owned by another user";
    //  Sticky: only an entry's owner may rename or delete it, as in /tmp.
    if ((status->st_mode & (S_IWGRP | S_IWOTH)) && !(status->st_mode & S_ISVTX))
        return "writable by others and not sticky";
    return NULL;
}

//  Opens the absolute path one component at a time from /, never following a
//  symbolic link, and checks every directory on the way. O_PATH: a directory we may
//  only search is checked all the same. Returns the last one's descriptor, or -1,
//  why, and where (the directory at fault: a prefix of path, "/" for the root).
static int s_open_safe(const char *path, const char **why, size_t *where)
{
    *where = 1;
    int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        *why = "not accessible";
        return -1;
    }
    char *copy = mem_strdup(path);
    char *save = NULL;
    char *part = strtok_r(copy, "/", &save);
    while (true) {
        struct stat status;
        if (fstat(fd, &status) != 0) {
            *why = "not examinable";
            goto error;
        }
        if ((*why = s_unsafe(&status)))
            goto error;
        if (!part)
            break;
        *where = (size_t)(part - copy) + strlen(part);
        int next = openat(fd, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            *why = errno == ELOOP || errno == ENOTDIR ? "replaced while checked"
                                                      : "not accessible";
            goto error;
        }
        close(fd);
        fd = next;
        part = strtok_r(NULL, "/", &save);
    }
    free(copy);
    return fd;
error:
    free(copy);
    close(fd);
    return -1;
}

int run_dir_check_parent(const char *path, const char **why)
{
    char *canonical = realpath(path, NULL);
    if (!canonical) {
        *why = "does not exist";
        return -1;
    }
    size_t where;
    int fd = s_open_safe(canonical, why, &where);
    free(canonical);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

//  Makes the directory under base (canonical, checked: parent_fd). NULL on failure;
//  fatal tells whether what failed was the check of a directory we just made.
static run_dir_t *s_make(const char *base, int parent_fd, bool *fatal)
{
    run_dir_t *self = (run_dir_t *)mem_calloc(1, sizeof(run_dir_t));
    self->parent_fd = parent_fd;
    self->dir_fd = -1;
    self->path = process_format("%s/mqtree-%d-XXXXXX", strcmp(base, "/") ? base : "",
                                (int)getpid());
    self->name = strrchr(self->path, '/') + 1;
    if (!mkdtemp(self->path)) {
        log_info("cannot make a run directory under %s: %s", base, strerror(errno));
        goto error;
    }
    //  mkdtemp made it 0700, but the check is on what we opened, not on a path: the
    //  directory we will put sockets in and empty at exit is this one.
    self->dir_fd =
        openat(parent_fd, self->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat status;
    if (self->dir_fd < 0 || fstat(self->dir_fd, &status) != 0 ||
        status.st_uid != geteuid() || (status.st_mode & 07777) != 0700) {
        log_error("run directory %s is not the private directory made for us",
                  self->path);
        *fatal = true;
        errno = EPERM;
        goto error;
    }
    self->device = status.st_dev;
    self->inode = status.st_ino;
    return self;
error:
    if (self->dir_fd >= 0)
        close(self->dir_fd);
    free(self->path);
    free(self);
    return NULL;
}

run_dir_t *run_dir_new(void)
{
    const char *variables[] = {"$XDG_RUNTIME_DIR", "$TMPDIR", ""};
    for (int index = 0; index < 3; index++) {
        const char *variable = variables[index];
        const char *candidate = *variable ? getenv(variable + 1) : "/tmp";
        if (!candidate || !*candidate)
            continue;
        char *base = realpath(candidate, NULL);
        if (!base || strlen(base) > BASE_MAX) {
            log_info("not using %s%s%s for the run directory: %s", variable,
                     *variable ? "=" : "", candidate,
                     base ? "path too long for ipc" : strerror(errno));
            free(base);
            continue;
        }
        const char *why = NULL;
        size_t where;
        int parent_fd = s_open_safe(base, &why, &where);
        if (parent_fd < 0) {
            //  Worth a warning: the user pointed us at a place others can tamper with.
            log_warn("not using %s%s%s for the run directory: %.*s is %s", variable,
                     *variable ? "=" : "", candidate, (int)where, base, why);
            free(base);
            continue;
        }
        bool fatal = false;
        run_dir_t *self = s_make(base, parent_fd, &fatal);
        free(base);
        if (self)
            return self;
        close(parent_fd);
        if (fatal)
            return NULL;
    }
    errno = ENOENT;
    return NULL;
}

void run_dir_destroy(run_dir_t **self_p)
{
    run_dir_t *self = *self_p;
    if (!self)
        return;
    //  fdopendir takes the descriptor it lists: a duplicate, so dir_fd stays ours.
    int list_fd = dup(self->dir_fd);
    DIR *listing = list_fd >= 0 ? fdopendir(list_fd) : NULL;
    if (listing) {
        struct dirent *entry;
        while ((entry = readdir(listing))) {
            if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, ".."))
                continue;
            //  unlinkat without AT_REMOVEDIR removes a symbolic link itself, never
            //  its target, and refuses a directory: we made none, so none is ours
            //  to descend into.
            if (unlinkat(self->dir_fd, entry->d_name, 0) != 0)
                log_warn("cannot remove %s/%s: %s", self->path, entry->d_name,
                         strerror(errno));
        }
        closedir(listing);
    } else if (list_fd >= 0)
        close(list_fd);
    //  The name may since denote something else only if root put it there; rmdir
    //  would not follow a link anyway, but what is not ours is left alone.
    struct stat status;
    if (fstatat(self->parent_fd, self->name, &status, AT_SYMLINK_NOFOLLOW) == 0 &&
        status.st_dev == self->device && status.st_ino == self->inode) {
        if (unlinkat(self->parent_fd, self->name, AT_REMOVEDIR) != 0)
            log_warn("cannot remove %s: %s", self->path, strerror(errno));
    } else
        log_warn("run directory %s was replaced: left alone", self->path);
    close(self->dir_fd);
    close(self->parent_fd);
    free(self->path);
    free(self);
    *self_p = NULL;
}

const char *run_dir_path(run_dir_t *self)
{
    return self->path;
}

int run_dir_unlink(run_dir_t *self, const char *name)
{
    return unlinkat(self->dir_fd, name, 0);
}
