/*  json_output — the shell's --json form of a result: one JSON object per line, made
    with jansson from the SPEC.md line the controller produced, so the default output
    and the JSON one can never say different things.

        {"cmd":"exec","id":10,"ok":true,"result":"6","ms":0.21}
        {"cmd":"create","id":5,"ok":false,"error":"Parent not found","ms":0.05}
        {"cmd":"tree","ok":true,"lines":["-1 controller pid 4210", ...],"ms":0.1}
        {"event":"heartbeat","id":3,"state":"unavailable"}                        */
#ifndef MQTREE_JSON_OUTPUT_H
#define MQTREE_JSON_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

//  The object for a command's result line. kind is a command_kind_t, or 0 when the
//  line did not parse. The caller frees the text.
char *json_output_result(int kind, bool has_id, int32_t id, const char *line, double ms);

//  The object for an asynchronous line (Heartbit). The caller frees the text.
char *json_output_event(const char *line);

#endif
