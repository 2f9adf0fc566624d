/*  topology — the controller's model of the tree: which node is whose child, its pid
    and its state. No I/O: the controller core reads and changes it, the unit tests
    drive it directly. The root is the controller itself, id -1.

    Placement is the caller's choice (a named parent in a general tree, or
    topology_bst_parent for a binary search tree); everything else — paths, subtrees,
    availability — is the same for both. */
#ifndef MQTREE_TOPOLOGY_H
#define MQTREE_TOPOLOGY_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/nodeset.h"

#define TOPOLOGY_ROOT -1

typedef enum {
    NODE_PENDING,  //  its create is in flight: commands naming it wait
    NODE_UP,       //  running, as far as the controller knows
    NODE_STOPPED,  //  its parent saw it stopped (SIGSTOP); back up on SIGCONT
    NODE_DEAD,     //  its process ended; kept until remove
    NODE_REMOVING, //  its remove is in flight: commands naming it wait
} node_state_t;

typedef struct _topo_node_t topo_node_t;
struct _topo_node_t {
    int32_t id;
    topo_node_t *parent;     //  NULL for the root only
    zlistx_t *children; //  topo_node_t *, ascending by id
    size_t depth;       //  0 for the root
    pid_t pid;          //  0 while pending; on its own host
    //  Where it runs: the host its create named, or its parent's (NULL: here), and
    //  whether its process is outside this machine's process tree (on another host,
    //  or below one that is): then its pid is not ours to signal or to wait for.
    char *host;
    bool remote;
    char *endpoint; //  where its children connect (NULL: not known yet)
    bool reaped;        //  its process is known gone: its pid may belong to another
    node_state_t state;
    int exit_status; //  waitpid status, for NODE_DEAD
    //  Heartbeats (see heartbeat.h): whether its parent reports its beats missing
    //  (node/heartbeat.c watches them, at every level), and what the Heartbit lines
    //  last said of it.
    bool lost;
    bool reported_unavailable;
    bool reported_behind;   //  ... because of a node above it, not of its own
    int64_t back_due_us;    //  behind a node that came back: said available then
    bool unavailable_now;   //  the update under way found it or a node above down
    int64_t ready_by_us;    //  NODE_PENDING: its create's deadline
    //  The request that made it (0: the root): tells this node from an earlier or
    //  later one of the same id, for answers to requests sent before it was known.
    uint64_t made_by;
};

typedef struct _topology_t topology_t;

topology_t *topology_new(pid_t controller_pid);
void topology_destroy(topology_t **self_p);

topo_node_t *topology_root(topology_t *self);
topo_node_t *topology_find(topology_t *self, int32_t id);
//  A node of this machine's process tree (not remote) by its pid.
topo_node_t *topology_find_pid(topology_t *self, pid_t pid);

//  Nodes other than the root.
size_t topology_size(topology_t *self);

//  Adds node id under parent, state NODE_PENDING. NULL if id exists or is the root's.
topo_node_t *topology_add(topology_t *self, int32_t id, topo_node_t *parent);

//  Where a child of parent created with `create ... @host` runs: host, or without one
//  ("") its parent's host (NULL: the controller's).
const char *topology_child_host(const topo_node_t *parent, const char *host);

//  Removes node and its whole subtree. The root cannot be removed.
void topology_remove(topology_t *self, topo_node_t *node);

//  True if node is ancestor itself or lies in its subtree.
bool topology_within(topo_node_t *node, topo_node_t *ancestor);

//  The highest node between the root (excluded) and node (included) that cannot be
//  reached: dead or stopped. NULL if every link on the way is up.
topo_node_t *topology_blocker(topo_node_t *node);

//  Whether node is unavailable itself: dead, stopped, or reported silent by its
//  parent (heartbeats; commands still go to a silent node, topology_blocker's way).
bool topology_down(const topo_node_t *node);

//  The highest node between the root (excluded) and node (included) that is down,
//  as pingall and the Heartbit lines say. NULL if none is.
topo_node_t *topology_unavailable_from(topo_node_t *node);

//  The ids on the way from the root's child down to node, included. hops must have
//  room for node->depth entries. Returns node->depth.
size_t topology_path(topo_node_t *node, int32_t *hops);

//  Visits node and its subtree depth first, children in ascending id order. Each
//  children list has one cursor, so visit must not iterate node->children itself.
typedef void(topology_visit_fn)(topo_node_t *node, void *arg);
void topology_walk(topo_node_t *node, topology_visit_fn *visit, void *arg);

//  The ids of node's subtree (node included, the root never), in tree order, or
//  ascending. The caller frees the array.
int32_t *topology_ids(topo_node_t *node, size_t *count);
int32_t *topology_ids_sorted(topo_node_t *node, size_t *count);

//  What a node set (common/nodeset.h) names in the tree as it is: targets gets every
//  node named (the nodes of its ids and ranges, each subtree named whole, every node
//  for "all"), missing what it names that is not in the tree (ids, ranges less the
//  nodes in them, subtree roots), and reach the targets and every node on the way
//  down to them (the root excluded): the links a broadcast to the targets takes.
void topology_resolve(topology_t *self, const nodeset_spec_t *spec, nodeset_t *targets,
                      nodeset_t *missing, nodeset_t *reach);

//  Where a binary search tree insert of id goes: walking from the root's only child,
//  left (smaller id) or right (greater id), to the first free slot. Returns the root
//  when the tree is empty.
topo_node_t *topology_bst_parent(topology_t *self, int32_t id);

const char *topology_state_name(node_state_t state);

#endif
