/*
 * conf_int.h - private to the rule file loader (conf_load.c) and its
 * checks (conf_check.c).  Not part of the core's API.
 */
#ifndef REWORD_CONFIG_INT_H
#define REWORD_CONFIG_INT_H

#include <libconfig.h>

#include "rules.h"
#include "util/strvec.h"

#define INCLUDE_MAX_DEPTH 8        /* nested includes; deeper is an include loop */
#define SHADOW_CANDIDATES_MAX 1000 /* bounds the shadowed-rule check on huge files */

/* What the loader knows about a rule beyond struct rule: where its parts are. */
struct rule_aux {
    int failed;              /* had an error: left out of the set-wide checks */
    int line_code, line_enh; /* when.code, when.enhanced (0 if absent) */
    int line_action;
    int line_reply, line_rcode, line_renh, line_lines;
    int has_when;
};

struct load_ctx {
    struct config *cfg;
    struct diag_list *dl;
    size_t dl_start; /* dl->n when loading began */
    size_t nerr;     /* errors found (also those dl could not store) */
    size_t cap;      /* allocated length of cfg->rules and aux */
    struct rule_aux *aux;
    const char *cur_file; /* file being read, for settings without one */
    char **upstreams;     /* names from `upstreams`, for unknown-source */
    size_t nupstreams;
    char *stack[INCLUDE_MAX_DEPTH + 2]; /* real paths of the files being read */
    int depth;
    struct strvec exclude;   /* the main file's `exclude` patterns */
    struct strvec perm_seen; /* paths the permission check has looked at */
    size_t sources_cap;
};

void conf_diag(struct load_ctx *x, const char *file, int line, const char *id,
               enum diag_severity sev, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Errors dl holds beyond those counted in x->nerr since index `from`. */
int conf_new_errors(const struct load_ctx *x, size_t from);

const char *conf_file(const struct load_ctx *x, const config_setting_t *s);
int conf_line(const config_setting_t *s);
const char *conf_type_name(int type);
/* "rule \"name\"" or "the unnamed rule at line N", into buf. */
const char *conf_rule_label(const struct rule *r, char *buf, size_t len);
/* Reports unknown keys of group g (known: NULL-terminated list). */
void conf_check_keys(struct load_ctx *x, const config_setting_t *g, const char *const *known,
                     const char *where, enum diag_severity sev);
void conf_bad_type(struct load_ctx *x, const config_setting_t *s, const char *what,
                   const char *want);
/* The string value of s, or NULL after a bad-type error. */
const char *conf_string(struct load_ctx *x, const config_setting_t *s, const char *what);
/* Calls fn for each string of a string or an array/list of strings. */
typedef void (*ld_string_fn)(struct load_ctx *x, const config_setting_t *s, const char *v,
                             void *arg);
void conf_for_strings(struct load_ctx *x, const config_setting_t *s, const char *what,
                      ld_string_fn fn, void *arg);
char *conf_strdup(struct load_ctx *x, const char *s); /* error on no memory */
/* Grows *v (of *cap elements of size sz) to hold n + 1; -1 on no memory. */
int conf_grow(struct load_ctx *x, void **v, size_t *cap, size_t n, size_t sz);

/* conf_perms.c: unsafe-permissions warnings for a path the rules come from,
   reported at rep_file:rep_line; each path once per load. */
enum perm_kind {
    PERM_FILE,        /* a rule file */
    PERM_DIR_OF_FILE, /* the directory a named rule file is in */
    PERM_DIR_OF_GLOB  /* a directory whose entries a glob reads */
};
void conf_check_perms(struct load_ctx *x, const char *path, enum perm_kind kind,
                      const char *rep_file, int rep_line);

/* conf_upstream.c: `upstreams` into cfg->upstreams (and names into x) */
void conf_read_upstreams(struct load_ctx *x, const config_setting_t *u);
void conf_free_upstreams(struct config *c);

/* conf_rule.c */
struct rule_build { /* the rule being built */
    struct rule *r;
    struct rule_aux *a;
    char label[160]; /* for messages: rule "name" */
};
/* Basic code "550" (or with cls != NULL also a class "5xx"): 0 ok, -1 bad. */
int conf_parse_basic_code(const char *s, int *code, int *cls);
int conf_basic_code_ok(long long v);
/* "5.7.1", or with wild != 0 also "5.7.*", "5.*.*" (-1 for "*"). 0 ok, -1 bad. */
int conf_parse_enhanced(const char *s, int wild, int *cls, int *subject, int *detail);
void conf_build_rules(struct load_ctx *x, const config_setting_t *rules);
void conf_build_reply(struct load_ctx *x, struct rule_build *b, const config_setting_t *g);
void conf_free_rule(struct rule *r);
void conf_free_rule_reply(struct rule_reply *rr);

/* conf_check.c */
/* The reply of one rule against its action and the code taxonomy. */
void conf_check_rule_reply(struct load_ctx *x, const struct rule *r, const struct rule_aux *a);
/* Across rules: duplicate-rule, shadowed-rule. */
void conf_check_rule_set(struct load_ctx *x);
/* Reports syntax errors libconfig 1.5 would leak memory on; -1 if one was found. */
int conf_precheck_syntax(struct load_ctx *x, const char *text, const char *file);

#endif
