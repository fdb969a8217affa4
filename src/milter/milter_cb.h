/* SPDX-License-Identifier: MIT */
/*
 * milter_cb.h - mailhook-milter's libmilter callbacks: thin dispatchers
 * that copy what the MTA says into the message model (milter_msg.h) and,
 * at end of message, hand its events to the submitter (milter_submit.h).
 *
 *   milter_cb_desc(conf)     the smfiDesc to pass to smfi_register(); conf
 *                            is borrowed and must outlive smfi_main()
 *   milter_cb_submit_to(sub) where end of message hands the events (borrowed;
 *                            set before smfi_main(), once the submitter
 *                            thread runs, i.e. after detaching)
 *   milter_cb_log_times()    log the time spent in the callbacks per
 *                            accepted message (MAIL FROM to end of message):
 *                            "time in callbacks per message: N messages,
 *                            p50 X us, p99 Y us, max Z us" (the bench reads it)
 *
 * Contract with the MTA: every callback answers SMFIS_CONTINUE (mail is
 * never rejected, delayed or held by mailhook); an internal problem is a
 * log line. Per-connection state (smfi_setpriv) is freed in xxfi_close,
 * per-message state at the next MAIL FROM, at abort and at end of message.
 */
#ifndef MH_MILTER_CB_H
#define MH_MILTER_CB_H

#include <libmilter/mfapi.h>
#include "conf.h"
#include "milter_submit.h"

struct smfiDesc *milter_cb_desc(const mh_conf_t *conf);
void milter_cb_submit_to(milter_submit_t *sub);
void milter_cb_log_times(void);

#endif
