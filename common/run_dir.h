/*  run_dir — the controller's private directory for ipc endpoints.

    Made with mkdtemp under the first safe one of $XDG_RUNTIME_DIR, $TMPDIR and /tmp,
    checked on the opened directory (owner, mode 0700), and emptied and removed at
    exit through its open descriptor, never by following a path or a symbolic link.

    Safe means that no other user can rename or replace an entry anywhere on the way
    to the directory: every directory from / down to the parent is owned by root or
    by us, and is writable by no one else unless it is sticky (like /tmp). Under an
    unsafe parent another user could swap our directory for a symbolic link between
    two calls, and make the cleanup, run as root, delete files of their choice. */
#ifndef MQTREE_RUN_DIR_H
#define MQTREE_RUN_DIR_H

typedef struct _run_dir_t run_dir_t;

//  Creates the directory. NULL if no candidate parent is safe (each refused one is
//  logged with its reason at warn) or creation fails; errno tells.
run_dir_t *run_dir_new(void);

//  Removes every entry (not following links, not descending into directories),
//  then the directory itself, and frees. NULL-safe; nulls the caller's pointer.
void run_dir_destroy(run_dir_t **self_p);

//  The directory's absolute path, with no symbolic link in it.
const char *run_dir_path(run_dir_t *self);

//  Removes the entry name (a plain name, no '/') of the directory itself, relative
//  to its descriptor: a symbolic link is removed, never followed. Returns unlinkat's
//  result.
int run_dir_unlink(run_dir_t *self, const char *name);

//  0 if path is a safe parent as defined above, else -1 and why (a static text).
//  Symbolic links in path are resolved first; the directories are then opened one
//  by one from / without following any link.
int run_dir_check_parent(const char *path, const char **why);

#endif
