/*  output — results and events as data (see output.h): owns the two formats over
    result_t and event_t, the result lines and JSON; nothing here re-reads text. */
#define _GNU_SOURCE
#include "output.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/process.h"
#include "parser.h"
#include "../common/mem.h"

result_t result_for(uint64_t seq, int kind, bool has_id, int32_t id)
{
    return (result_t){.seq = seq,
                      .kind = kind,
                      .status = RESULT_OK,
                      .id = id,
                      .has_id = has_id,
                      .shows_id = has_id && kind == CMD_EXEC};
}

//  --- What both formats say ---------------------------------------------------------

//  exec and ping to a node set answer with one line per group of nodes.
static bool s_folded(const result_t *result)
{
    return (result->kind == CMD_EXEC || result->kind == CMD_PING) && !result->has_id &&
           result->status == RESULT_OK;
}

//  Tree and help answer with lines of text, not with one value.
static bool s_has_lines(const result_t *result)
{
    return result->status == RESULT_OK &&
           (result->kind == CMD_TREE || result->kind == CMD_HELP);
}

//  The text after "Ok: " (or "Ok:N: "), or NULL for a bare "Ok". The caller frees it.
static char *s_value(const result_t *result)
{
    switch (result->kind) {
        case CMD_CREATE:
            return process_format("%d", result->value.pid);
        case CMD_PING:
            return process_format("%d", result->value.answered);
        case CMD_EXEC:
            return result->value.text && *result->value.text ? mem_strdup(result->value.text)
                                                             : NULL;
        case CMD_PINGALL: {
            size_t count = result->value.unavailable.count;
            if (!count)
                return mem_strdup("-1");
            char *text = NULL;
            size_t size = 0;
            FILE *out = mem_stream(&text, &size);
            for (size_t i = 0; i < count; i++)
                fprintf(out, i ? ";%d" : "%d", result->value.unavailable.ids[i]);
            fclose(out);
            return text;
        }
        default:
            return NULL;
    }
}

//  The text after "Error: " (or "Error:N: ").
static const char *s_error(const result_t *result)
{
    if (result->status == RESULT_ERROR)
        return result->error ? result->error : "";
    //  A create's request goes to the parent: it is the parent that is unreachable.
    return result->kind == CMD_CREATE ? "Parent is unavailable" : "Node is unavailable";
}

//  --- Text: the result lines ---------------------------------------------------------

//  A folded reply: one line per group ("Ok:1-4: 5"), all in one block.
static char *s_text_groups(const result_t *result)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = mem_stream(&text, &size);
    for (size_t index = 0; index < result->value.groups.count; index++) {
        const result_group_t *group = &result->value.groups.list[index];
        if (index)
            fputc('\n', out);
        if (group->status == RESULT_OK)
            fprintf(out, *group->text ? "Ok:%s: %s" : "Ok:%s", group->ids, group->text);
        else
            fprintf(out, "Error:%s: %s", group->ids,
                    group->status == RESULT_ERROR ? group->text : "Node is unavailable");
    }
    fclose(out);
    return text;
}

static char *s_text_result(const result_t *result, double ms)
{
    (void)ms;
    if (s_folded(result))
        return s_text_groups(result);
    if (result->kind == CMD_STATS && result->status == RESULT_OK) {
        const result_stats_t *stats = &result->value.stats;
        return process_format("Ok: nodes %" PRIu64 ", children %" PRIu64
                              ", received %" PRIu64 ", sent %" PRIu64,
                              stats->nodes, stats->children, stats->received,
                              stats->sent);
    }
    if (s_has_lines(result))
        return mem_strdup(result->value.text ? result->value.text : "");
    char node[16] = "";
    if (result->shows_id)
        snprintf(node, sizeof node, ":%d", result->id);
    if (result->status != RESULT_OK)
        return process_format("Error%s: %s", node, s_error(result));
    char *value = s_value(result);
    char *line =
        value ? process_format("Ok%s: %s", node, value) : process_format("Ok%s", node);
    free(value);
    return line;
}

static char *s_text_event(const event_t *event)
{
    if (event->kind == EVENT_NODE_JOINED)
        return process_format("Joined: node %d (pid %d on %s)", event->node, event->pid,
                              event->host);
    return process_format("Heartbit: node %d is %s", event->node,
                          event->kind == EVENT_NODE_UNAVAILABLE ? "unavailable now"
                                                                : "available again");
}

const output_format_t output_text = {s_text_result, s_text_event};

//  --- JSON --------------------------------------------------------------------------

static const char *s_names[] = {
    [CMD_CREATE] = "create", [CMD_REMOVE] = "remove",   [CMD_EXEC] = "exec",
    [CMD_PING] = "ping",     [CMD_PINGALL] = "pingall", [CMD_HEARTBEAT] = "heartbeat",
    [CMD_TREE] = "tree",     [CMD_HELP] = "help",       [CMD_EXIT] = "exit",
    [CMD_STATS] = "stats",
};

static char *s_dump(json_t *object)
{
    char *text =
        json_dumps(object, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(5));
    json_decref(object);
    return text;
}

static json_t *s_lines(const char *text)
{
    json_t *lines = json_array();
    const char *start = text ? text : "";
    for (const char *end; (end = strchr(start, '\n')); start = end + 1)
        json_array_append_new(lines, json_stringn(start, (size_t)(end - start)));
    json_array_append_new(lines, json_string(start));
    return lines;
}

//  A folded reply: the set as typed, "ok" when every group is, and the groups.
static void s_json_groups(json_t *object, const result_t *result)
{
    if (result->value.groups.reduce)
        json_object_set_new(object, "reduce", json_string(result->value.groups.reduce));
    bool all_ok = true;
    json_t *groups = json_array();
    for (size_t index = 0; index < result->value.groups.count; index++) {
        const result_group_t *group = &result->value.groups.list[index];
        bool ok = group->status == RESULT_OK;
        all_ok &= ok;
        json_t *entry = json_object();
        json_object_set_new(entry, "ids", json_string(group->ids));
        json_object_set_new(entry, "ok", json_boolean(ok));
        if (!ok)
            json_object_set_new(entry, "error",
                                json_string(group->status == RESULT_ERROR
                                                ? group->text
                                                : "Node is unavailable"));
        else if (*group->text)
            json_object_set_new(entry, "result", json_string(group->text));
        json_array_append_new(groups, entry);
    }
    json_object_set_new(object, "ok", json_boolean(all_ok));
    json_object_set_new(object, "groups", groups);
}

static char *s_json_result(const result_t *result, double ms)
{
    json_t *object = json_object();
    bool known = result->kind > RESULT_NO_COMMAND && result->kind <= CMD_STATS;
    json_object_set_new(object, "cmd",
                        known ? json_string(s_names[result->kind]) : json_null());
    if (result->has_id)
        json_object_set_new(object, "id", json_integer(result->id));
    bool ok = result->status == RESULT_OK;
    //  A set command names its set, answered or not.
    if ((result->kind == CMD_EXEC || result->kind == CMD_PING) && !result->has_id &&
        result->value.groups.set)
        json_object_set_new(object, "set", json_string(result->value.groups.set));
    if (s_folded(result)) {
        s_json_groups(object, result);
        json_object_set_new(object, "ms", json_real(ms));
        return s_dump(object);
    }
    json_object_set_new(object, "ok", json_boolean(ok));
    if (result->kind == CMD_STATS && ok) {
        const result_stats_t *stats = &result->value.stats;
        json_t *counts = json_object();
        json_object_set_new(counts, "nodes", json_integer((json_int_t)stats->nodes));
        json_object_set_new(counts, "children", json_integer((json_int_t)stats->children));
        json_object_set_new(counts, "received", json_integer((json_int_t)stats->received));
        json_object_set_new(counts, "sent", json_integer((json_int_t)stats->sent));
        json_object_set_new(object, "stats", counts);
    } else if (s_has_lines(result))
        json_object_set_new(object, "lines", s_lines(result->value.text));
    else if (!ok)
        json_object_set_new(object, "error", json_string(s_error(result)));
    else {
        char *value = s_value(result);
        if (value)
            json_object_set_new(object, "result", json_string(value));
        free(value);
    }
    json_object_set_new(object, "ms", json_real(ms));
    return s_dump(object);
}

static char *s_json_event(const event_t *event)
{
    json_t *object = json_object();
    if (event->kind == EVENT_NODE_JOINED) {
        json_object_set_new(object, "event", json_string("joined"));
        json_object_set_new(object, "id", json_integer(event->node));
        json_object_set_new(object, "pid", json_integer(event->pid));
        json_object_set_new(object, "host", json_string(event->host));
        return s_dump(object);
    }
    json_object_set_new(object, "event", json_string("heartbeat"));
    json_object_set_new(object, "id", json_integer(event->node));
    json_object_set_new(
        object, "state",
        json_string(event->kind == EVENT_NODE_UNAVAILABLE ? "unavailable" : "available"));
    return s_dump(object);
}

const output_format_t output_json = {s_json_result, s_json_event};
