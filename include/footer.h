/*
 * footer.h - Postfix's own rejections explained: turns the rules that can
 * apply to the MTA's replies into a `pcre:` table for Postfix's
 * smtpd_reject_footer_maps (Postfix 3.4+).  Postfix looks the table up
 * with the complete reply text ("550 5.1.1 <a@b>: ... User unknown ...")
 * and appends the result as a footer line.  A milter cannot change these
 * replies; the footer is how milter-reword's explanations reach them.
 */
#ifndef REWORD_FOOTER_H
#define REWORD_FOOTER_H

#include <stdio.h>

#include "diag.h"
#include "rules.h"

/*
 * Checks the rules that would be exported (source mta or any, matching on
 * code/enhanced/text, action rewrite/log): template variables Postfix
 * cannot fill (%{queue_id}, %{macro:...}, %{code}/%{enhanced} the rule does
 * not fix) are an error for source = "mta" rules and a warning (rule not
 * exported) for source = "any" rules; id footer-variable.
 */
void footer_check(const struct config *c, struct diag_list *dl);

/* Writes the pcre table; returns the number of entries written, -1 on error. */
int footer_export(const struct config *c, FILE *out);

/* For tests: the lookup key regex and footer text of one rule, malloc'd;
   0 when exportable, -1 (and a reason in why) when not. */
int footer_rule(const struct rule *r, char **key, char **value, const char **why);

#endif
