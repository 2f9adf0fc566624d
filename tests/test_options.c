/*  Unit test: the option table's parser (every kind, bad values, strict and lenient),
    the usage made from it, and the manual's sections made from it. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "../common/options.h"
#include "check.h"

typedef struct {
    bool verbose;
    int count;
    int id;
    size_t bytes;
    bool tcp;
    int level;
    const char *name;
} test_config_t;

#define FIELD(member) OPTION_FIELD(test_config_t, member)

static const option_t s_options[] = {
    {.name = "verbose", .kind = OPTION_FLAG, FIELD(verbose), .help = "say more"},
    {.name = "count",
     .kind = OPTION_INT,
     .arg = "N",
     .min = 1,
     FIELD(count),
     .invalid = "count",
     .help = "how many (default 3)"},
    {.name = "id",
     .kind = OPTION_INT,
     .arg = "ID",
     .min = INT32_MIN,
     FIELD(id),
     .invalid = "id",
     .help = "any id"},
    {.name = "bytes",
     .kind = OPTION_BYTES,
     .arg = "BYTES",
     .min = 256,
     FIELD(bytes),
     .invalid = "bytes (at least 256)",
     .help = "a size"},
    {.name = "transport",
     .kind = OPTION_ENUM,
     .values = "ipc|tcp",
     FIELD(tcp),
     .invalid = "transport",
     .help = "ipc or tcp"},
    {.name = "level",
     .kind = OPTION_ENUM,
     .values = "error|warn|info|debug",
     FIELD(level),
     .invalid = "level",
     .help = "how much",
     .manual = "How much to log:\n.Cm info\nlogs deaths."},
    {.name = "name",
     .kind = OPTION_STRING,
     .arg = "NAME",
     FIELD(name),
     .invalid = "name",
     .help = "a name"},
    OPTION_HELP_ROW,
    OPTION_VERSION_ROW,
    {.name = NULL},
};

static const test_config_t s_defaults = {.count = 3, .level = 1, .bytes = 4096};

static options_spec_t s_spec = {
    .program = "test",
    .version = "1.2.3",
    .options = s_options,
    .defaults = &s_defaults,
    .config_size = sizeof s_defaults,
    .notes = "BYTES: with K, M or G.\n",
};

//  Parses a NULL-terminated argument list (after the program's name) with stdout
//  and stderr sent to /dev/null: errors and --help print there.
static int s_parse(const options_spec_t *spec, test_config_t *config, ...)
{
    char *argv[32] = {(char *)"test"};
    int argc = 1;
    va_list args;
    va_start(args, config);
    while (argc < 31 && (argv[argc] = va_arg(args, char *)))
        argc++;
    va_end(args);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    close(null);
    int exit_code = options_parse(spec, argc, argv, config);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, STDOUT_FILENO);
    dup2(saved_err, STDERR_FILENO);
    close(saved_out);
    close(saved_err);
    return exit_code;
}

static void s_kinds(void)
{
    test_config_t config;
    CHECK(s_parse(&s_spec, &config, NULL) == -1);
    CHECK(!config.verbose && config.count == 3 && config.bytes == 4096);
    CHECK(!config.tcp && config.level == 1 && !config.name);
    CHECK(s_parse(&s_spec, &config, "--verbose", "--count", "5", "--id", "-7", "--bytes",
                  "16M", "--transport", "tcp", "--level", "debug", "--name=node",
                  NULL) == -1);
    CHECK(config.verbose && config.count == 5 && config.id == -7);
    CHECK(config.bytes == 16 << 20 && config.tcp && config.level == 3);
    CHECK_STR(config.name, "node");
    //  The last one counts; the words are the enum's indexes.
    CHECK(s_parse(&s_spec, &config, "--transport", "tcp", "--transport", "ipc", "--level",
                  "error", "--bytes", "1K", "--bytes", "256", NULL) == -1);
    CHECK(!config.tcp && config.level == 0 && config.bytes == 256);
    CHECK(s_parse(&s_spec, &config, "--id", "2147483647", NULL) == -1);
    CHECK(config.id == INT32_MAX);
}

static void s_bad_values(void)
{
    test_config_t config;
    const char *bad[][2] = {
        {"--count", "0"},       {"--count", "-1"},   {"--count", "007"},
        {"--count", "1e3"},     {"--count", "x"},    {"--id", "-0"},
        {"--id", "2147483648"}, {"--bytes", "255"},  {"--bytes", "1.5M"},
        {"--bytes", "5m"},      {"--bytes", "0"},    {"--transport", "udp"},
        {"--transport", ""},    {"--level", "loud"}, {"--level", "warn|info"},
        {"--level", "Warn"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(s_parse(&s_spec, &config, bad[i][0], bad[i][1], NULL) == 2);
    CHECK(s_parse(&s_spec, &config, "extra", NULL) == 2);
    CHECK(s_parse(&s_spec, &config, "--verbose", "extra", NULL) == 2);
    CHECK(s_parse(&s_spec, &config, "--bogus", NULL) == 2);
    CHECK(s_parse(&s_spec, &config, "--count", NULL) == 2);
    CHECK(s_parse(&s_spec, &config, "--verbose=yes", NULL) == 2);
    CHECK(s_parse(&s_spec, &config, "--help=man", NULL) == 2);
}

static void s_help_and_version(void)
{
    test_config_t config;
    CHECK(s_parse(&s_spec, &config, "--help", NULL) == 0);
    CHECK(s_parse(&s_spec, &config, "-h", NULL) == 0);
    CHECK(s_parse(&s_spec, &config, "--help=roff", NULL) == 0);
    CHECK(s_parse(&s_spec, &config, "--version", NULL) == 0);
    CHECK(s_parse(&s_spec, &config, "-V", NULL) == 0);
    //  -h takes no argument, even after one that did.
    CHECK(s_parse(&s_spec, &config, "--count", "5", "-h", NULL) == 0);
    //  Parsing stops there: a bad option after --help is never looked at.
    CHECK(s_parse(&s_spec, &config, "--help", "--count", "0", NULL) == 0);
}

//  A strict table with every field required, made lenient: the worker's case.
static void s_lenient(void)
{
    option_t required[sizeof s_options / sizeof s_options[0]];
    memcpy(required, s_options, sizeof s_options);
    required[1].required = true; //  --count
    required[6].required = true; //  --name
    options_spec_t spec = s_spec;
    spec.options = required;
    spec.lenient = true;
    test_config_t config;
    CHECK(s_parse(&spec, &config, "--count", "4", "--name", "x", "extra", NULL) == -1);
    CHECK(config.count == 4);
    CHECK(s_parse(&spec, &config, "--count", "4", NULL) == 2);
    CHECK(s_parse(&spec, &config, "--name", "x", NULL) == 2);
    //  A malformed value is the default, silently; a required one is then missing.
    CHECK(s_parse(&spec, &config, "--count", "4", "--name", "x", "--transport", "udp",
                  "--level", "loud", "--bytes", "x", NULL) == -1);
    CHECK(!config.tcp && config.level == 1 && config.bytes == 4096);
    CHECK(s_parse(&spec, &config, "--transport", "tcp", "--transport", "udp", "--count",
                  "4", "--name", "x", NULL) == -1);
    CHECK(!config.tcp);
    CHECK(s_parse(&spec, &config, "--count", "4", "--count", "0", "--name", "x", NULL) ==
          2);
    CHECK(config.count == 3);
    CHECK(s_parse(&spec, &config, "--count", "0", "--count", "4", "--name", "x", NULL) ==
          -1);
}

//  What a printer writes, as a string the caller frees.
static char *s_printed(const options_spec_t *spec, int what)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (what == 2)
        options_roff(spec, out);
    else
        options_usage(spec, out, what == 1);
    fclose(out);
    return text;
}

static void s_usage(void)
{
    char *usage = s_printed(&s_spec, 0);
    char *help = s_printed(&s_spec, 1);
    const char *words[] = {"[--verbose]",
                           "[--count N]",
                           "[--id ID]",
                           "[--bytes BYTES]",
                           "[--transport ipc|tcp]",
                           "[--level error|warn|info|debug]",
                           "[--name NAME]",
                           "[--help]",
                           "[--version]"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        CHECK(strstr(usage, words[i]));
        CHECK(strstr(help, words[i]));
    }
    CHECK(strncmp(usage, "usage: test [--verbose]", 23) == 0);
    CHECK(strstr(usage, "BYTES: with K, M or G.\n"));
    //  The help lines only in --help.
    for (const option_t *option = s_options; option->name; option++) {
        CHECK(strstr(help, option->help));
        CHECK(!strstr(usage, option->help));
    }
    CHECK(strstr(help, "\n      --count N             how many (default 3)\n"));
    CHECK(strstr(help, "\n  -h, --help                print this help and exit\n"));
    //  Too wide for the first column: the help line goes under it.
    CHECK(strstr(help, "\n      --level error|warn|info|debug\n"
                       "                            how much\n"));
    //  The synopsis wraps inside 80 columns, under the program's name.
    CHECK(strstr(usage, "\n            [--"));
    for (char *line = usage; *line; line = strchr(line, '\n') + 1)
        CHECK(strchr(line, '\n') - line <= 80);
    free(usage);
    free(help);
}

static void s_roff(void)
{
    option_t required[sizeof s_options / sizeof s_options[0]];
    memcpy(required, s_options, sizeof s_options);
    required[6].required = true; //  --name
    options_spec_t spec = s_spec;
    spec.options = required;
    char *roff = s_printed(&spec, 2);
    CHECK(strncmp(roff, ".Sh SYNOPSIS\n", 13) == 0);
    const char *lines[] = {
        "\n.Nm\n.Op Fl -verbose\n.Op Fl -count Ar n\n.Op Fl -id Ar id\n",
        "\n.Op Fl -bytes Ar bytes\n.Op Fl -transport Cm ipc | tcp\n",
        "\n.Op Fl -level Cm error | warn | info | debug\n.Fl -name Ar name\n",
        "\n.Op Fl -help\n.Op Fl -version\n.Sh OPTIONS\n",
        "\n.Bl -tag -width Ds\n.It Fl -verbose\nSay more.\n",
        "\n.It Fl -count Ar n\nHow many (default 3).\n",
        "\n.It Fl -level Cm error | warn | info | debug\nHow much to log:\n.Cm info\n",
        "logs deaths.\n.It Fl -name Ar name\nA name.\n",
        "\n.It Fl h , Fl -help\nPrint this help and exit.\n",
        "\n.It Fl V , Fl -version\nPrint the version and exit.\n.El\n",
        "\n.\\\" Made from the option table (test --help=roff)",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        CHECK(strstr(roff, lines[i]));
    //  Ends with its list: the next section of the page follows it.
    CHECK(strcmp(roff + strlen(roff) - 5, ".El\n\n") != 0);
    CHECK(strcmp(roff + strlen(roff) - 4, ".El\n") == 0);
    free(roff);
}

int main(void)
{
    s_kinds();
    s_bad_values();
    s_help_and_version();
    s_lenient();
    s_usage();
    s_roff();
    return check_report("options");
}
