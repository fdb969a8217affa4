/* SPDX-License-Identifier: MIT */
/*
 * milter_reach.h - will the local Postfix reach mailhook-milter's socket?
 * Checked once when the milter starts, so that the setup that fails
 * silently (a chrooted smtpd looking for the socket inside its chroot, a
 * milter list naming another socket) is a log line instead of mail flowing
 * without events.
 *
 *   milter_reach_check(socket, pf, warn, ctx)
 *        pure: calls warn(ctx, text) once per reason why Postfix, as
 *        described by pf, will not reach the milter listening at socket
 *        (libmilter's form, as in mailhook.conf); returns how many.
 *   milter_reach_postfix(postconf, timeout_ms, pf)
 *        fills pf by running postconf (the program's path; MAIL_CONFIG in
 *        the environment selects the instance, as for postconf itself):
 *        0, or -1 when postconf is absent, fails or takes longer than
 *        timeout_ms (killed). The caller frees pf with
 *        milter_reach_postfix_free.
 *   milter_reach_postfix_free(pf)
 *        free what milter_reach_postfix filled in.
 *   milter_reach_warn(socket, postconf)
 *        both, with msg_warn; nothing when postconf cannot tell.
 *
 * Model (Postfix's MILTER_README and master(5)). smtpd uses smtpd_milters,
 * cleanup non_smtpd_milters (mail from sendmail(1), through pickup). A
 * service runs chrooted in queue_directory when master.cf's chroot column
 * says "y" ("-" is "n" since Postfix 3.0). A "unix:" milter is a path
 * relative to queue_directory (every daemon works there), and, for a
 * chrooted daemon, an absolute path is inside the chroot too: so
 * "unix:/run/x" is /var/spool/postfix/run/x for a chrooted smtpd. An
 * "inet:HOST:PORT" milter matches the milter's "inet:PORT@HOST" by port.
 * Paths are compared as strings after removing "//" and "/./", else by
 * device and inode when both exist (symbolic links such as /var/run).
 *
 * Limits: the main instance only (postmulti instances are not looked at);
 * "-o smtpd_milters=..." overrides in master.cf are not read; a service
 * whose command is not smtpd or cleanup is not looked at. A warning, never
 * a refusal: the milter runs whatever the check says.
 */
#ifndef MH_MILTER_REACH_H
#define MH_MILTER_REACH_H

/* Where Debian (and Postfix's own default install) keeps postconf. */
#define MILTER_REACH_POSTCONF "/usr/sbin/postconf"

/* What the check needs to know of Postfix. Strings owned by whoever filled
 * the struct (milter_reach_postfix: free with milter_reach_postfix_free). */
struct milter_reach_pf {
    char *queue_dir;         /* queue_directory, the chroot */
    char *smtpd_milters;     /* as postconf -x prints it: $names expanded */
    char *non_smtpd_milters; /* idem */
    char *master_cf;         /* master.cf entries, one per line (postconf -M) */
};

typedef void milter_reach_warn_fn(void *ctx, const char *text);

int milter_reach_check(const char *socket, const struct milter_reach_pf *pf,
                       milter_reach_warn_fn *warn, void *ctx);
int milter_reach_postfix(const char *postconf, int timeout_ms, struct milter_reach_pf *pf);
void milter_reach_postfix_free(struct milter_reach_pf *pf);
void milter_reach_warn(const char *socket, const char *postconf);

#endif
