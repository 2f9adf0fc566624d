/*  options — one table per program (options.h): owns reading it three ways, as
    getopt_long's tables with each value's check, as the usage, and as the manual. */
#include "options.h"

#include <assert.h>
#include <ctype.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "numbers.h"
#include "mem.h"

//  The usage wraps its synopsis, and starts a help line on a line of its own after
//  an option too wide for the first column, to stay inside 80 columns.
#define USAGE_WIDTH 80
#define HELP_COLUMN 28

//  getopt_long's code of a row without a short letter: above every char.
#define LONG_ONLY_CODE 256

static size_t s_count(const options_spec_t *spec)
{
    size_t count = 0;
    while (spec->options[count].name)
        count++;
    return count;
}

static bool s_takes_value(const option_t *option)
{
    return option->kind == OPTION_INT || option->kind == OPTION_BYTES ||
           option->kind == OPTION_ENUM || option->kind == OPTION_STRING;
}

//  The index of word among values ("tree|bst"), or -1.
static int s_enum_index(const char *values, const char *word)
{
    size_t length = strlen(word);
    int index = 0;
    for (const char *value = values; value; index++) {
        const char *bar = strchr(value, '|');
        size_t value_length = bar ? (size_t)(bar - value) : strlen(value);
        if (value_length == length && memcmp(value, word, length) == 0)
            return index;
        value = bar ? bar + 1 : NULL;
    }
    return -1;
}

//  Checks text and stores it in field. Returns 0, or -1 (field untouched) if bad.
static int s_store(const option_t *option, const char *text, void *field)
{
    switch (option->kind) {
        case OPTION_FLAG:
            assert(option->size == sizeof(bool));
            *(bool *)field = true;
            return 0;
        case OPTION_INT: {
            int32_t value;
            assert(option->size == sizeof(int));
            if (id_parse(text, &value) != 0 || value < option->min)
                return -1;
            *(int *)field = value;
            return 0;
        }
        case OPTION_BYTES: {
            size_t value;
            assert(option->size == sizeof(size_t) && option->min >= 0);
            if (size_parse(text, &value) != 0 || value < (size_t)option->min)
                return -1;
            *(size_t *)field = value;
            return 0;
        }
        case OPTION_ENUM: {
            int index = s_enum_index(option->values, text);
            if (index < 0)
                return -1;
            //  A two-word enum may set a bool (--transport ipc|tcp sets tcp).
            if (option->size == sizeof(bool))
                *(bool *)field = index != 0;
            else {
                assert(option->size == sizeof(int));
                *(int *)field = index;
            }
            return 0;
        }
        case OPTION_STRING:
            assert(option->size == sizeof(const char *));
            *(const char **)field = text;
            return 0;
        default:
            return -1;
    }
}

static int s_refuse(const options_spec_t *spec, const char *what, const char *value)
{
    fprintf(stderr, "%s: invalid %s '%s'\n", spec->program, what, value);
    options_usage(spec, stderr, false);
    return 2;
}

//  Applies one option. Returns -1 to go on, or the exit code; *valid tells whether
//  the field now holds a value given on the command line.
static int s_apply(const options_spec_t *spec, const option_t *option, const char *text,
                   void *config, bool *valid)
{
    if (option->kind == OPTION_HELP) {
        if (text && strcmp(text, "roff") != 0)
            return s_refuse(spec, "help format", text);
        if (text)
            options_roff(spec, stdout);
        else
            options_usage(spec, stdout, true);
        return 0;
    }
    if (option->kind == OPTION_VERSION) {
        printf("%s %s\n", spec->program, spec->version);
        return 0;
    }
    char *field = (char *)config + option->offset;
    *valid = s_store(option, text, field) == 0;
    if (*valid)
        return -1;
    if (!spec->lenient)
        return s_refuse(spec, option->invalid, text);
    memcpy(field, (const char *)spec->defaults + option->offset, option->size);
    return -1;
}

//  getopt_long's view of the table: a long option per row, the short letters.
static void s_getopt_tables(const options_spec_t *spec, size_t count,
                            struct option *longopts, char *shortopts)
{
    char *short_end = shortopts;
    for (size_t i = 0; i < count; i++) {
        const option_t *option = &spec->options[i];
        //  --help=roff, but -h takes nothing: -hV stays two options.
        int has_arg = option->kind == OPTION_HELP ? optional_argument
                      : s_takes_value(option)     ? required_argument
                                                  : no_argument;
        longopts[i] =
            (struct option){option->name, has_arg, NULL,
                            option->letter ? option->letter : LONG_ONLY_CODE + (int)i};
        if (option->letter) {
            *short_end++ = option->letter;
            if (s_takes_value(option))
                *short_end++ = ':';
        }
    }
}

int options_parse(const options_spec_t *spec, int argc, char **argv, void *config)
{
    memcpy(config, spec->defaults, spec->config_size);
    size_t count = s_count(spec);
    struct option *longopts = mem_calloc(count + 1, sizeof *longopts);
    char *shortopts = mem_calloc(2 * count + 1, 1);
    bool *valid = mem_calloc(count + 1, sizeof *valid);
    int exit_code = -1;
    s_getopt_tables(spec, count, longopts, shortopts);
    //  0, not 1: glibc starts afresh, so a process may parse more than one argv.
    optind = 0;
    int code;
    while (exit_code < 0 &&
           (code = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        size_t index = count;
        for (size_t i = 0; i < count && index == count; i++)
            if (longopts[i].val == code)
                index = i;
        if (index == count) {
            //  getopt_long said why (unknown option, missing argument).
            options_usage(spec, stderr, false);
            exit_code = 2;
        } else
            exit_code =
                s_apply(spec, &spec->options[index], optarg, config, &valid[index]);
    }
    if (exit_code < 0 && optind < argc && !spec->lenient)
        exit_code = s_refuse(spec, "argument", argv[optind]);
    for (size_t i = 0; i < count && exit_code < 0; i++)
        if (spec->options[i].required && !valid[i]) {
            options_usage(spec, stderr, false);
            exit_code = 2;
        }
    free(longopts);
    free(shortopts);
    free(valid);
    return exit_code;
}

//  "--name ARG" (an enum shows its words), or with the short letter: "-h, --help".
static void s_option_words(const option_t *option, bool letter, char *text, size_t size)
{
    int used = 0;
    if (letter && option->letter)
        used = snprintf(text, size, "-%c, ", option->letter);
    const char *arg = option->kind == OPTION_ENUM ? option->values : option->arg;
    snprintf(text + used, size - (size_t)used, "--%s%s%s", option->name,
             s_takes_value(option) ? " " : "", s_takes_value(option) ? arg : "");
}

void options_usage(const options_spec_t *spec, FILE *out, bool full)
{
    int indent = fprintf(out, "usage: %s", spec->program);
    int column = indent;
    for (const option_t *option = spec->options; option->name; option++) {
        char words[128];
        s_option_words(option, false, words, sizeof words);
        int width = (int)strlen(words) + (option->required ? 0 : 2);
        if (column > indent && column + 1 + width > USAGE_WIDTH) {
            fprintf(out, "\n");
            column = fprintf(out, "%*s", indent, "");
        }
        column += fprintf(out, option->required ? " %s" : " [%s]", words);
    }
    fprintf(out, "\n");
    for (const option_t *option = spec->options; full && option->name; option++) {
        char words[128];
        s_option_words(option, true, words, sizeof words);
        //  Long-only options line up with the long names of the lettered ones.
        int width = fprintf(out, "  %s%s", option->letter ? "" : "    ", words);
        if (width > HELP_COLUMN - 2)
            fprintf(out, "\n%*s%s\n", HELP_COLUMN, "", option->help);
        else
            fprintf(out, "%*s%s\n", HELP_COLUMN - width, "", option->help);
    }
    if (spec->notes)
        fputs(spec->notes, out);
}

//  An option's mdoc words: "Fl -topology Cm tree | bst", "Fl -timeout Ar ms".
static void s_roff_words(const option_t *option, bool letter, FILE *out)
{
    if (letter && option->letter)
        fprintf(out, "Fl %c , ", option->letter);
    fprintf(out, "Fl -%s", option->name);
    if (option->kind == OPTION_ENUM) {
        fprintf(out, " Cm ");
        for (const char *c = option->values; *c; c++)
            if (*c == '|')
                fprintf(out, " | ");
            else
                fputc(*c, out);
    } else if (s_takes_value(option)) {
        fprintf(out, " Ar ");
        for (const char *c = option->arg; *c; c++)
            fputc(tolower((unsigned char)*c), out);
    }
}

void options_roff(const options_spec_t *spec, FILE *out)
{
    const char *made_by =
        ".\\\" Made from the option table (%s --help=roff): edit the table,\n"
        ".\\\" then run scripts/man-options, not this section.\n";
    fprintf(out, ".Sh SYNOPSIS\n");
    fprintf(out, made_by, spec->program);
    fprintf(out, ".Nm\n");
    for (const option_t *option = spec->options; option->name; option++) {
        fprintf(out, option->required ? "." : ".Op ");
        s_roff_words(option, false, out);
        fprintf(out, "\n");
    }
    fprintf(out, ".Sh OPTIONS\n");
    fprintf(out, made_by, spec->program);
    fprintf(out, ".Bl -tag -width Ds\n");
    for (const option_t *option = spec->options; option->name; option++) {
        fprintf(out, ".It ");
        s_roff_words(option, true, out);
        fprintf(out, "\n");
        if (option->manual)
            fprintf(out, "%s\n", option->manual);
        else {
            //  The help line as a sentence.
            size_t length = strlen(option->help);
            fprintf(out, "%c%s%s\n", toupper((unsigned char)option->help[0]),
                    option->help + 1,
                    length && option->help[length - 1] == '.' ? "" : ".");
        }
    }
    fprintf(out, ".El\n");
    if (spec->manual_sections)
        spec->manual_sections(out);
}
