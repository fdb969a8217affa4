/* SPDX-License-Identifier: MIT */
/*
 * bench_null_milter.c - the floor for bench/milter.sh: a libmilter milter
 * that asks the MTA for the same protocol steps, macros and no-reply steps
 * as mailhook-milter (milter_cb.c) and removes the same control headers
 * (X-Mailhook-Tag, X-Mailhook-Metadata), but keeps nothing and submits no
 * event. Postfix with it in front costs what any milter of that shape
 * costs; mailhook-milter against it is what mailhook's own work costs.
 *
 *   bench_null_milter SOCKET     e.g. unix:/tmp/x/null.sock; runs until
 *                                SIGTERM (libmilter's signal handling)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libmilter/mfapi.h>

#define NOREPLY (SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | \
                 SMFIP_NR_BODY)

/* Per connection: the control headers of the current message, by name and
 * occurrence (smfi_chgheader's index is per name, from 1). */
struct priv {
    unsigned long nr; /* the no-reply steps the MTA agreed to */
    int ntag, nmeta;
};

static struct priv *priv_of(SMFICTX *ctx)
{
    struct priv *p = smfi_getpriv(ctx);

    if (p == NULL && (p = calloc(1, sizeof(*p))) != NULL)
        smfi_setpriv(ctx, p);
    return p;
}

static sfsistat nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
    struct priv *p;

    (void)f2, (void)f3;
    *pf0 = f0 & (SMFIF_CHGHDRS | SMFIF_SETSYMLIST);
    *pf1 = f1 & (SMFIP_NOHELO | SMFIP_NODATA | SMFIP_NOUNKNOWN | NOREPLY);
    *pf2 = *pf3 = 0;
    if (*pf0 & SMFIF_SETSYMLIST) {
        smfi_setsymlist(ctx, SMFIM_CONNECT, "{client_addr} {client_name} {daemon_name}");
        smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
        smfi_setsymlist(ctx, SMFIM_ENVRCPT, "i");
        smfi_setsymlist(ctx, SMFIM_EOH, "i");
        smfi_setsymlist(ctx, SMFIM_EOM, "i");
    }
    if ((p = priv_of(ctx)) != NULL)
        p->nr = *pf1 & NOREPLY;
    return SMFIS_CONTINUE;
}

/* No answer for a step the MTA agreed not to wait for, else continue. */
static sfsistat nm_reply(SMFICTX *ctx, unsigned long step)
{
    struct priv *p = priv_of(ctx);

    return p && (p->nr & step) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
    (void)host, (void)addr;
    return nm_reply(ctx, SMFIP_NR_CONN);
}

static sfsistat nm_envfrom(SMFICTX *ctx, char **argv)
{
    struct priv *p = priv_of(ctx);

    (void)argv;
    if (p)
        p->ntag = p->nmeta = 0;
    return nm_reply(ctx, SMFIP_NR_MAIL);
}

static sfsistat nm_envrcpt(SMFICTX *ctx, char **argv)
{
    (void)argv;
    return nm_reply(ctx, SMFIP_NR_RCPT);
}

static sfsistat nm_header(SMFICTX *ctx, char *name, char *value)
{
    struct priv *p = priv_of(ctx);

    (void)value;
    if (p && strcasecmp(name, "X-Mailhook-Tag") == 0)
        p->ntag++;
    else if (p && strcasecmp(name, "X-Mailhook-Metadata") == 0)
        p->nmeta++;
    return nm_reply(ctx, SMFIP_NR_HDR);
}

static sfsistat nm_eoh(SMFICTX *ctx)
{
    return nm_reply(ctx, SMFIP_NR_EOH);
}

static sfsistat nm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    (void)chunk, (void)len;
    return nm_reply(ctx, SMFIP_NR_BODY);
}

/* Remove from the last occurrence down, as mailhook-milter does. */
static sfsistat nm_eom(SMFICTX *ctx)
{
    struct priv *p = priv_of(ctx);

    for (int i = p ? p->ntag : 0; i > 0; i--)
        smfi_chgheader(ctx, "X-Mailhook-Tag", i, NULL);
    for (int i = p ? p->nmeta : 0; i > 0; i--)
        smfi_chgheader(ctx, "X-Mailhook-Metadata", i, NULL);
    return SMFIS_CONTINUE;
}

static sfsistat nm_abort(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_CONTINUE;
}

static sfsistat nm_close(SMFICTX *ctx)
{
    free(smfi_getpriv(ctx));
    smfi_setpriv(ctx, NULL);
    return SMFIS_CONTINUE;
}

int main(int argc, char **argv)
{
    struct smfiDesc desc = {
        .xxfi_name = "null",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_CHGHDRS | SMFIF_SETSYMLIST,
        .xxfi_connect = nm_connect,
        .xxfi_envfrom = nm_envfrom,
        .xxfi_envrcpt = nm_envrcpt,
        .xxfi_header = nm_header,
        .xxfi_eoh = nm_eoh,
        .xxfi_body = nm_body,
        .xxfi_eom = nm_eom,
        .xxfi_abort = nm_abort,
        .xxfi_close = nm_close,
        .xxfi_negotiate = nm_negotiate,
    };

    if (argc != 2) {
        fprintf(stderr, "usage: bench_null_milter SOCKET\n");
        return 2;
    }
    if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS) {
        fprintf(stderr, "bench_null_milter: cannot use %s\n", argv[1]);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
