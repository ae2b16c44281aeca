/*
 * names.c - names of SMTP stages and rule actions, as written in the rule
 * file, in logs and in audit records.  Lookups ignore case.
 */
#include <strings.h>

#include "rules.h"

static const char *const stage_names[STAGE_COUNT] = {
    [STAGE_CONNECT] = "connect", [STAGE_HELO] = "helo", [STAGE_MAIL] = "mail",
    [STAGE_RCPT] = "rcpt",       [STAGE_DATA] = "data", [STAGE_HEADER] = "header",
    [STAGE_EOH] = "eoh",         [STAGE_BODY] = "body", [STAGE_EOM] = "eom",
    [STAGE_UNKNOWN] = "unknown",
};

static const char *const action_names[ACTION_COUNT] = {
    [ACTION_REWRITE] = "rewrite", [ACTION_REJECT] = "reject",   [ACTION_TEMPFAIL] = "tempfail",
    [ACTION_ACCEPT] = "accept",   [ACTION_DISCARD] = "discard", [ACTION_LOG] = "log",
};

const char *names_stage(enum stage s)
{
    if ((int)s >= 0 && s < STAGE_COUNT)
        return stage_names[s];
    return "any";
}

int names_stage_lookup(const char *name)
{
    if (name == NULL)
        return -1;
    if (strcasecmp(name, "any") == 0)
        return STAGE_COUNT;
    for (int i = 0; i < STAGE_COUNT; i++)
        if (strcasecmp(name, stage_names[i]) == 0)
            return i;
    return -1;
}

const char *names_action(enum action a)
{
    if ((int)a >= 0 && a < ACTION_COUNT)
        return action_names[a];
    return "?";
}

int names_action_lookup(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < ACTION_COUNT; i++)
        if (strcasecmp(name, action_names[i]) == 0)
            return i;
    return -1;
}
