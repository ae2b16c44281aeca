/*
 * conf_perms.c - the unsafe-permissions check of the rule file loader:
 * whoever can write a rule file, or a directory the rules are read from,
 * decides what every sender is told and, with a reject rule, whose mail is
 * refused.  Like the checks Postfix and OpenSSH make of their own files, a
 * file or directory is unsafe when
 *   - others may write it (a directory with the sticky bit is fine for the
 *     files named in it, as others cannot replace them, but not as a glob's
 *     directory, where anyone could add a file that matches);
 *   - its group may write it, unless the group is root's (gid 0) or holds
 *     nobody but the owner (a user private group);
 *   - it belongs to somebody other than root or the user loading it.
 * Each path is reported once per load; the check is a warning: the admin
 * may have reasons, and the rules are loaded as they are.
 */
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/conf_int.h"

/* 1 when group gid has no member but the user uid (by primary group or
   by the member list). */
static int group_only_owner(gid_t gid, uid_t uid)
{
    struct group *gr = getgrgid(gid);
    struct passwd *pw = getpwuid(uid);
    if (gr == NULL || pw == NULL || pw->pw_gid != gid)
        return 0;
    for (char **m = gr->gr_mem; m && *m; m++)
        if (strcmp(*m, pw->pw_name) != 0)
            return 0;
    return 1;
}

static int seen_before(struct load_ctx *x, const char *path)
{
    for (size_t i = 0; i < x->perm_seen.n; i++)
        if (strcmp(x->perm_seen.v[i], path) == 0)
            return 1;
    strvec_pushn(&x->perm_seen, path, strlen(path));
    if (x->perm_seen.oom) {
        conf_diag(x, NULL, 0, "out-of-memory", DIAG_ERROR, "out of memory while loading");
        return 1;
    }
    return 0;
}

/* The name of group gid (is_group) or user uid, else its number in buf. */
static const char *id_name(int is_group, long id, char *buf, size_t len)
{
    struct group *gr = is_group ? getgrgid((gid_t)id) : NULL;
    struct passwd *pw = is_group ? NULL : getpwuid((uid_t)id);
    if (gr || pw)
        return gr ? gr->gr_name : pw->pw_name;
    snprintf(buf, len, "%ld", id);
    return buf;
}

void conf_check_perms(struct load_ctx *x, const char *path, enum perm_kind kind,
                      const char *rep_file, int rep_line)
{
    struct stat st;
    if (path == NULL || stat(path, &st) < 0 || seen_before(x, path))
        return;
    const char *what = kind == PERM_FILE ? "rule file" : "directory";
    int sticky_ok = kind == PERM_DIR_OF_FILE && (st.st_mode & S_ISVTX);
    char nbuf[32];
    if ((st.st_mode & S_IWOTH) && !sticky_ok)
        conf_diag(x, rep_file, rep_line, "unsafe-permissions", DIAG_WARNING,
                  "%s %s may be written by every user (mode %04o): whoever writes the rules "
                  "decides what senders are told and whose mail is refused; chmod o-w %s",
                  what, path, (unsigned)(st.st_mode & 07777), path);
    else if ((st.st_mode & S_IWGRP) && !sticky_ok && st.st_gid != 0
             && !group_only_owner(st.st_gid, st.st_uid))
        conf_diag(x, rep_file, rep_line, "unsafe-permissions", DIAG_WARNING,
                  "%s %s may be written by group %s (mode %04o): whoever writes the rules "
                  "decides what senders are told and whose mail is refused; chmod g-w %s",
                  what, path, id_name(1, (long)st.st_gid, nbuf, sizeof nbuf),
                  (unsigned)(st.st_mode & 07777), path);
    if (st.st_uid != 0 && st.st_uid != geteuid() && !sticky_ok)
        conf_diag(x, rep_file, rep_line, "unsafe-permissions", DIAG_WARNING,
                  "%s %s belongs to user %s, who can change it (and so the rules); make root "
                  "its owner",
                  what, path, id_name(0, (long)st.st_uid, nbuf, sizeof nbuf));
}
