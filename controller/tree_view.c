/*  tree_view — rendering of `tree` (see tree_view.h): owns the branches, the state
    words and colours, and the summary line; it reads the topology, never changes it. */
#define _GNU_SOURCE
#include "tree_view.h"
#include "../common/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

typedef struct {
    FILE *out;
    const tree_style_t *style;
    tree_busy_fn *busy;
    void *arg;
    bool endpoints;
    size_t total, up, unavailable, starting;
} view_t;

static const char *s_branch[2][4] = {
    //  middle child, last child, more below, nothing below
    {"|-- ", "`-- ", "|   ", "    "},
    {"\u251c\u2500\u2500 ", "\u2514\u2500\u2500 ", "\u2502   ", "    "},
};

#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define RED "\033[31m"
#define PLAIN "\033[0m"

static void s_state(view_t *view, topo_node_t *node)
{
    char text[64];
    const char *colour = GREEN;
    topo_node_t *blocker = topology_unavailable_from(node);
    if (node->state == NODE_DEAD) {
        colour = RED;
        if (WIFSIGNALED(node->exit_status))
            snprintf(text, sizeof text, "dead (signal %d)", WTERMSIG(node->exit_status));
        else
            snprintf(text, sizeof text, "dead (exit %d)", WEXITSTATUS(node->exit_status));
    } else if (blocker && blocker != node) {
        colour = YELLOW;
        snprintf(text, sizeof text, "unavailable (behind %d)", blocker->id);
    } else if (node->state == NODE_UP && node->lost) {
        colour = YELLOW;
        snprintf(text, sizeof text, "silent");
    } else if (node->state == NODE_UP && view->busy && view->busy(view->arg, node->id))
        snprintf(text, sizeof text, "busy");
    else {
        if (node->state != NODE_UP)
            colour = YELLOW;
        snprintf(text, sizeof text, "%s", topology_state_name(node->state));
    }
    view->total++;
    if (node->state == NODE_PENDING)
        view->starting++;
    else if (node->state == NODE_UP && !blocker)
        view->up++;
    else if (node->state != NODE_REMOVING)
        view->unavailable++;
    if (view->style->colour)
        fprintf(view->out, "%s%s%s", colour, text, PLAIN);
    else
        fputs(text, view->out);
}

static void s_line(view_t *view, topo_node_t *node)
{
    if (!node->parent) {
        fprintf(view->out, "%d controller pid %d", node->id, (int)node->pid);
        if (view->endpoints && node->endpoint)
            fprintf(view->out, " at %s", node->endpoint);
        fputc('\n', view->out);
        return;
    }
    if (view->style->bst && node->parent->parent)
        fprintf(view->out, "%s ", node->id < node->parent->id ? "L" : "R");
    fprintf(view->out, "%d pid ", node->id);
    if (node->pid)
        fprintf(view->out, "%d ", (int)node->pid);
    else
        fputs("- ", view->out);
    s_state(view, node);
    if (node->host)
        fprintf(view->out, " on %s", node->host);
    if (view->endpoints)
        fprintf(view->out, " at %s", node->endpoint ? node->endpoint : "-");
    fprintf(view->out, " depth %zu\n", node->depth);
}

static void s_children(view_t *view, topo_node_t *node, char *prefix, size_t prefix_length)
{
    size_t count = zlistx_size(node->children), index = 0;
    const char **branch = s_branch[view->style->unicode];
    for (topo_node_t *child = (topo_node_t *)zlistx_first(node->children); child;
         child = (topo_node_t *)zlistx_next(node->children), index++) {
        bool last = index + 1 == count;
        fprintf(view->out, "%.*s%s", (int)prefix_length, prefix, branch[last ? 1 : 0]);
        s_line(view, child);
        //  The prefix grows by one column group per level; the caller's buffer is
        //  sized for the deepest node.
        size_t added = strlen(branch[last ? 3 : 2]);
        memcpy(prefix + prefix_length, branch[last ? 3 : 2], added);
        s_children(view, child, prefix, prefix_length + added);
    }
}

static size_t s_max_depth(topo_node_t *node)
{
    size_t deepest = node->depth;
    for (topo_node_t *child = (topo_node_t *)zlistx_first(node->children); child;
         child = (topo_node_t *)zlistx_next(node->children)) {
        size_t depth = s_max_depth(child);
        deepest = depth > deepest ? depth : deepest;
    }
    return deepest;
}

char *tree_view_render(topo_node_t *top, const tree_style_t *style, tree_busy_fn *busy,
                       void *arg, bool endpoints)
{
    char *text = NULL;
    size_t size = 0;
    view_t view = {mem_stream(&text, &size), style, busy, arg, endpoints, 0, 0, 0, 0};
    s_line(&view, top);
    //  Each level adds at most 6 bytes of branch (a UTF-8 bar and spaces).
    char *prefix = mem_alloc((s_max_depth(top) - top->depth + 1) * 8);
    s_children(&view, top, prefix, 0);
    free(prefix);
    fprintf(view.out, "%zu node%s: %zu up, %zu unavailable", view.total,
            view.total == 1 ? "" : "s", view.up, view.unavailable);
    if (view.starting)
        fprintf(view.out, ", %zu starting", view.starting);
    fclose(view.out);
    return text;
}

tree_style_t tree_view_style(bool ascii, bool bst, bool terminal)
{
    const char *locale = getenv("LC_ALL");
    if (!locale || !*locale)
        locale = getenv("LC_CTYPE");
    if (!locale || !*locale)
        locale = getenv("LANG");
    bool utf8 = locale && (strcasestr(locale, "utf-8") || strcasestr(locale, "utf8"));
    const char *no_colour = getenv("NO_COLOR");
    tree_style_t style = {!ascii && utf8, terminal && !(no_colour && *no_colour), bst};
    return style;
}
