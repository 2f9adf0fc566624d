/*  commands — the shell's command reference (see commands.h): the table, the help
    texts made from it, and its mdoc rendering for the manual. */
#include "commands.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../controller/heartbeat.h"
#include "../controller/parser.h"
#include "../common/mem.h"

//  A macro's value as a string literal, for the texts.
#define S_TEXT_(x) #x
#define S_TEXT(x) S_TEXT_(x)
#define S_FLOOR S_TEXT(HEARTBEAT_MIN_MS)

//  Where the `help` list's summaries start.
#define SUMMARY_COLUMN 23

//  One usage of a command. names: the words `help WORD` finds it by, each between
//  blanks. summary: its line in the `help` list (more lines after a newline). text:
//  what it does and answers, lines of at most 76 characters; a line that starts with
//  two blanks is a reply as printed (shown as is, and in the manual as a literal
//  block).
typedef struct {
    const char *names;
    const char *usage;
    const char *summary;
    const char *text;
} command_doc_t;

// clang-format off
static const command_doc_t s_commands[] = {
    {" create ", "create id [parent] [@host]",
     "start a node under parent (default -1, the\n"
     "controller), on host (tcp: through --launcher)",
     "Starts node id as a child of parent (default -1, the controller; ignored with\n"
     "--topology bst, where the BST places it). With @host (--transport tcp) the\n"
     "parent starts it on host through --launcher; without, it runs on its\n"
     "parent's host.\n"
     "  Ok: <pid>\n"
     "  Error: Already exists | Error: Parent not found\n"
     "  Error: Parent is unavailable | Error: Invalid id 'x'"},
    {" remove kill ", "remove id | kill id", "end a node and its whole subtree",
     "Ends node id and its whole subtree, and forgets them.\n"
     "  Ok | Error: Not found"},
    {" exec ", "exec id op [args...]",
     "run an op on a node: sum n k1..kn | find text pattern |\n"
     "set name value | get name | timer start|stop|time |\n"
     "sleep ms | run program [args...]",
     "Runs op on node id. Ops: sum n k1 ... kn, find text pattern, set name value,\n"
     "get name, timer start|stop|time, sleep ms, run program [args...] (help run).\n"
     "With --exec " EXEC_SYNTAX_BARE " the op word is left out.\n"
     "  Ok:id: <result> | Ok:id\n"
     "  Error:id: Not found | Error:id: Node is unavailable\n"
     "  Error:id: <reason>"},
    {" exec sets ", "exec SET op [args...] [--reduce sum|min|max|count]",
     "the same for a node set (all, 1-5,9, 3/ = 3 and\n"
     "below): one line per distinct answer, Ok:1-4,6: 5",
     "The same op on every node of a node set, as one broadcast down the tree: each\n"
     "node runs it if it is in the set, passes it only to the children on the way\n"
     "to one, and answers once for its subtree, so the controller receives one\n"
     "message per child of its own. A set is all, a list of ids and ranges as\n"
     "ClusterShell writes them (1-5,9,20-22), or N/ for node N and every node below\n"
     "it, in any mix (3/,7,10-12). The reply is one block, one line per distinct\n"
     "answer with the nodes that gave it, in the order of their first id:\n"
     "  Ok:1-4,6: 5\n"
     "  Ok:5: 'x' not found\n"
     "  Error:7-9: Node is unavailable\n"
     "  Error:12: Not found\n"
     "With --reduce (the line's last two words), numeric answers are combined\n"
     "inside the tree, each node adding its subtree's before it answers:\n"
     "  Ok:1-9: 45\n"
     "Answers that are not numbers form Error:ids: Result is not a number, a sum\n"
     "past 64 bits Error:ids: Overflow; count counts the Ok answers, whatever they\n"
     "say. A command that names one id keeps its one-line reply."},
    {" exec run ", "exec id|SET run program [args...]",
     "run a program on the nodes' hosts (--allow-run)",
     "Runs a program on the node's host: its words are the argv (no shell, no\n"
     "quoting), the program is looked for along PATH, its standard input and error\n"
     "are /dev/null. The reply holds the exit code (or 128 plus the signal that\n"
     "ended it) and the output without its last newline, escaped:\n"
     "  Ok:id: <status>: <output> | Ok:id: <status>\n"
     "The program has until the request's deadline and 64 KiB of output; past\n"
     "either, it and what it started are killed and the reply says so:\n"
     "  Error:id: Time limit reached: the program was killed\n"
     "  Error:id: Output over 65536 bytes: the program was killed\n"
     "Off unless mqtree runs with --allow-run (refused with --insecure):\n"
     "  Error:id: The run op is off (start mqtree with --allow-run)"},
    {" ping ", "ping id", "Ok: 1 if the node answers within the timeout, else Ok: 0",
     "Asks node id whether it answers within the timeout.\n"
     "  Ok: 1 | Ok: 0 | Error: Not found"},
    {" ping sets ", "ping SET", "the same for a node set: Ok:1-4: 1, Ok:5: 0",
     "Pings every node of a set (help sets) with one broadcast.\n"
     "  Ok:1-4,6: 1 (answered) | Ok:5: 0 (did not)\n"
     "  Error:12: Not found"},
    {" pingall ", "pingall", "the unavailable nodes, or Ok: -1 when all answer",
     "Asks every node at once, through the tree.\n"
     "  Ok: -1 | Ok: 7;10;15\n"
     "-1 when every node answered, else the unavailable ids, ascending."},
    {" heartbeat ", "heartbeat ms", "every node signals every ms (0 stops; at least " S_FLOOR ")",
     "Every node signals its parent every ms (0 stops); then, once per change:\n"
     "  Heartbit: node X is unavailable now\n"
     "  Heartbit: node X is available again\n"
     "An interval below " S_FLOOR " ms is refused: on a 2-core machine a 500-node tree\n"
     "printed false losses at 120 ms and below, none at 150 ms.\n"
     "  Ok | Error: heartbeat must be 0 or at least " S_FLOOR " ms"},
    {" tree ", "tree [--endpoints] [id]", "the topology with pids, states, hosts (endpoints)",
     "The topology (or id's subtree), one node per line, with pid, state, depth and\n"
     "host (on HOST), with --endpoints where its children connect, and a summary\n"
     "line."},
    {" stats ", "stats", "nodes, the controller's children, messages it exchanged",
     "The tree's nodes, the controller's own children, and the messages it\n"
     "received from and sent to them since it started (a broadcast costs one each\n"
     "way per child).\n"
     "  Ok: nodes N, children C, received R, sent S"},
    {" help ", "help [command]", "this list, or one command's usage and replies",
     "The commands, or one command's usage and replies."},
    {" exit quit ", "exit | quit", "wait for outstanding replies, end every node, leave",
     "Waits for the replies still due, ends every node and exits 0; so does the\n"
     "end of the input."},
};
// clang-format on

#define COMMANDS (sizeof s_commands / sizeof s_commands[0])

//  The manual's words before and after the table.
static const char *s_manual_head =
    "Ids are signed 32-bit integers; -1 is the controller.\n"
    "Blank lines and lines starting with # are ignored.\n";
static const char *s_manual_tail =
    "A reply's text and the user's words that errors echo are escaped, so one reply\n"
    "is one line: newline, carriage return, tab and backslash as \\n, \\r, \\t, \\\\;\n"
    "other control bytes, DEL, C1 controls and bytes that are not valid UTF-8 as\n"
    "\\xNN.\n";

//  Each line of text after indent (a reply line after twice as much).
static void s_indented(FILE *out, const char *text, int indent)
{
    for (const char *line = text; *line;) {
        size_t length = strcspn(line, "\n");
        fprintf(out, "%*s%.*s\n", indent, "", (int)length, line);
        line += length + (line[length] == '\n');
    }
}

static void s_list(FILE *out)
{
    for (size_t i = 0; i < COMMANDS; i++) {
        const command_doc_t *command = &s_commands[i];
        int width = fprintf(out, "%s", command->usage);
        if (width >= SUMMARY_COLUMN - 1)
            fprintf(out, "\n%*s", SUMMARY_COLUMN, "");
        else
            fprintf(out, "%*s", SUMMARY_COLUMN - width, "");
        size_t length = strcspn(command->summary, "\n");
        fprintf(out, "%.*s\n", (int)length, command->summary);
        if (command->summary[length])
            s_indented(out, command->summary + length + 1, SUMMARY_COLUMN);
    }
}

char *commands_help(const char *topic, size_t length)
{
    char key[48];
    if (length > sizeof key - 3 || memchr(topic, ' ', length) || memchr(topic, '\t', length))
        return NULL; //  one word: no name holds a blank
    snprintf(key, sizeof key, " %.*s ", (int)length, topic);
    char *text = NULL;
    size_t size = 0;
    FILE *out = mem_stream(&text, &size);
    bool found = false;
    if (!length) {
        s_list(out);
        found = true;
    }
    for (size_t i = 0; length && i < COMMANDS; i++)
        if (strstr(s_commands[i].names, key)) {
            fprintf(out, "%s%s\n", found ? "\n" : "", s_commands[i].usage);
            s_indented(out, s_commands[i].text, 2);
            found = true;
        }
    fclose(out);
    //  No trailing newline: the shell prints the text as lines.
    while (size && text[size - 1] == '\n')
        text[--size] = '\0';
    if (!found) {
        free(text);
        return NULL;
    }
    return text;
}

//  A text line for mdoc: backslashes escaped, and a leading dot or quote (which
//  would make it a request) guarded.
static void s_roff_line(FILE *out, const char *line, size_t length)
{
    if (length && (line[0] == '.' || line[0] == '\''))
        fputs("\\&", out);
    for (size_t i = 0; i < length; i++)
        if (line[i] == '\\')
            fputs("\\e", out);
        else
            fputc(line[i], out);
    fputc('\n', out);
}

//  Text lines as mdoc; reply lines (two blanks first) as literal blocks.
static void s_roff_text(FILE *out, const char *text)
{
    bool literal = false;
    for (const char *line = text; *line;) {
        size_t length = strcspn(line, "\n");
        bool reply = length > 2 && line[0] == ' ' && line[1] == ' ';
        if (reply != literal)
            fputs(reply ? ".Bd -literal -offset indent\n" : ".Ed\n.Pp\n", out);
        literal = reply;
        if (reply)
            s_roff_line(out, line + 2, length - 2);
        else
            s_roff_line(out, line, length);
        line += length + (line[length] == '\n');
    }
    if (literal)
        fputs(".Ed\n", out);
}

void commands_roff(FILE *out)
{
    fputs(".Sh COMMANDS\n"
          ".\\\" Made from the shell's command table, shell/commands.c (mqtree\n"
          ".\\\" --help=roff): edit the table, then run scripts/man-options.\n",
          out);
    s_roff_text(out, s_manual_head);
    fputs(".Bl -tag -width Ds\n", out);
    for (size_t i = 0; i < COMMANDS; i++) {
        const char *usage = s_commands[i].usage;
        size_t name = strcspn(usage, " ");
        fprintf(out, ".It Ic %.*s", (int)name, usage);
        if (usage[name])
            fprintf(out, " No \"%s\"", usage + name + 1);
        fputc('\n', out);
        s_roff_text(out, s_commands[i].text);
    }
    fputs(".El\n.Pp\n", out);
    s_roff_text(out, s_manual_tail);
}
