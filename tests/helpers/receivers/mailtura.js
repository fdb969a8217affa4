#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * tests/helpers/receivers/mailtura.js - a receiver written from Mailtura's
 * webhook document, "Implementing a Webhook Handler", Node.js with Express:
 * express.json(), then the HMAC-SHA256 (hex) of JSON.stringify(req.body)
 * under the secret compared (===) with X-Mailtura-Signature, 401 "Invalid
 * signature" when it differs; the "Validate Timestamps" check (400 "Event
 * too old" past 5 minutes); the switch on event.type; 200 "OK" (the doc:
 * within 5 seconds; this answers at once).
 *
 *   node mailtura.js --secret SECRET [common.js options]
 *
 * Log (common.js) per request: ok (the signature check), type, read (the
 * fields the handler and the doc's payload of that type have: data.emailId,
 * data.recipient, data.deliveredAt, data.bounceType, data.reason,
 * data.diagnosticCode, ...), missing (those absent), too_old.
 */
'use strict';
const crypto = require('node:crypto');
const { serve, pick } = require('./common.js');

// The members the doc shows for each event type (its payload examples) and
// those its handler reads (emailId, url, reason).
const FIELDS = {
    'email.sent': ['data.emailId', 'data.recipient', 'data.subject'],
    'email.delivered': ['data.emailId', 'data.recipient', 'data.subject', 'data.deliveredAt'],
    'email.opened': ['data.emailId', 'data.recipient', 'data.openedAt', 'data.userAgent', 'data.ipAddress'],
    'email.clicked': ['data.emailId', 'data.recipient', 'data.url', 'data.clickedAt', 'data.userAgent',
        'data.ipAddress'],
    'email.bounced': ['data.emailId', 'data.recipient', 'data.bounceType', 'data.reason', 'data.diagnosticCode'],
    'email.complained': ['data.emailId', 'data.recipient'],
    'email.failed': ['data.emailId', 'data.recipient'],
};

serve('mailtura', (req, res, opt) => {
    function verifySignature(payload, signature) {
        const secret = opt.secret;
        const hash = crypto
            .createHmac('sha256', secret)
            .update(JSON.stringify(payload))
            .digest('hex');
        return hash === signature;
    }

    const signature = req.headers['x-mailtura-signature'];

    // Verify webhook signature
    if (!verifySignature(req.body, signature)) {
        res.log({ ok: false, type: req.body && req.body.type });
        return res.status(401).send('Invalid signature');
    }

    const event = req.body;

    const eventAge = Date.now() - new Date(event.timestamp).getTime();
    const maxAge = 5 * 60 * 1000; // 5 minutes
    if (!(eventAge <= maxAge)) {
        res.log({ ok: true, type: event.type, too_old: true });
        return res.status(400).send('Event too old');
    }

    const p = pick(event, ['id', 'type', 'timestamp'].concat(FIELDS[event.type] || []));
    switch (event.type) {
    case 'email.delivered':
        console.log('Email delivered:', event.data.emailId);
        break;
    case 'email.opened':
        console.log('Email opened:', event.data.emailId);
        break;
    case 'email.clicked':
        console.log('Link clicked:', event.data.url);
        break;
    case 'email.bounced':
        console.log('Email bounced:', event.data.reason);
        break;
    }
    res.log({ ok: true, type: event.type, read: p.read, missing: p.missing, known: event.type in FIELDS });
    res.status(200).send('OK');
});
