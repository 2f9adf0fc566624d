/*  options — a program's command-line options, declared once in a table: the parser
    (over getopt_long), the --help text and the manual's SYNOPSIS and OPTIONS sections
    are all made from it, so they cannot disagree. Each row names the field of the
    program's config struct it sets and how its value is checked. */
#ifndef MQTREE_OPTIONS_H
#define MQTREE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum {
    OPTION_FLAG,    //  no argument; sets a bool
    OPTION_INT,     //  an id-like integer (numbers.h id_parse) >= min, into an int
    OPTION_BYTES,   //  a byte count with K, M or G (size_parse) >= min, into a size_t
    OPTION_ENUM,    //  one of values ("tree|bst"): its index, into a bool or an enum
    OPTION_STRING,  //  any text: the argument itself, into a const char *
    OPTION_HELP,    //  prints --help (or, as --help=roff, the manual's sections)
    OPTION_VERSION, //  prints "<program> <version>"
} option_kind_t;

typedef struct {
    const char *name; //  the long name, without "--"; NULL ends the table
    char letter;      //  the short option, or 0
    option_kind_t kind;
    const char *arg;    //  the argument's name in the usage ("MS"); enums show values
    const char *values; //  OPTION_ENUM: the accepted words, '|'-separated, in order
    size_t offset;      //  the field set, in the config struct (OPTION_FIELD)
    size_t size;
    long long min;       //  OPTION_INT, OPTION_BYTES: the smallest value accepted
    bool required;       //  the program refuses to start without a valid value
    const char *invalid; //  what a bad value is called: "mqtree: invalid <this> 'x'"
    const char *help;    //  one line of --help
    const char *manual;  //  the manual's text for it (mdoc); NULL: help, as a sentence
} option_t;

//  The initializers of option_t's offset and size for a config struct's field.
#define OPTION_FIELD(type, member)                                                       \
    .offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

//  The rows every program has the same: -h/--help and -V/--version.
#define OPTION_HELP_ROW                                                                  \
    {                                                                                    \
        .name = "help", .letter = 'h', .kind = OPTION_HELP,                              \
        .help = "print this help and exit"                                               \
    }
#define OPTION_VERSION_ROW                                                               \
    {                                                                                    \
        .name = "version", .letter = 'V', .kind = OPTION_VERSION,                        \
        .help = "print the version and exit"                                             \
    }

typedef struct {
    const char *program; //  "mqtree": in the usage, the version and errors
    const char *version; //  for OPTION_VERSION
    const option_t *options;
    //  The config struct: the parser starts from a copy of defaults.
    const void *defaults;
    size_t config_size;
    const char *notes; //  lines printed after the synopsis in the usage
    //  Prints the manual's sections that come after OPTIONS, for --help=roff (NULL:
    //  none): those made from another table than the options'.
    void (*manual_sections)(FILE *out);
    //  A lenient program (the worker, whose parent checked every value already)
    //  takes a malformed value as the field's default, silently, and ignores extra
    //  arguments; a strict one refuses them with a message, the usage and exit 2.
    bool lenient;
} options_spec_t;

//  Parses argv into config (config_size bytes, filled from defaults first). Returns
//  -1 when the program should go on and run; otherwise the code to exit with now:
//  0 after --help or --version (printed on stdout), 2 after a bad or missing option
//  (its reason and the usage printed on stderr).
int options_parse(const options_spec_t *spec, int argc, char **argv, void *config);

//  The synopsis and the notes (what a bad option prints); with full, the list of
//  options with their help lines too (what --help prints).
void options_usage(const options_spec_t *spec, FILE *out, bool full);

//  The manual's SYNOPSIS and OPTIONS sections in mdoc, each from its .Sh line to the
//  line before the next section, then the spec's manual_sections (what --help=roff
//  prints; scripts/man-options puts them into doc/<program>.1).
void options_roff(const options_spec_t *spec, FILE *out);

#endif
