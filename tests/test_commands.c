/*  Unit test: the shell's command reference. The `help` list has a line for every
    command, each word `help` takes finds its rows, no help line is wider than a
    terminal, and the manual's COMMANDS section made from the same table is
    well-formed mdoc with one entry per row. */
#include "../shell/commands.h"
#include "check.h"

#include <stdbool.h>
#include <stdlib.h>

#define WIDTH 80

//  Whether every line of text fits WIDTH columns.
static bool s_fits(const char *text)
{
    for (const char *line = text; *line;) {
        size_t length = strcspn(line, "\n");
        if (length > WIDTH) {
            fprintf(stderr, "  too wide: %.*s\n", (int)length, line);
            return false;
        }
        line += length + (line[length] == '\n');
    }
    return true;
}

static size_t s_count(const char *text, const char *word)
{
    size_t count = 0;
    for (const char *at = text; (at = strstr(at, word)); at += strlen(word))
        count++;
    return count;
}

static void s_list(void)
{
    char *list = commands_help("", 0);
    CHECK(list && strncmp(list, "create id [parent] [@host]", 26) == 0);
    //  Its last line is exit's, with no newline after it: the shell prints lines.
    const char *last = list ? strrchr(list, '\n') : NULL;
    CHECK(last && strncmp(last + 1, "exit | quit ", 12) == 0);
    CHECK(list && s_fits(list));
    const char *commands[] = {"create", "remove", "kill", "exec", "ping", "pingall",
                              "heartbeat", "tree", "stats", "help", "exit", "quit"};
    for (size_t i = 0; list && i < sizeof commands / sizeof commands[0]; i++)
        CHECK(strstr(list, commands[i]) != NULL);
    free(list);
}

static void s_topics(void)
{
    //  A topic prints its rows' usages, then their texts indented.
    char *exec = commands_help("exec", 4);
    CHECK(exec && strncmp(exec, "exec id op [args...]\n  Runs op", 30) == 0);
    CHECK(exec && strstr(exec, "\n\nexec SET op [args...] [--reduce sum|min|max|count]\n"));
    CHECK(exec && strstr(exec, "\n\nexec id|SET run program [args...]\n"));
    CHECK(exec && strstr(exec, "\n    Error:id: Not found | Error:id: Node is unavailable\n"));
    CHECK(exec && s_fits(exec));
    free(exec);
    char *kill = commands_help("kill", 4), *remove = commands_help("remove", 6);
    CHECK(kill && remove && strcmp(kill, remove) == 0);
    CHECK_STR(kill, "remove id | kill id\n  Ends node id and its whole subtree, and "
                    "forgets them.\n    Ok | Error: Not found");
    free(kill);
    free(remove);
    char *heartbeat = commands_help("heartbeat", 9);
    CHECK(heartbeat && strstr(heartbeat, "at least 300 ms"));
    free(heartbeat);
    char *sets = commands_help("sets", 4);
    CHECK(sets && strncmp(sets, "exec SET", 8) == 0 && strstr(sets, "\n\nping SET\n"));
    free(sets);
    //  Only whole words: no row is found by a part of a name or by a blank.
    CHECK(commands_help("exe", 3) == NULL);
    CHECK(commands_help("exec run", 8) == NULL);
    CHECK(commands_help(" ", 1) == NULL);
    CHECK(commands_help("nope", 4) == NULL);
    char big[100];
    memset(big, 'x', sizeof big);
    CHECK(commands_help(big, sizeof big) == NULL);
}

static void s_roff(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    CHECK(out != NULL);
    if (!out)
        return;
    commands_roff(out);
    fclose(out);
    CHECK(strncmp(text, ".Sh COMMANDS\n", 13) == 0);
    CHECK(s_count(text, "\n.Bl -tag -width Ds\n") == 1 && s_count(text, "\n.El\n") == 1);
    CHECK(s_count(text, "\n.Bd -literal") == s_count(text, "\n.Ed\n"));
    //  One entry per usage the list shows.
    char *list = commands_help("", 0);
    size_t entries = 0;
    for (const char *line = list; line && *line; line = strchr(line, '\n') + 1) {
        if (*line != ' ')
            entries++;
        if (!strchr(line, '\n'))
            break;
    }
    CHECK(entries > 10 && s_count(text, "\n.It Ic ") == entries);
    CHECK(strstr(text, "\n.It Ic create No \"id [parent] [@host]\"\n") != NULL);
    //  Every line that starts with a dot is a request of mdoc's: no text line was
    //  taken for one. A backslash only as mdoc's escapes (the table's \n is \en).
    for (const char *line = text; *line; line = strchr(line, '\n') + 1) {
        if (*line == '.') {
            bool known = !strncmp(line, ".Sh ", 4) || !strncmp(line, ".\\\" ", 4) ||
                         !strncmp(line, ".Bl ", 4) || !strncmp(line, ".El\n", 4) ||
                         !strncmp(line, ".It ", 4) || !strncmp(line, ".Bd ", 4) ||
                         !strncmp(line, ".Ed\n", 4) || !strncmp(line, ".Pp\n", 4);
            CHECK(known);
        }
        if (!strchr(line, '\n'))
            break;
    }
    CHECK(strstr(text, "as \\en, \\er, \\et, \\e\\e;") != NULL);
    free(list);
    free(text);
}

int main(void)
{
    s_list();
    s_topics();
    s_roff();
    return check_report("commands");
}
