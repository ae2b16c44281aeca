# gen-taxonomy.awk - turns conf/taxonomy/{enhanced,basic,groups}.tsv into the
# C tables behind include/taxonomy.h (build/gen/taxonomy_data.c).
#
#   awk -f tools/gen-taxonomy.awk conf/taxonomy/*.tsv > build/gen/taxonomy_data.c
#
# POSIX awk (mawk, gawk, busybox).  The files may come in any order; each is
# recognised by its base name.  Lines starting with '#' and empty lines are
# skipped.  A malformed row (wrong column count, bad code, empty explanation,
# duplicate) is reported as FILE:LINE: message on stderr, and the run exits 1
# without printing any C.

BEGIN {
    FS = "\t"
    nerr = 0
    ne = 0; nb = 0; nc = 0; ns = 0
    seen_enh = 0; seen_basic = 0; seen_groups = 0
}

function fail_at(where, msg) {
    printf "%s: %s\n", where, msg > "/dev/stderr"
    nerr++
}

function fail(msg) {
    fail_at(FILENAME ":" FNR, msg)
}

function basename(p,    parts, n) {
    n = split(p, parts, "/")
    return parts[n]
}

# C string literal for s: escapes backslash and double quote, and a '?' that
# follows another '?' (written ?\?), so no trigraph can form.
function cstr(s,    out, i, c, n) {
    out = ""
    n = length(s)
    for (i = 1; i <= n; i++) {
        c = substr(s, i, 1)
        if (c == "\\")
            out = out "\\\\"
        else if (c == "\"")
            out = out "\\\""
        else if (c == "?" && i > 1 && substr(s, i - 1, 1) == "?")
            out = out "\\?"
        else
            out = out c
    }
    return "\"" out "\""
}

# Checks shared by every table: text columns must not hold '%' in the
# explanation (it ends up in milter replies) and the explanation is required.
function check_explanation(s) {
    if (s ~ /^[ ]*$/) {
        fail("empty explanation")
        return 0
    }
    if (index(s, "%") > 0) {
        fail("explanation contains '%'")
        return 0
    }
    return 1
}

FNR == 1 {
    kind = basename(FILENAME)
    if (kind == "enhanced.tsv")
        seen_enh = 1
    else if (kind == "basic.tsv")
        seen_basic = 1
    else if (kind == "groups.tsv")
        seen_groups = 1
    else
        fail("unknown taxonomy file (expected enhanced.tsv, basic.tsv or groups.tsv)")
}

{ sub(/\r$/, "") }
/^#/ || /^[ ]*$/ { next }

kind == "enhanced.tsv" {
    if (NF != 6) { fail("expected 6 tab-separated columns, found " NF); next }
    if ($1 !~ /^X\.[0-9]+\.[0-9]+$/) { fail("bad enhanced code '" $1 "' (want X.S.D)"); next }
    if ($5 != "0" && $5 != "1") { fail("deprecated must be 0 or 1, not '" $5 "'"); next }
    if ($3 != "" && $3 !~ /^(Any|[2-5]XX|[2-5][0-9][0-9])(;(Any|[2-5]XX|[2-5][0-9][0-9]))*$/) {
        fail("bad associated basic codes '" $3 "'"); next
    }
    if (!check_explanation($6)) next
    split($1, p, ".")
    key = (p[2] + 0) "." (p[3] + 0)
    if (key in enh_seen) { fail("duplicate enhanced code " $1); next }
    enh_seen[key] = 1
    ne++
    e_code[ne] = $1; e_subj[ne] = p[2] + 0; e_det[ne] = p[3] + 0
    e_sample[ne] = $2; e_assoc[ne] = $3; e_ref[ne] = $4
    e_dep[ne] = $5 + 0; e_expl[ne] = $6
    next
}

kind == "basic.tsv" {
    if (NF != 4) { fail("expected 4 tab-separated columns, found " NF); next }
    if ($1 !~ /^[2-5][0-9][0-9]$/) { fail("bad basic code '" $1 "'"); next }
    if ($2 == "") { fail("empty meaning"); next }
    if (!check_explanation($4)) next
    if (($1 + 0) in basic_seen) { fail("duplicate basic code " $1); next }
    basic_seen[$1 + 0] = 1
    nb++
    b_code[nb] = $1 + 0; b_mean[nb] = $2; b_ref[nb] = $3; b_expl[nb] = $4
    next
}

kind == "groups.tsv" {
    if (NF != 4) { fail("expected 4 tab-separated columns, found " NF); next }
    if ($2 !~ /^[0-9]+$/) { fail("bad number '" $2 "'"); next }
    if ($3 == "") { fail("empty summary"); next }
    if (!check_explanation($4)) next
    if ($1 == "class") {
        if ($2 != "2" && $2 != "4" && $2 != "5") { fail("class must be 2, 4 or 5"); next }
        if (($2 + 0) in class_seen) { fail("duplicate class " $2); next }
        class_seen[$2 + 0] = 1
        nc++
        c_num[nc] = $2 + 0; c_sum[nc] = $3; c_expl[nc] = $4
    } else if ($1 == "subject") {
        if (($2 + 0) > 999) { fail("subject out of range"); next }
        if (($2 + 0) in subj_seen) { fail("duplicate subject " $2); next }
        subj_seen[$2 + 0] = 1
        ns++
        s_num[ns] = $2 + 0; s_sum[ns] = $3; s_expl[ns] = $4
    } else {
        fail("kind must be 'class' or 'subject', not '" $1 "'")
    }
    next
}

function group_table(name, n, num, sum, expl,    i) {
    printf "static const struct tax_group %s[] = {\n", name
    for (i = 1; i <= n; i++)
        printf "    { .number = %d, .summary = %s,\n      .explanation = %s },\n", \
            num[i], cstr(sum[i]), cstr(expl[i])
    printf "};\n\n"
}

function accessors(prefix, type, table) {
    printf "size_t %s_count(void)\n{\n    return sizeof %s / sizeof %s[0];\n}\n\n", \
        prefix, table, table
    printf "const struct %s *%s_at(size_t i)\n{\n", type, prefix
    printf "    return i < sizeof %s / sizeof %s[0] ? &%s[i] : NULL;\n}\n\n", table, table, table
}

END {
    if (!seen_enh) fail_at("gen-taxonomy", "enhanced.tsv not given")
    if (!seen_basic) fail_at("gen-taxonomy", "basic.tsv not given")
    if (!seen_groups) fail_at("gen-taxonomy", "groups.tsv not given")
    if (nerr == 0) {
        if (ne == 0) fail_at("gen-taxonomy", "enhanced.tsv has no rows")
        if (nb == 0) fail_at("gen-taxonomy", "basic.tsv has no rows")
        if (nc == 0 || ns == 0)
            fail_at("gen-taxonomy", "groups.tsv needs both class and subject rows")
    }
    if (nerr > 0) {
        printf "gen-taxonomy: %d error(s), no output\n", nerr > "/dev/stderr"
        exit 1
    }

    # a // comment: "/*" inside a /* comment trips -Wcomment
    print "// generated by tools/gen-taxonomy.awk from conf/taxonomy/*.tsv, do not edit"
    print "#include <stddef.h>"
    print ""
    print "#include \"taxonomy.h\""
    print ""
    print "static const struct tax_enhanced tax_enhanced_table[] = {"
    for (i = 1; i <= ne; i++) {
        printf "    { .code = %s, .subject = %d, .detail = %d,\n" \
               "      .sample_text = %s,\n" \
               "      .assoc = %s, .reference = %s, .deprecated = %d,\n" \
               "      .explanation = %s },\n", \
            cstr(e_code[i]), e_subj[i], e_det[i], cstr(e_sample[i]), \
            cstr(e_assoc[i]), cstr(e_ref[i]), e_dep[i], cstr(e_expl[i])
    }
    print "};"
    print ""
    print "static const struct tax_basic tax_basic_table[] = {"
    for (i = 1; i <= nb; i++)
        printf "    { .code = %d, .meaning = %s,\n      .reference = %s,\n      .explanation = %s },\n", \
            b_code[i], cstr(b_mean[i]), cstr(b_ref[i]), cstr(b_expl[i])
    print "};"
    print ""
    group_table("tax_class_table", nc, c_num, c_sum, c_expl)
    group_table("tax_subject_table", ns, s_num, s_sum, s_expl)
    accessors("tax_enhanced", "tax_enhanced", "tax_enhanced_table")
    accessors("tax_basic", "tax_basic", "tax_basic_table")
    accessors("tax_class", "tax_group", "tax_class_table")
    accessors("tax_subject", "tax_group", "tax_subject_table")
}
