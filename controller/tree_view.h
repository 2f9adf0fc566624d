/*  tree_view — the text of `tree`: one node per line under box-drawing branches (or
    ASCII ones), with id, pid, state and depth, L/R marks in a binary search tree,
    colours on a terminal, and a summary line. */
#ifndef MQTREE_TREE_VIEW_H
#define MQTREE_TREE_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "topology.h"

typedef struct {
    bool unicode; //  box-drawing branches; ASCII ones otherwise
    bool colour;  //  ANSI colours on the states
    bool bst;     //  mark each node L or R of its parent
} tree_style_t;

//  Whether a node has ops in flight (shown as busy).
typedef bool(tree_busy_fn)(void *arg, int32_t id);

//  The view of top and its subtree, lines separated by '\n' without a last one.
//  Each node on another host says where ("on HOST"); with endpoints, where its
//  children connect ("at ENDPOINT").
//  The caller frees it.
char *tree_view_render(topo_node_t *top, const tree_style_t *style, tree_busy_fn *busy,
                       void *arg, bool endpoints);

//  The style for this process: unicode unless forced to ASCII or the locale is not
//  UTF-8, colour only on a terminal and without NO_COLOR.
tree_style_t tree_view_style(bool ascii, bool bst, bool terminal);

#endif
