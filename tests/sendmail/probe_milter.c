/*
 * probe_milter.c - test fixture for tests/sendmail/t_sendmail_behaviour.sh:
 * a libmilter filter that makes the raw milter answers milter-reword avoids
 * or shapes (bare REJECT/TEMPFAIL without a reply, a lone "%", 421, a reply
 * at connect and HELO), so that the test can record what sendmail itself
 * sends to the client in each case.
 *
 * What it does is chosen by the SMTP session (local part of the address):
 *   connect from 127.0.0.2      554 5.7.1 "probe connect text" + REJECT
 *   HELO probe-helo.example     550 5.7.1 "probe helo text" + REJECT
 *   MAIL FROM:<bare-reject@*>   REJECT, no reply set
 *   MAIL FROM:<bare-tempfail@*> TEMPFAIL, no reply set
 *   MAIL FROM:<text-mail@*>     550 5.7.1 "probe mail text" + REJECT
 *   MAIL FROM:<lone-pct@*>      550 5.7.1 "100% lone"      (a lone %)
 *   MAIL FROM:<double-pct@*>    550 5.7.1 "100%% doubled"  (escaped %)
 *   MAIL FROM:<r421-tempfail@*> 421 4.7.0 "probe 421 text" + TEMPFAIL
 *   MAIL FROM:<r421-reject@*>   421 4.7.0 "probe 421 text" + REJECT
 *   RCPT TO:<bare-reject@*>     REJECT, no reply set
 *   RCPT TO:<bare-tempfail@*>   TEMPFAIL, no reply set
 *   RCPT TO:<text-rcpt@*>       550 5.7.1 "probe rcpt text" + REJECT
 *   RCPT TO:<multi-rcpt@*>      550-5.7.1 "probe line one" / 550 5.7.1 "probe line two"
 *   RCPT TO:<temp-rcpt@*>       451 4.7.1 "probe rcpt tempfail" + TEMPFAIL
 *   DATA with sender data-bare@*        REJECT, no reply set
 *   end of message, sender eom-bare@*   REJECT, no reply set
 *   end of message, sender eom-temp@*   TEMPFAIL, no reply set
 *   end of message, sender eom-text@*   550 5.7.1 "probe eom text" + REJECT
 *   RCPT with {rcpt_mailer} = error     logs "rcpt_rej ADDR host=H addr=A" on stdout
 * Everything else: CONTINUE.
 *
 * Usage: probe_milter -p SOCKET   (foreground; stop it with SIGTERM)
 * Built by tests/sendmail/lib.sh (sm_probe_build).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

struct probe {
    char sender[256];
};

static struct probe *priv(SMFICTX *ctx)
{
    struct probe *p = smfi_getpriv(ctx);
    if (p == NULL) {
        p = calloc(1, sizeof *p);
        smfi_setpriv(ctx, p);
    }
    return p;
}

/* "<Local@dom>" starts with local part want@ (case-insensitive) */
static int is(const char *arg, const char *want)
{
    if (arg == NULL)
        return 0;
    if (*arg == '<')
        arg++;
    size_t n = strlen(want);
    return strncasecmp(arg, want, n) == 0 && arg[n] == '@';
}

static sfsistat reply(SMFICTX *ctx, const char *code, const char *x, const char *text,
                      sfsistat verdict)
{
    if (smfi_setreply(ctx, (char *)code, (char *)x, (char *)text) != MI_SUCCESS)
        fprintf(stdout, "smfi_setreply %s %s %s refused\n", code, x, text);
    fflush(stdout);
    return verdict;
}

static sfsistat pr_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    (void)host;
    priv(ctx);
    if (sa != NULL && sa->sa_family == AF_INET
        && ((struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(0x7f000002))
        return reply(ctx, "554", "5.7.1", "probe connect text", SMFIS_REJECT);
    return SMFIS_CONTINUE;
}

static sfsistat pr_helo(SMFICTX *ctx, char *helo)
{
    if (helo != NULL && strcasecmp(helo, "probe-helo.example") == 0)
        return reply(ctx, "550", "5.7.1", "probe helo text", SMFIS_REJECT);
    return SMFIS_CONTINUE;
}

static sfsistat pr_envfrom(SMFICTX *ctx, char **argv)
{
    struct probe *p = priv(ctx);
    const char *a = argv ? argv[0] : NULL;
    snprintf(p->sender, sizeof p->sender, "%s", a ? a : "");
    if (is(a, "bare-reject"))
        return SMFIS_REJECT;
    if (is(a, "bare-tempfail"))
        return SMFIS_TEMPFAIL;
    if (is(a, "text-mail"))
        return reply(ctx, "550", "5.7.1", "probe mail text", SMFIS_REJECT);
    if (is(a, "lone-pct"))
        return reply(ctx, "550", "5.7.1", "100% lone", SMFIS_REJECT);
    if (is(a, "double-pct"))
        return reply(ctx, "550", "5.7.1", "100%% doubled", SMFIS_REJECT);
    if (is(a, "r421-tempfail"))
        return reply(ctx, "421", "4.7.0", "probe 421 text", SMFIS_TEMPFAIL);
    if (is(a, "r421-reject"))
        return reply(ctx, "421", "4.7.0", "probe 421 text", SMFIS_REJECT);
    return SMFIS_CONTINUE;
}

static sfsistat pr_envrcpt(SMFICTX *ctx, char **argv)
{
    const char *a = argv ? argv[0] : NULL;
    const char *mailer = smfi_getsymval(ctx, "{rcpt_mailer}");
    if (mailer != NULL && strcmp(mailer, "error") == 0) {
        const char *h = smfi_getsymval(ctx, "{rcpt_host}");
        const char *t = smfi_getsymval(ctx, "{rcpt_addr}");
        fprintf(stdout, "rcpt_rej %s host=%s addr=%s\n", a ? a : "", h ? h : "", t ? t : "");
        fflush(stdout);
        return SMFIS_CONTINUE;
    }
    if (is(a, "bare-reject"))
        return SMFIS_REJECT;
    if (is(a, "bare-tempfail"))
        return SMFIS_TEMPFAIL;
    if (is(a, "text-rcpt"))
        return reply(ctx, "550", "5.7.1", "probe rcpt text", SMFIS_REJECT);
    if (is(a, "temp-rcpt"))
        return reply(ctx, "451", "4.7.1", "probe rcpt tempfail", SMFIS_TEMPFAIL);
    if (is(a, "multi-rcpt")) {
        if (smfi_setmlreply(ctx, "550", "5.7.1", "probe line one", "probe line two",
                            (char *)NULL) != MI_SUCCESS)
            fprintf(stdout, "smfi_setmlreply refused\n");
        return SMFIS_REJECT;
    }
    return SMFIS_CONTINUE;
}

static sfsistat pr_data(SMFICTX *ctx)
{
    if (is(priv(ctx)->sender, "data-bare"))
        return SMFIS_REJECT;
    return SMFIS_CONTINUE;
}

static sfsistat pr_eom(SMFICTX *ctx)
{
    const char *s = priv(ctx)->sender;
    if (is(s, "eom-bare"))
        return SMFIS_REJECT;
    if (is(s, "eom-temp"))
        return SMFIS_TEMPFAIL;
    if (is(s, "eom-text"))
        return reply(ctx, "550", "5.7.1", "probe eom text", SMFIS_REJECT);
    return SMFIS_CONTINUE;
}

static sfsistat pr_close(SMFICTX *ctx)
{
    free(smfi_getpriv(ctx));
    smfi_setpriv(ctx, NULL);
    return SMFIS_CONTINUE;
}

static sfsistat pr_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                             unsigned long f2, unsigned long f3, unsigned long *pf0,
                             unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    (void)ctx; (void)f0; (void)f2; (void)f3;
    *pf0 = SMFIF_NONE;
    *pf1 = f1 & SMFIP_RCPT_REJ;    /* also see recipients sendmail rejected */
    *pf2 = *pf3 = 0;
    return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
    .xxfi_name = "probe",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_NONE,
    .xxfi_connect = pr_connect,
    .xxfi_helo = pr_helo,
    .xxfi_envfrom = pr_envfrom,
    .xxfi_envrcpt = pr_envrcpt,
    .xxfi_data = pr_data,
    .xxfi_eom = pr_eom,
    .xxfi_close = pr_close,
    .xxfi_negotiate = pr_negotiate,
};

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "-p") != 0) {
        fprintf(stderr, "usage: probe_milter -p SOCKET\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    umask(0077);
    if (smfi_setconn(argv[2]) != MI_SUCCESS || smfi_settimeout(30) != MI_SUCCESS
        || smfi_register(desc) != MI_SUCCESS || smfi_opensocket(1) != MI_SUCCESS) {
        fprintf(stderr, "probe_milter: cannot set up %s\n", argv[2]);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
