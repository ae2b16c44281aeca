/*
 * cmd_footers.c - `reword postfix-footers -c FILE [-o OUT]`: writes the
 * Postfix smtpd_reject_footer_maps pcre table made from the rules (see
 * footer.h), so Postfix's own rejections, which no milter can change, carry
 * milter-reword's explanation as a footer line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "footer.h"
#include "rules.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

int cmd_footers(int argc, char **argv)
{
    const char *path = SYSCONFDIR "/milter-reword/milter-reword.conf", *outpath = NULL;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            outpath = argv[++i];
        else {
            fprintf(stderr, "usage: reword postfix-footers [-c FILE] [-o OUT]\n");
            return 2;
        }
    }
    struct diag_list dl;
    diag_init(&dl);
    struct config *c = conf_load(path, &dl);
    if (c)
        footer_check(c, &dl);
    diag_sort(&dl);
    if (c == NULL || diag_count(&dl, DIAG_ERROR) > 0) {
        cmd_check_print_diags(&dl, "");
        fprintf(stderr, "reword postfix-footers: %s has errors; no table written\n", path);
        if (c)
            conf_unref(c);
        diag_free(&dl);
        return 1;
    }
    diag_free(&dl);
    /* Write to a temporary file and rename, so Postfix never reads half a table. */
    char tmp[4096];
    FILE *out = stdout;
    if (outpath) {
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", outpath, (long)getpid());
        out = fopen(tmp, "w");
        if (out == NULL) {
            fprintf(stderr, "reword postfix-footers: %s: %s\n", tmp, strerror(errno));
            conf_unref(c);
            return 1;
        }
    }
    int n = footer_export(c, out);
    int bad = n < 0;
    if (outpath) {
        bad |= fclose(out) != 0;
        if (!bad && rename(tmp, outpath) != 0)
            bad = 1;
        if (bad) {
            fprintf(stderr, "reword postfix-footers: cannot write %s: %s\n", outpath,
                    strerror(errno));
            unlink(tmp);
        }
    }
    if (!bad)
        fprintf(stderr, "reword postfix-footers: %d entries from %s\n", n, path);
    conf_unref(c);
    return bad ? 1 : 0;
}
