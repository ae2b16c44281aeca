/*
 * rules.h - the rule file: configuration settings and the compiled rule set.
 *
 * The loader (milter/core/rules/conf_load.c) reads a libconfig file and its
 * includes, checks every rule against the code taxonomy, and compiles
 * patterns (PCRE2, JIT) and templates once.  The evaluator (engine.h) uses
 * the result read-only, so one `struct config` can be shared by many
 * sessions; it is reference counted so a reload can swap it while sessions
 * that started with the old one finish with it.
 *
 * Nothing here knows libmilter.
 */
#ifndef REWORD_RULES_H
#define REWORD_RULES_H

#include <stddef.h>
#include <netinet/in.h>

#include "diag.h"
#include "reply.h"

/* SMTP stages a rule can match; a rule holds a bit set of them. */
enum stage {
    STAGE_CONNECT = 0,
    STAGE_HELO,
    STAGE_MAIL,
    STAGE_RCPT,
    STAGE_DATA,
    STAGE_HEADER,
    STAGE_EOH,
    STAGE_BODY,
    STAGE_EOM,
    STAGE_UNKNOWN,
    STAGE_COUNT
};
#define STAGE_BIT(s) (1u << (s))
#define STAGES_ALL ((1u << STAGE_COUNT) - 1)

const char *names_stage(enum stage s);
int names_stage_lookup(const char *name); /* -1 if unknown; "any" -> STAGE_COUNT */

enum action {
    ACTION_REWRITE = 0, /* change the text of a reply that is being sent anyway */
    ACTION_REJECT,      /* own decision: 5xx */
    ACTION_TEMPFAIL,    /* own decision: 4xx */
    ACTION_ACCEPT,      /* own decision: accept, stop evaluating for this scope */
    ACTION_DISCARD,     /* own decision: accept and silently drop */
    ACTION_LOG,         /* audit only, change nothing */
    ACTION_COUNT
};
const char *names_action(enum action a);
int names_action_lookup(const char *name); /* -1 if unknown */

/* A compiled PCRE2 pattern (opaque outside the core). */
struct pattern;
struct pattern *pattern_compile(const char *src, char *err, size_t errlen, size_t *erroffset);
/* 1 match, 0 no (also for a NULL subject, or invalid UTF-8 under (*UTF)),
   -1 error (match limit exceeded, no memory).  Safe to call from many
   threads at once on the same pattern. */
int pattern_match(const struct pattern *p, const char *subject);
/* p's literal signature (prefilter.h) into *sig; 0 (and *sig all zero,
   which every subject passes) when it has none. */
struct prefilter_sig;
struct prefilter_gate;
int pattern_sig(const struct pattern *p, struct prefilter_sig *sig);
/* Gates rule i of g by p when p has no literal of its own but its
   top-level branches do (prefilter.h): 1 gated, 0 not, -1 no memory. */
int pattern_gate(const struct pattern *p, struct prefilter_gate *g, size_t i);
const char *pattern_source(const struct pattern *p);
void pattern_free(struct pattern *p);

/* A compiled template (opaque): literal text and %{variables}. */
struct template;
struct rule_index;

struct cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;
};

struct named_pattern { /* `macro` {name} = re, `header` Name: re */
    char *name;
    struct pattern *re;
    size_t bit; /* header conditions: index in engine_note_header's bits */
};

struct rule_match {
    unsigned stages;  /* STAGE_BIT set; STAGES_ALL when not given */
    char *source;     /* NULL or "any" = any; "self", "mta", or upstream name */
    int code;         /* exact basic code, or 0 */
    int code_class;   /* 2/4/5 for "5xx", or 0 */
    int has_enhanced; /* a code pattern given: class/subject/detail, -1 = "*" */
    int enh_class, enh_subject, enh_detail;
    int enh_none; /* "none" given: a reply without enhanced code matches too */
    struct pattern *text, *sender, *rcpt, *helo, *client_name;
    struct cidr *clients;
    size_t nclients;
    int auth;                   /* -1 not given, 0 must be unauthenticated, 1 authenticated */
    struct pattern *auth_login; /* `auth = "regex"`: authenticated with matching login */
    struct named_pattern *macros;
    size_t nmacros;
    struct named_pattern *headers;
    size_t nheaders; /* eom only */
};

struct rule_reply {
    int code;                /* 0 = derive (from original reply or action) */
    char *enhanced;          /* NULL = derive */
    struct template **lines; /* text (1 line) or `lines` (several); NULL/0 = derive */
    size_t nlines;
    struct template *footer; /* optional extra last line */
    char *url;               /* optional, appended as its own line */
};

struct rule {
    char *name;
    char *file; /* where it was defined (for diagnostics and audit) */
    int line;
    struct rule_match when;
    enum action action;
    int has_action; /* action given explicitly */
    int has_reply;
    struct rule_reply reply;
};

enum run_mode { MODE_ENFORCE = 0, MODE_AUDIT };

/* A rule file as loaded (see struct config: sources). */
struct config_source {
    char *path;
    size_t first_rule, nrules; /* its own rules: rules[first_rule ..] */
    int depth;                 /* 0 main file, 1 its includes, ... */
    char *excluded_by;         /* the `exclude` pattern that left it out, or NULL */
};

/* An upstream milter driven in proxy mode (`upstreams`, in chain order). */
struct upstream_conf {
    char *name;             /* used as `source` in rules and in the audit log */
    char *socket;           /* unix:PATH, local:PATH, inet:PORT@HOST, inet6:PORT@HOST */
    int connect_timeout;    /* seconds, default 5 */
    int timeout;            /* seconds per read/write, default 30 */
    enum action on_failure; /* ACTION_TEMPFAIL (default), ACTION_REJECT or ACTION_ACCEPT */
};
#define UPSTREAMS_MAX 16
#define UPSTREAM_DEFAULT_CONNECT_TIMEOUT 5
#define UPSTREAM_DEFAULT_TIMEOUT 30

struct config {
    int refs;   /* see conf_ref / conf_unref */
    char *path; /* main file */
    /* milter { } */
    char *socket;         /* default "unix:/run/milter-reword/milter-reword.sock" */
    enum run_mode mode;   /* default enforce */
    enum action on_error; /* ACTION_TEMPFAIL (default), ACTION_REJECT or ACTION_ACCEPT */
    int socket_mode;      /* default 0660 */
    char *user;           /* optional run-as user[:group] */
    char *pidfile;        /* optional */
    /* audit { } */
    char *syslog_facility; /* default "mail" */
    char *jsonl;           /* NULL = no JSON log */
    /* rules, in evaluation order: a file's own rules, then those of each
       file it includes (include list order, glob matches sorted by name,
       nested includes depth-first) */
    struct rule *rules;
    size_t nrules;
    /* the files read, in the same order, each with the range of its own
       rules; a file left out by `exclude` has excluded set and no rules */
    struct config_source *sources;
    size_t nsources;
    unsigned stages_used;            /* union of the stages of rules with an own action
                                       (policy rules): the events to ask the MTA for */
    struct upstream_conf *upstreams; /* proxy mode when nupstreams > 0 */
    size_t nupstreams;
    size_t nheader_conds;             /* header conditions of all rules (numbered by .bit) */
    struct rule_index *index;         /* candidate lists (rule_index.h); NULL: scan all */
    struct prefilter_sig *text_sigs;  /* per rule, its text pattern's literal (prefilter.h;
                                         all zero: none); NULL: no prefilter */
    struct prefilter_gate *text_gate; /* the alternations' branch literals; NULL: none */
    const uint64_t *text_gated;       /* its bitmap of gated rules (NULL with it), kept here
                                         so the engine's per-rule test stays inline */
};

/*
 * Loads and checks a configuration.  Every problem goes to dl as a
 * diagnostic with file and line (the ids are in diag_ids, diag.h; each is
 * explained in milter-reword.conf(5)).  Returns the config (refs = 1) when there are no errors,
 * NULL otherwise.  Warnings do not prevent loading.
 */
struct config *conf_load(const char *path, struct diag_list *dl);
/* Same, from a string; `name` is used as the file name in diagnostics. */
struct config *conf_load_string(const char *text, const char *name, struct diag_list *dl);
struct config *conf_ref(struct config *c);
void conf_unref(struct config *c);

#endif
