/*
 * unit.h - what the cmocka unit tests share: loading a rule text that
 * must load, finding a diagnostic by id, and running a group of tests
 * with the CASE filter (`make unit T=engine CASE='test_index*'`: only the
 * cases whose names match the glob).  Include after <cmocka.h>.
 */
#ifndef REWORD_TEST_UNIT_H
#define REWORD_TEST_UNIT_H

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "rules.h"

#include "../lib/utf8_oracle.h"

/* The configuration in rule text `text` (as file "test.conf"); fails the
   test, printing every error with its line, when it does not load. */
static inline struct config *unit_load(const char *text)
{
    struct diag_list dl;
    diag_init(&dl);
    struct config *c = conf_load_string(text, "test.conf", &dl);
    for (size_t i = 0; c == NULL && i < dl.n; i++)
        print_error("test.conf:%d: %s [%s]\n", dl.v[i].line, dl.v[i].message, dl.v[i].id);
    diag_free(&dl);
    assert_non_null(c);
    return c;
}

/* The first diagnostic with id `id` in dl, or NULL. */
static inline const struct diag *unit_find_diag(const struct diag_list *dl, const char *id)
{
    for (size_t i = 0; i < dl->n; i++)
        if (strcmp(dl->v[i].id, id) == 0)
            return &dl->v[i];
    return NULL;
}

/* cmocka_run_group_tests, with the cases limited to the glob in $CASE. */
#define UNIT_RUN(tests, setup, teardown) \
    (getenv("CASE") && *getenv("CASE") ? cmocka_set_test_filter(getenv("CASE")) : (void)0, \
     cmocka_run_group_tests(tests, setup, teardown))

#endif
