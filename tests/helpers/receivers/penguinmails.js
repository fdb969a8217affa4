#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * tests/helpers/receivers/penguinmails.js - a receiver written from
 * PenguinMails' "Webhook System" document, its TypeScript/Node.js example
 * (WebhookHandlerImpl): the raw body kept by the JSON parser's verify hook,
 * 401 {"error": "Missing signature header"} without X-PenguinMails-Signature,
 * the HMAC-SHA256 of the raw body (utf8) under the secret as "sha256=" + hex
 * compared with crypto.timingSafeEqual (a length mismatch throws: false),
 * 401 {"error": "Invalid signature"}; the switch on event.type with its
 * handlers (event.data.contact?.email, event.data.url, event.data.email_id);
 * 200 {"success": true} (the doc: respond in under 5 seconds; this answers
 * at once).
 *
 *   node penguinmails.js --secret SECRET [common.js options]
 *
 * The same document's first, shorter Node.js example verifies instead the
 * HMAC of JSON.stringify(req.body) (express.json()): its answer is logged
 * too, as ok_simple, so that both handlers are held to the body.
 *
 * Log (common.js) per request: ok (the signature check), type, read (the
 * fields of the doc's payload example and its Event Reference for that
 * type: data.email_id, data.campaign_id, data.contact.email, data.opened_at,
 * ...), missing, and the request's X-PenguinMails-Event,
 * X-PenguinMails-Delivery-ID and User-Agent (event_header, delivery_id,
 * user_agent).
 */
'use strict';
const crypto = require('node:crypto');
const { serve, pick } = require('./common.js');

// The doc's example payload (email.opened) and its Event Reference table,
// in the payload's snake_case; "location" is left out (mailhook cannot know
// it: mailhook.conf(5)).
const CONTACT = ['data.contact.id', 'data.contact.email', 'data.contact.first_name', 'data.contact.last_name'];
const FIELDS = {
    'email.sent': ['data.email_id', 'data.campaign_id'].concat(CONTACT),
    'email.delivered': ['data.email_id', 'data.delivered_at', 'data.smtp_response'],
    'email.opened': ['data.email_id', 'data.campaign_id'].concat(CONTACT,
        ['data.opened_at', 'data.user_agent', 'data.ip_address']),
    'email.clicked': ['data.email_id', 'data.url', 'data.clicked_at'],
    'email.bounced': ['data.email_id', 'data.bounce_type', 'data.bounce_reason'],
    'email.spam_reported': ['data.email_id', 'data.reported_at'],
    'email.unsubscribed': ['data.email_id', 'data.contact_id', 'data.unsubscribed_at'],
};

// The document's first example (Node.js with express.json()).
function verifySignature(payload, signature, secret) {
    const hmac = crypto.createHmac('sha256', secret);
    hmac.update(JSON.stringify(payload));
    const digest = `sha256=${hmac.digest('hex')}`;
    try {
        return crypto.timingSafeEqual(Buffer.from(digest), Buffer.from(signature));
    } catch (e) {
        return false; // lengths differ: the example would throw, answering 500
    }
}

class WebhookHandlerImpl {
    constructor(secret) {
        this.webhookSecret = secret;
        this.seen = [];
    }

    verifyWebhook(payload, signature, secret) {
        try {
            const computed = crypto
                .createHmac('sha256', secret)
                .update(payload, 'utf8')
                .digest('hex');
            const expected = `sha256=${computed}`;
            return crypto.timingSafeEqual(
                Buffer.from(expected),
                Buffer.from(signature)
            );
        } catch (error) {
            return false;
        }
    }

    handleWebhook(req, res) {
        try {
            const signature = req.headers['x-penguinmails-signature'];
            const rawBody = req.rawBody;
            if (!signature) {
                res.log({ ok: false, type: req.body.type });
                res.status(401).json({ error: 'Missing signature header' });
                return;
            }
            if (!this.verifyWebhook(rawBody, signature, this.webhookSecret)) {
                res.log({ ok: false, type: req.body.type });
                res.status(401).json({ error: 'Invalid signature' });
                return;
            }
            const event = req.body;
            this.seen = [];
            switch (event.type) {
            case 'email.opened': this.handleEmailOpened(event); break;
            case 'email.clicked': this.handleEmailClicked(event); break;
            case 'email.bounced': this.handleEmailBounced(event); break;
            case 'email.sent': this.handleEmailSent(event); break;
            default: console.log(`Unhandled event type: ${event.type}`);
            }
            const p = pick(event, ['id', 'type', 'created_at'].concat(FIELDS[event.type] || []));
            res.log({
                ok: true, ok_simple: verifySignature(req.body, signature, this.webhookSecret), type: event.type, read: p.read, missing: p.missing, known: event.type in FIELDS,
                handled: this.seen, event_header: req.headers['x-penguinmails-event'] || null,
                delivery_id: req.headers['x-penguinmails-delivery-id'] || null,
                user_agent: req.headers['user-agent'] || null,
            });
            res.status(200).json({ success: true });
        } catch (error) {
            res.log({ error: `Webhook processing error: ${error.message}` });
            res.status(500).json({ error: 'Internal server error' });
        }
    }

    handleEmailOpened(event) {
        console.log(`Email opened by ${event.data.contact?.email}`);
        this.seen.push(event.data.contact?.email);
    }

    handleEmailClicked(event) {
        console.log(`Link clicked: ${event.data.url}`);
        this.seen.push(event.data.url);
    }

    handleEmailBounced(event) {
        console.log(`Email bounced: ${event.data.email_id}`);
        this.seen.push(event.data.email_id);
    }

    handleEmailSent(event) {
        console.log(`Email sent: ${event.data.email_id}`);
        this.seen.push(event.data.email_id);
    }
}

let handler = null;
serve('penguinmails', (req, res, opt) => {
    if (!handler) handler = new WebhookHandlerImpl(opt.secret);
    handler.handleWebhook(req, res);
});
