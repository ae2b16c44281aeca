/*
 * reword.c - entry point of the `reword` admin tool: dispatches to the
 * subcommands (taxonomy, explain, check).  The tool links only the core
 * library; it never talks to a running milter.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

#ifndef REWORD_VERSION
#define REWORD_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "usage: reword COMMAND [ARGS]\n"
            "\n"
            "  taxonomy [--json]                      list every reply code milter-reword knows\n"
            "  explain [-c FILE] [--stage S] [--source NAME] [--json] REPLY... | -\n"
            "                                         tell what SMTP replies mean (\"-\": one per "
            "line on stdin)\n"
            "  check [-c FILE] [--strict] [-v]        check a rule file against the code taxonomy\n"
            "  report [--since T] [--until T] [--top N] [--format text|json|html] [-o FILE] [-c "
            "FILE] FILE...\n"
            "                                         rejection report over maillogs and audit "
            "logs (.gz too)\n"
            "  postfix-footers [-c FILE] [-o OUT]     write a pcre table for Postfix's "
            "smtpd_reject_footer_maps\n"
            "  version                                print the version\n"
            "\n"
            "See reword(1).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "taxonomy") == 0)
        return cmd_taxonomy(argc - 1, argv + 1);
    if (strcmp(cmd, "explain") == 0)
        return cmd_explain(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "postfix-footers") == 0)
        return cmd_footers(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("reword %s\n", REWORD_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "reword: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
