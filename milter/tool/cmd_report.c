/*
 * cmd_report.c - `reword report [--since T] [--until T] [--top N]
 * [--format text|json|html] [-o FILE] [-c CONFIG] FILE...`: the rejection
 * report over Postfix maillogs and milter-reword audit logs (plain or
 * gzip, "-" for stdin).  The reading and counting is in the core
 * (report.c); this file reads the options, feeds the files to the core and
 * hands the counters, as tables, to one of the three output formats:
 *   text  aligned tables for a terminal, with bars (report_text.c);
 *   json  one object with the totals and an array per table (report_json.c);
 *   html  one self-contained page (inline CSS, inline SVG timeline, no
 *         JavaScript, no external assets), every string escaped
 *         (report_html.c).
 * The maillog and the audit log describe the same rejections from two
 * sides, so when both are given every table shows them in two columns
 * instead of adding them up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "report.h"
#include "report_out.h"
#include "rules.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: reword report [--since T] [--until T] [--top N] "
            "[--format text|json|html] [-o FILE] [-c CONFIG] FILE...\n"
            "  FILE: Postfix maillog or milter-reword audit log, plain or gzip; - for stdin\n"
            "  T: YYYY-MM-DD, \"YYYY-MM-DD HH:MM\", or back from now: 90m, 24h, 7d, 2w\n");
    return 2;
}

/* "--opt VALUE" or "--opt=VALUE"; advances *i. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (*i >= argc || argv[*i] == NULL || strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

int cmd_report(int argc, char **argv)
{
    const char *format = "text", *outpath = NULL, *config = NULL, *v;
    long top = 10;
    time_t now = time(NULL), since = 0, until = 0;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    int nfiles = 0, dashdash = 0;
    if (files == NULL)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (dashdash || a[0] != '-' || strcmp(a, "-") == 0) {
            files[nfiles++] = argv[i];
        } else if (strcmp(a, "--") == 0) {
            dashdash = 1;
        } else if ((v = opt_value(argc, argv, &i, "--since")) != NULL
                   || (v = opt_value(argc, argv, &i, "--until")) != NULL) {
            if (report_parse_time(v, now, a[2] == 's' ? &since : &until) < 0) {
                fprintf(stderr,
                        "reword report: bad time '%s' (YYYY-MM-DD, \"YYYY-MM-DD HH:MM\", "
                        "90m, 24h, 7d, 2w)\n",
                        v);
                free(files);
                return 2;
            }
        } else if ((v = opt_value(argc, argv, &i, "--top")) != NULL) {
            char *end;
            top = strtol(v, &end, 10);
            if (*end || top < 1) {
                free(files);
                return usage();
            }
        } else if ((v = opt_value(argc, argv, &i, "--format")) != NULL) {
            format = v;
        } else if ((v = opt_value(argc, argv, &i, "-o")) != NULL
                   || (v = opt_value(argc, argv, &i, "--output")) != NULL) {
            outpath = v;
        } else if ((v = opt_value(argc, argv, &i, "-c")) != NULL
                   || (v = opt_value(argc, argv, &i, "--config")) != NULL) {
            config = v;
        } else {
            free(files);
            return usage();
        }
    }
    if (nfiles == 0
        || (strcmp(format, "text") != 0 && strcmp(format, "json") != 0
            && strcmp(format, "html") != 0)) {
        free(files);
        return usage();
    }
    if (since && until && until <= since) {
        fprintf(stderr, "reword report: --until is not after --since\n");
        free(files);
        return 2;
    }
    struct config *cfg = NULL;
    if (config) {
        struct diag_list dl;
        diag_init(&dl);
        cfg = conf_load(config, &dl);
        if (cfg == NULL) {
            diag_sort(&dl);
            cmd_check_print_diags(&dl, "");
            diag_free(&dl);
            free(files);
            return 1;
        }
        diag_free(&dl);
    }
    struct report r;
    report_init(&r);
    r.since = since;
    r.until = until;
    r.cfg = cfg;
    int status = 0;
    for (int i = 0; i < nfiles; i++)
        if (report_file(&r, files[i]) < 0) {
            const char *why = r.ninputs && r.inputs[r.ninputs - 1].failed
                                  ? r.inputs[r.ninputs - 1].error
                                  : strerror(errno);
            fprintf(stderr, "reword report: %s: %s\n", files[i], why);
            status = 1;
        }
    FILE *o = outpath && strcmp(outpath, "-") != 0 ? fopen(outpath, "w") : stdout;
    if (o == NULL) {
        fprintf(stderr, "reword report: %s: %s\n", outpath, strerror(errno));
        report_free(&r);
        if (cfg)
            conf_unref(cfg);
        free(files);
        return 1;
    }
    struct out x = {.o = o,
                    .r = &r,
                    .top = (size_t)top,
                    .files = files,
                    .nfiles = nfiles,
                    .config = config,
                    .since = since,
                    .until = until};
    x.both = r.rejections[REPORT_MAILLOG] && r.rejections[REPORT_AUDIT];
    x.kind = !x.both && r.rejections[REPORT_AUDIT] ? REPORT_AUDIT : REPORT_MAILLOG;
    const struct table tables[] = {
        {"by_class", "By class", "Class", &r.by_class, M_CLASS, 0, 0, 0, "No rejections found."},
        {"by_stage", "By SMTP stage", "Stage", &r.by_stage, M_NONE, 0, 1, 0, NULL},
        {"by_enhanced", "By enhanced status code", "Code", &r.by_enhanced, M_ENHANCED, 1, 1, 1,
         NULL},
        {"by_reason", "Top reasons (reply text; addresses, hosts and URL paths as *)", "Reason",
         &r.by_reason, M_NONE, 1, 1, 1, NULL},
        {"by_source", "By source", "Source", &r.by_source, M_SOURCE, 0, 1, 1, NULL},
        {"by_rule", "By rule", "Rule", &r.by_rule, M_NONE, 1, 1, 0,
         "No rule names: they come from milter-reword's audit log, or from -c CONFIG "
         "(maillog lines matched against your rules)."},
        {"by_action", "Audit log: by action", "Action", &r.by_action, M_NONE, 0, 1, 0, NULL},
        {"top_clients", "Top clients", "Client", &r.by_client, M_NONE, 1, 1, 0, NULL},
        {"top_domains", "Top recipient domains", "Domain", &r.by_domain, M_NONE, 1, 1, 0, NULL},
    };
    size_t nt = sizeof tables / sizeof tables[0];
    if (strcmp(format, "json") == 0)
        report_json_write(&x, tables, nt);
    else if (strcmp(format, "html") == 0)
        report_html_write(&x, tables, nt);
    else
        report_text_write(&x, tables, nt);
    int werr = ferror(o);
    int cerr = o == stdout ? fflush(o) : fclose(o);
    if (werr || cerr != 0) {
        fprintf(stderr, "reword report: %s: %s\n", outpath ? outpath : "(stdout)", strerror(errno));
        status = 1;
    }
    report_free(&r);
    if (cfg)
        conf_unref(cfg);
    free(files);
    return status;
}
