/*
 * bench_rules.c - rule engine benchmark (`make bench`): load time of a
 * generated rule file and the median time to evaluate one reply at 10, 100,
 * 1,000 and 10,000 rules.  The rules look like an admin's: each matches a
 * basic code (spread over the common 4xx/5xx codes), some an enhanced code,
 * a stage and a case-insensitive text pattern; the replies evaluated match
 * the last rule of their code, or none, so the engine does its full work.
 * Prints figures; asserts nothing about speed.
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

static void bench(size_t n)
{
    char *text = make_rules(n);
    struct diag_list dl;
    diag_init(&dl);
    double t0 = now_ns();
    struct config *c = config_load_string(text, "bench.conf", &dl);
    double load_ms = (now_ns() - t0) / 1e6;
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
        enum { ROUNDS = 31 };
        size_t iters = n >= 10000 ? 200 : n >= 1000 ? 2000 : 20000;
        double per[ROUNDS];
        int matched = -2;
        for (int round = 0; round < ROUNDS; round++) {
            double s = now_ns();
            for (size_t it = 0; it < iters; it++) {
                struct decision d;
                decision_init(&d);
                matched = engine_eval(c, &ev, &d);
                decision_free(&d);
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
           n, load_ms, med[0], lo[0], hi[0], med[1], lo[1], hi[1]);
    config_unref(c);
    diag_free(&dl);
    free(text);
}

int main(int argc, char **argv)
{
    size_t sizes[] = { 10, 100, 1000, 10000 };
    if (argc > 1) {
        bench((size_t)strtoul(argv[1], NULL, 10));
        return 0;
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        bench(sizes[i]);
    return 0;
}
