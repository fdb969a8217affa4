#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * tests/helpers/receivers/sendgrid.js - a receiver of Twilio SendGrid's
 * Event Webhook, verifying the Signed Event Webhook with SendGrid's own
 * npm package, @sendgrid/eventwebhook, as its documentation shows:
 * new EventWebhook(), convertPublicKeyToECDSA(the verification key as the
 * settings page gives it), verifySignature(key, the raw body, the
 * X-Twilio-Email-Event-Webhook-Signature header, the
 * X-Twilio-Email-Event-Webhook-Timestamp header); 403 when it fails, else
 * 200. The body is an array of events (the Event Webhook Reference); each
 * has email, timestamp (an integer), event, sg_event_id, sg_message_id,
 * and by event: delivered: response; deferred: response, attempt; bounce:
 * reason, status, type; dropped: reason; open: useragent, ip; click: url,
 * useragent, ip.
 *
 *   node sendgrid.js --public-key BASE64-DER [common.js options]
 * The package is found through NODE_PATH (tests/lib/receiver.sh sets it to
 * the tests' npm prefix, bash contrib/deps.sh test installs it there).
 *
 * Log (common.js) per request: ok (verifySignature's answer), events, types
 * (each event's "event"), ids (sg_event_id), read (per event), missing
 * ("N:field"), ts_integer (every timestamp is an integer).
 */
'use strict';
const { EventWebhook, EventWebhookHeader } = require('@sendgrid/eventwebhook');
const { serve, pick } = require('./common.js');

const COMMON = ['email', 'timestamp', 'event', 'sg_event_id', 'sg_message_id'];
const FIELDS = {
    processed: [],
    delivered: ['response'],
    deferred: ['response', 'attempt'],
    bounce: ['reason', 'status', 'type'],
    dropped: ['reason'],
    open: ['useragent', 'ip'],
    click: ['url', 'useragent', 'ip'],
    spamreport: [],
    unsubscribe: [],
};

serve('sendgrid', (req, res, opt) => {
    const eventWebhook = new EventWebhook();
    let ok = false;
    try {
        const ecPublicKey = eventWebhook.convertPublicKeyToECDSA(opt.publicKey);
        ok = eventWebhook.verifySignature(ecPublicKey, req.rawBody,
            req.headers[EventWebhookHeader.SIGNATURE().toLowerCase()],
            req.headers[EventWebhookHeader.TIMESTAMP().toLowerCase()]);
    } catch (e) {
        res.log({ verify_error: e.message });
    }
    if (!ok) {
        res.log({ ok: false });
        return res.status(403).send('Forbidden');
    }
    const events = Array.isArray(req.body) ? req.body : [];
    const read = [];
    const missing = [];
    events.forEach((e, i) => {
        const p = pick(e, COMMON.concat(FIELDS[e.event] || []));
        read.push(p.read);
        p.missing.forEach((m) => missing.push(`${i}:${m}`));
    });
    res.log({
        ok: true, array: Array.isArray(req.body), events: events.length, types: events.map((e) => e.event),
        ids: events.map((e) => e.sg_event_id), read, missing,
        ts_integer: events.every((e) => Number.isInteger(e.timestamp)),
    });
    res.status(200).send('OK');
});
