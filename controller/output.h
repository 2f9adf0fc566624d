/*  output — what mqtree answers, as data, and the two ways the shell prints it.

    The controller core never makes text: it hands a result_t (the answer to one
    command) or an event_t (an asynchronous line) to one sink, and the shell formats
    it, either as the result lines of README's Commands (output_text) or, with --json, one JSON object per
    line (output_json):

        Ok:10: 6            {"cmd":"exec","id":10,"ok":true,"result":"6","ms":0.21}
        Error: Parent not found
                            {"cmd":"create","id":5,"ok":false,"error":"Parent not found",
                             "ms":0.05}
        (tree's lines)      {"cmd":"tree","ok":true,"lines":["-1 controller pid 4210",
                             ...],"ms":0.1}
        Heartbit: node 3 is unavailable now
                            {"event":"heartbeat","id":3,"state":"unavailable"}
        Joined: node 7 (pid 4242 on node12)
                            {"event":"joined","id":7,"pid":4242,"host":"node12"}

    Both formats are made from the same fields, so they can never say different
    things. */
#ifndef MQTREE_OUTPUT_H
#define MQTREE_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  The kind of a result for a line that did not parse (its JSON "cmd" is null).
#define RESULT_NO_COMMAND 0

//  What the result lines tell apart. A timeout is not among them: a request that timed
//  out reads like one whose node is known unreachable ("Node is unavailable"), or
//  like an answer (ping's "Ok: 0", remove's "Ok").
typedef enum {
    RESULT_OK,          //  "Ok...", ping's "Ok: 0" included
    RESULT_ERROR,       //  "Error...: <error>"
    RESULT_UNAVAILABLE, //  "Error: Parent is unavailable", "Error:N: Node is unavailable"
} result_status_t;

//  One line of a folded reply (a command to a node set): the nodes that gave one
//  answer, as a compact set, and the answer ("Ok:1-4,6: 5", "Error:7-9: Node is
//  unavailable"). text is escaped; empty for a bare "Ok:1-4".
typedef struct {
    result_status_t status;
    const char *ids;
    const char *text;
} result_group_t;

//  What the controller counts (stats): the nodes of the tree, the controller's own
//  children, and the messages it received from and sent to them since it started.
typedef struct {
    uint64_t nodes, children, received, sent;
} result_stats_t;

typedef struct {
    uint64_t seq; //  the shell's number for the command it answers
    int kind;     //  the command_kind_t answered, or RESULT_NO_COMMAND
    result_status_t status;
    int32_t id;        //  the node the command names, when has_id
    bool has_id;       //  JSON's "id": create, remove, exec, ping, and tree N
    bool shows_id;     //  the line names the node too: "Ok:10: 6", "Error:10: Not found"
    union {            //  an Ok's value, by kind (remove and heartbeat have none)
        int32_t pid;   //  create
        bool answered; //  ping: "Ok: 1" / "Ok: 0"
        const char *text; //  exec (empty: "Ok:10"); tree and help (several lines)
        struct {          //  pingall: the unavailable nodes, ascending ("Ok: -1": none)
            const int32_t *ids;
            size_t count;
        } unavailable;
        struct { //  exec or ping to a set (has_id false): its lines, by first id (Ok),
                 //  and the set as typed (an error too)
            const result_group_t *list;
            size_t count;
            const char *set;    //  the set as typed
            const char *reduce; //  the reduction's name, NULL: none
        } groups;
        result_stats_t stats;
    } value;
    const char *error; //  RESULT_ERROR: why, as the line shows it
} result_t;

//  A result for command seq of kind, naming node id if has_id: an Ok with no value
//  yet. Only exec's lines name the node.
result_t result_for(uint64_t seq, int kind, bool has_id, int32_t id);

//  Asynchronous lines: a node's availability changed (heartbeats).
typedef enum {
    EVENT_NODE_UNAVAILABLE, //  "Heartbit: node <id> is unavailable now"
    EVENT_NODE_AVAILABLE,   //  "Heartbit: node <id> is available again"
    EVENT_NODE_JOINED,      //  "Joined: node <id> (pid <pid> on <host>)"
} event_kind_t;

typedef struct {
    event_kind_t kind;
    int32_t node;
    int32_t pid;      //  joined: its pid on its host
    const char *host; //  joined: the host it said, escaped (text.h)
} event_t;

//  Where the controller core sends what it has to say: exactly one of result and
//  event is set, both borrowed for the call.
typedef void(output_sink_fn)(void *arg, const result_t *result, const event_t *event);

//  A format: each function returns a fresh text (several lines for tree and help
//  in text form, one line in JSON) that the caller frees. ms is how long the command
//  took, from the line being read (JSON only).
typedef struct {
    char *(*result)(const result_t *result, double ms);
    char *(*event)(const event_t *event);
} output_format_t;

extern const output_format_t output_text; //  the result lines, byte for byte
extern const output_format_t output_json; //  --json

#endif
