/*
 * diag_ids.c - the one list of diagnostic ids (diag.h).  An id never
 * changes once released: admins grep for it, tests assert on it, the man
 * pages document each one (tests/cli/diag_ids.sh checks that every id here
 * is documented and used, and that every id the code passes is here), and
 * the fuzz targets check every diagnostic they see against this list.
 */
#include <string.h>

#include "diag.h"

const char *const diag_ids[] = {
    "action-code-mismatch",
    "bad-basic-code",
    "bad-cidr",
    "bad-code",
    "bad-continuation",
    "bad-enhanced-code",
    "bad-regex",
    "bad-template",
    "bad-type",
    "bare-percent",
    "class-mismatch",
    "control-char",
    "crlf-in-text",
    "deprecated-code",
    "duplicate-rule",
    "empty-rule",
    "engine-error",
    "enhanced-on-3xx",
    "enhanced-on-greeting",
    "footer-variable",
    "header-not-at-eom",
    "include-failed",
    "inconsistent-lines",
    "leading-zero",
    "line-too-long",
    "missing-name",
    "no-basic-code",
    "no-enhanced-code",
    "not-for-milter",
    "out-of-memory",
    "shadowed-rule",
    "success-in-reject",
    "syntax",
    "too-many-lines",
    "unknown-action",
    "unknown-basic-code",
    "unknown-key",
    "unknown-source",
    "unknown-stage",
    "unknown-variable",
    "unparseable",
    "unregistered-code",
    "unsafe-permissions",
    "unusual-pairing",
    NULL,
};

int diag_id_known(const char *id)
{
    for (size_t i = 0; id && diag_ids[i]; i++)
        if (strcmp(diag_ids[i], id) == 0)
            return 1;
    return 0;
}
