/*
 * bench_rules.c - rule engine benchmark (`make bench`): load time of a
 * generated rule file and the median time to evaluate one reply at 10, 100,
 * 1,000 and 10,000 rules.  The rules look like an admin's: each matches a
 * basic code (spread over the common 4xx/5xx codes), some an enhanced code,
 * a stage and a case-insensitive text pattern; the replies evaluated match
 * the last rule of their code, or none, so the engine does its full work.
 * `--shipped CONF CORPUS.tsv...`: the shipped configuration's load time
 * and its median per reply over the corpus of real texts.
 * Prints figures; asserts nothing about speed.  With BENCH_RESULTS set,
 * also appends them to that file in bench/lib.sh's format for the summary
 * table of `make bench`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "rules.h"
#include "strbuf.h"

static const int codes[] = { 421, 450, 451, 452, 454, 550, 551, 552, 553, 554 };
#define NCODES (sizeof codes / sizeof codes[0])

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static char *make_rules(size_t n)
{
    struct strbuf sb;
    sb_init(&sb);
    sb_puts(&sb, "rules = (\n");
    for (size_t i = 0; i < n; i++) {
        int code = codes[i % NCODES];
        sb_printf(&sb, "  { name = \"r%zu\"; when = { source = \"any\"; code = \"%d\"; "
                  "text = \"(?i)problem number %zu\\\\b\"; };\n"
                  "    reply = { enhanced = \"%d.7.1\"; text = \"Rule %zu explains: %%{text}\"; }; }%s\n",
                  i, code, i, code / 100, i, i + 1 < n ? "," : "");
    }
    sb_puts(&sb, ");\n");
    return sb_steal(&sb);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* one line of bench/lib.sh's results format; goal may be "" */
static void record(const char *key, const char *label, const char *unit, int n,
                   double med, double lo, double hi, const char *goal)
{
    const char *path = getenv("BENCH_RESULTS");
    FILE *fp;
    if (path == NULL || *path == '\0' || (fp = fopen(path, "a")) == NULL)
        return;
    fprintf(fp, "rule engine\t%s\t%s\t%s\t%d\t%.3f\t%.3f\t%.3f\t\t%s\n",
            key, label, unit, n, med, lo, hi, goal);
    fclose(fp);
}

/* loads the rule text LOADS times; returns the last config, the load
 * times' median/min/max in ms */
enum { LOADS = 5, ROUNDS = 31 };
static struct config *load_timed(const char *text, struct diag_list *dl, double ms[3])
{
    double t[LOADS];
    struct config *c = NULL;
    for (int i = 0; i < LOADS; i++) {
        if (c != NULL)
            conf_unref(c);
        diag_free(dl);
        diag_init(dl);
        double t0 = now_ns();
        c = conf_load_string(text, "bench.conf", dl);
        t[i] = (now_ns() - t0) / 1e6;
        if (c == NULL)
            break;
    }
    qsort(t, LOADS, sizeof t[0], cmp_double);
    ms[0] = t[LOADS / 2];
    ms[1] = t[0];
    ms[2] = t[LOADS - 1];
    return c;
}

static void bench(size_t n)
{
    char *text = make_rules(n);
    struct diag_list dl;
    diag_init(&dl);
    double load[3];
    struct config *c = load_timed(text, &dl, load);
    if (c == NULL) {
        fprintf(stderr, "bench: generated rules did not load (%zu diagnostics)\n", dl.n);
        for (size_t i = 0; i < dl.n && i < 5; i++)
            fprintf(stderr, "  %s:%d: %s [%s]\n", dl.v[i].file, dl.v[i].line, dl.v[i].message, dl.v[i].id);
        exit(1);
    }
    /* a reply that matches the last rule with code 550, and one that matches none */
    size_t last550 = 0;
    for (size_t i = 0; i < n; i++)
        if (codes[i % NCODES] == 550)
            last550 = i;
    char hit[128], miss[] = "550 5.1.1 <someone@example.org>: Recipient address rejected: unrelated";
    snprintf(hit, sizeof hit, "550 Problem number %zu occurred", last550);
    const char *inputs[2] = { hit, miss };
    double med[2], lo[2], hi[2];
    for (int k = 0; k < 2; k++) {
        struct reply r;
        reply_init(&r);
        reply_parse(inputs[k], &r, NULL);
        struct session_facts f;
        memset(&f, 0, sizeof f);
        struct event ev = { .stage = STAGE_RCPT, .source = "mta", .orig = &r, .facts = &f };
        size_t iters = n >= 10000 ? 200 : n >= 1000 ? 2000 : 20000;
        double per[ROUNDS];
        int matched = -2;
        for (int round = 0; round < ROUNDS; round++) {
            double s = now_ns();
            for (size_t it = 0; it < iters; it++) {
                struct decision d;
                engine_decision_init(&d);
                matched = engine_eval(c, &ev, &d);
                engine_decision_free(&d);
            }
            per[round] = (now_ns() - s) / iters / 1000.0;
        }
        qsort(per, ROUNDS, sizeof per[0], cmp_double);
        med[k] = per[ROUNDS / 2];
        lo[k] = per[0];
        hi[k] = per[ROUNDS - 1];
        if ((k == 0 && matched != 1) || (k == 1 && matched != 0)) {
            fprintf(stderr, "bench: unexpected match result %d for %s\n", matched, inputs[k]);
            exit(1);
        }
        reply_free(&r);
    }
    printf("rules %6zu  load %8.2f ms  eval(hit last) median %8.3f us [%.3f..%.3f]  "
           "eval(no match) median %8.3f us [%.3f..%.3f]\n",
           n, load[0], med[0], lo[0], hi[0], med[1], lo[1], hi[1]);
    char key[64], label[96];
    snprintf(key, sizeof key, "eval-hit-%zu", n);
    snprintf(label, sizeof label, "eval, %zu rules, hit the last rule", n);
    record(key, label, "us", ROUNDS, med[0], lo[0], hi[0],
           n == 1000 ? "median<=1" : n == 10000 ? "median<=5" : "");
    snprintf(key, sizeof key, "eval-miss-%zu", n);
    snprintf(label, sizeof label, "eval, %zu rules, no rule matches", n);
    record(key, label, "us", ROUNDS, med[1], lo[1], hi[1], "");
    if (n >= 1000) {
        snprintf(key, sizeof key, "load-%zu", n);
        snprintf(label, sizeof label, "load a %zu-rule file", n);
        record(key, label, "ms", LOADS, load[0], load[1], load[2], n == 10000 ? "median<=200" : "");
    }
    conf_unref(c);
    diag_free(&dl);
    free(text);
}

/* The shipped configuration (every pack) on the corpus of real texts:
   its load time and the median over the corpus replies of the time one
   evaluation takes (each reply timed over many evaluations). */
static void bench_shipped(const char *conf, char **files, int nfiles)
{
    double t[LOADS];
    struct config *c = NULL;
    struct diag_list dl;
    diag_init(&dl);
    for (int i = 0; i < LOADS; i++) {
        if (c)
            conf_unref(c);
        diag_free(&dl);
        diag_init(&dl);
        double t0 = now_ns();
        c = conf_load(conf, &dl);
        t[i] = (now_ns() - t0) / 1e6;
        if (c == NULL) {
            fprintf(stderr, "bench: %s does not load\n", conf);
            exit(1);
        }
    }
    qsort(t, LOADS, sizeof t[0], cmp_double);
    size_t cap = 0, n = 0;
    char **replies = NULL;
    for (int fi = 0; fi < nfiles; fi++) {
        FILE *f = fopen(files[fi], "r");
        if (f == NULL)
            continue;
        char line[8192];
        int first = 1;
        while (fgets(line, sizeof line, f)) {
            if (first || line[0] == '#') {
                first = 0;
                continue;
            }
            char *col = line;
            for (int k = 0; k < 3 && col; k++)
                col = strchr(col, '\t') ? strchr(col, '\t') + 1 : NULL;
            char *end = col ? strchr(col, '\t') : NULL;
            if (end == NULL)
                continue;
            *end = '\0';
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                replies = realloc(replies, cap * sizeof *replies);
                if (replies == NULL)
                    exit(1);
            }
            replies[n++] = strdup(col);
        }
        fclose(f);
    }
    double *per = calloc(n ? n : 1, sizeof *per);
    size_t iters = 2000;
    for (size_t i = 0; i < n && per; i++) {
        struct reply r;
        reply_init(&r);
        reply_parse(replies[i], &r, NULL);
        struct event ev = { .stage = STAGE_RCPT, .source = "mta", .orig = &r, .facts = NULL };
        double s0 = now_ns();
        for (size_t it = 0; it < iters; it++) {
            struct decision d;
            engine_decision_init(&d);
            engine_eval(c, &ev, &d);
            engine_decision_free(&d);
        }
        per[i] = (now_ns() - s0) / iters / 1000.0;
        reply_free(&r);
    }
    qsort(per, n, sizeof *per, cmp_double);
    double med = n ? per[n / 2] : 0, lo = n ? per[0] : 0, hi = n ? per[n - 1] : 0;
    double p90 = n ? per[n * 9 / 10] : 0;
    printf("shipped config: %zu rules, load %.2f ms [%.2f..%.2f]; %zu corpus replies: "
           "eval median %.3f us, p90 %.3f us [%.3f..%.3f]\n",
           c->nrules, t[LOADS / 2], t[0], t[LOADS - 1], n, med, p90, lo, hi);
    record("load-shipped", "load the shipped configuration (every pack)", "ms", LOADS,
           t[LOADS / 2], t[0], t[LOADS - 1], "median<=20");
    record("eval-corpus", "eval, shipped config, corpus replies (median of replies)", "us",
           (int)n, med, lo, hi, "median<=2");
    for (size_t i = 0; i < n; i++)
        free(replies[i]);
    free(replies);
    free(per);
    conf_unref(c);
    diag_free(&dl);
}

int main(int argc, char **argv)
{
    size_t sizes[] = { 10, 100, 1000, 10000 };
    if (argc > 2 && strcmp(argv[1], "--shipped") == 0) {
        bench_shipped(argv[2], argv + 3, argc - 3);
        return 0;
    }
    if (argc > 1) {
        bench((size_t)strtoul(argv[1], NULL, 10));
        return 0;
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        bench(sizes[i]);
    return 0;
}
