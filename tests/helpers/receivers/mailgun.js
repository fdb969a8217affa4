#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * tests/helpers/receivers/mailgun.js - a receiver of Mailgun's webhooks,
 * written from Mailgun's documentation ("Securing webhooks"): the body is
 * {signature: {timestamp, token, signature}, "event-data": {...}}; the
 * signature is the hex HMAC-SHA256, under the webhook signing key, of
 * timestamp followed by token, and is compared in constant time; 406 when
 * it does not verify (Mailgun then stops retrying), else 200. The fields
 * read from event-data: event, timestamp (a number), id, recipient,
 * message.headers.message-id, and by event: delivered: delivery-status.code
 * and .message; failed: severity, delivery-status.message (and .code,
 * logged as code, when the failure had an SMTP reply); opened, clicked: ip;
 * clicked: url; plus user-variables and tags (Mailgun always sends them).
 *
 *   node mailgun.js --secret SIGNING-KEY [common.js options]
 *
 * Log (common.js) per request: ok, type (event-data.event), severity, read,
 * missing, token_len (the token's length).
 */
'use strict';
const crypto = require('node:crypto');
const { serve, pick } = require('./common.js');

const COMMON = ['event', 'timestamp', 'id', 'recipient', 'message.headers.message-id', 'user-variables', 'tags'];
const FIELDS = {
    accepted: [],
    delivered: ['delivery-status.code', 'delivery-status.message'],
    failed: ['severity', 'delivery-status.message'],
    opened: ['ip'],
    clicked: ['ip', 'url'],
    complained: [],
    unsubscribed: [],
};

function verify(signingKey, timestamp, token, signature) {
    const encodedToken = crypto
        .createHmac('sha256', signingKey)
        .update(timestamp.concat(token))
        .digest('hex');
    return typeof signature === 'string' && encodedToken.length === signature.length &&
        crypto.timingSafeEqual(Buffer.from(encodedToken), Buffer.from(signature));
}

serve('mailgun', (req, res, opt) => {
    const sig = req.body.signature || {};
    const ok = typeof sig.timestamp === 'string' && typeof sig.token === 'string' &&
        verify(opt.secret, sig.timestamp, sig.token, sig.signature);
    if (!ok) {
        res.log({ ok: false });
        return res.status(406).send('Not Acceptable');
    }
    const ed = req.body['event-data'] || {};
    // delivery-status.code is read where there is one: a failure with no SMTP
    // reply (connection refused, expired in the queue) has none from mailhook.
    const names = COMMON.concat(FIELDS[ed.event] || []);
    const p = pick(ed, names);
    res.log({
        ok: true, type: ed.event, severity: ed.severity || null, known: ed.event in FIELDS,
        ts_number: typeof ed.timestamp === 'number', read: p.read, missing: p.missing,
        token_len: sig.token.length, code: (ed['delivery-status'] || {}).code ?? null,
    });
    res.status(200).send('OK');
});
