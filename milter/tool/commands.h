/*
 * commands.h - the subcommands of the `reword` admin tool.  Each takes the
 * arguments after its name (argv[0] is the subcommand) and returns the exit
 * status: 0 success, 1 a finding (bad reply, config errors), 2 usage error.
 */
#ifndef REWORD_TOOL_COMMANDS_H
#define REWORD_TOOL_COMMANDS_H

int cmd_taxonomy(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_footers(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Prints diagnostics as FILE:LINE: severity: message [id] (or, without a file,
   "severity: message [id]") to stdout, sorted. */
struct diag_list;
void cmd_check_print_diags(const struct diag_list *dl, const char *indent);

#endif
