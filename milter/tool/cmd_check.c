/*
 * cmd_check.c - `reword check [-c FILE] [--strict]`: loads a rule file and
 * every include, checks it against the code taxonomy and prints every
 * finding as FILE:LINE: error|warning: message [id], sorted by file and
 * line.  Exit 0 when clean, 1 on errors (or on warnings with --strict).
 * -v lists the files read and their rules in the order they are tried,
 * and the files `exclude` left out.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "diag.h"
#include "footer.h"
#include "rules.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/milter-reword/milter-reword.conf"

void cmd_check_print_diags(const struct diag_list *dl, const char *indent)
{
    for (size_t i = 0; i < dl->n; i++) {
        const struct diag *d = &dl->v[i];
        if (d->file && d->line > 0)
            printf("%s%s:%d: %s: %s [%s]\n", indent, d->file, d->line,
                   diag_severity_name(d->severity), d->message, d->id);
        else if (d->file)
            printf("%s%s: %s: %s [%s]\n", indent, d->file, diag_severity_name(d->severity),
                   d->message, d->id);
        else
            printf("%s%s: %s [%s]\n", indent, diag_severity_name(d->severity), d->message, d->id);
    }
}

/* The files and rules of cfg in evaluation order (reword check -v). */
static void print_sources(const struct config *cfg)
{
    printf("# rules in the order they are tried (first match wins):\n");
    for (size_t i = 0; i < cfg->nsources; i++) {
        const struct config_source *s = &cfg->sources[i];
        if (s->excluded_by) {
            printf("# %*s%s: left out (exclude \"%s\")\n", 2 * s->depth, "", s->path,
                   s->excluded_by);
            continue;
        }
        printf("# %*s%s: %zu rule%s\n", 2 * s->depth, "", s->path, s->nrules,
               s->nrules == 1 ? "" : "s");
        for (size_t k = s->first_rule; k < s->first_rule + s->nrules && k < cfg->nrules; k++)
            printf("#   %*s%zu %s (line %d)\n", 2 * s->depth, "", k + 1, cfg->rules[k].name,
                   cfg->rules[k].line);
    }
}

int cmd_check(int argc, char **argv)
{
    const char *path = DEFAULT_CONFIG;
    int strict = 0, quiet = 0, verbose = 0;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--strict") == 0)
            strict = 1;
        else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
            quiet = 1;
        else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
            verbose = 1;
        else {
            fprintf(stderr, "usage: reword check [-c FILE] [--strict] [-q] [-v]\n");
            return 2;
        }
    }
    struct diag_list dl;
    diag_init(&dl);
    struct config *cfg = conf_load(path, &dl);
    if (cfg)
        footer_check(cfg, &dl); /* rules that also explain Postfix's own replies */
    diag_sort(&dl);
    cmd_check_print_diags(&dl, "");
    if (cfg && verbose)
        print_sources(cfg);
    size_t errors = diag_count(&dl, DIAG_ERROR);
    size_t warnings = diag_count(&dl, DIAG_WARNING);
    if (!quiet)
        fprintf(stderr, "%s: %zu error(s), %zu warning(s), %s\n", path, errors, warnings,
                cfg ? "loaded" : "NOT loaded");
    int status = (errors > 0 || cfg == NULL || (strict && warnings > 0)) ? 1 : 0;
    if (cfg)
        conf_unref(cfg);
    diag_free(&dl);
    return status;
}
