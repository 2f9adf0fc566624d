/*  json_output — SPEC.md result lines as JSON objects (see json_output.h). */
#include "json_output.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

static const char *s_names[] = {
    [CMD_CREATE] = "create", [CMD_REMOVE] = "remove",   [CMD_EXEC] = "exec",
    [CMD_PING] = "ping",     [CMD_PINGALL] = "pingall", [CMD_HEARTBEAT] = "heartbeat",
    [CMD_TREE] = "tree",     [CMD_HELP] = "help",       [CMD_EXIT] = "exit",
};

//  After "Ok" or "Error": an optional ":<id>", then an optional ": <text>".
static const char *s_text_after(const char *rest)
{
    if (*rest == ':' && rest[1] != ' ') {
        rest++;
        while (*rest && *rest != ':')
            rest++;
    }
    return strncmp(rest, ": ", 2) == 0 ? rest + 2 : NULL;
}

static char *s_dump(json_t *object)
{
    char *text =
        json_dumps(object, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(5));
    json_decref(object);
    return text;
}

char *json_output_result(int kind, bool has_id, int32_t id, const char *line, double ms)
{
    json_t *object = json_object();
    bool known = kind > 0 && kind <= CMD_EXIT;
    json_object_set_new(object, "cmd", known ? json_string(s_names[kind]) : json_null());
    if (has_id)
        json_object_set_new(object, "id", json_integer(id));
    bool several = strchr(line, '\n') != NULL;
    bool ok = strncmp(line, "Error", 5) != 0;
    json_object_set_new(object, "ok", json_boolean(ok));
    if (several) {
        json_t *lines = json_array();
        const char *start = line;
        for (const char *end; (end = strchr(start, '\n')); start = end + 1)
            json_array_append_new(lines, json_stringn(start, (size_t)(end - start)));
        json_array_append_new(lines, json_string(start));
        json_object_set_new(object, "lines", lines);
    } else {
        const char *text = s_text_after(line + (ok ? 2 : 5));
        if (text)
            json_object_set_new(object, ok ? "result" : "error", json_string(text));
    }
    json_object_set_new(object, "ms", json_real(ms));
    return s_dump(object);
}

char *json_output_event(const char *line)
{
    json_t *object = json_object();
    int id = 0;
    char state[32] = "";
    if (sscanf(line, "Heartbit: node %d is %31s", &id, state) == 2) {
        json_object_set_new(object, "event", json_string("heartbeat"));
        json_object_set_new(object, "id", json_integer(id));
        json_object_set_new(
            object, "state",
            json_string(strcmp(state, "unavailable") ? "available" : "unavailable"));
    } else
        json_object_set_new(object, "event", json_string(line));
    return s_dump(object);
}
