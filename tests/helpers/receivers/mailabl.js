#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * tests/helpers/receivers/mailabl.js - a receiver written from Mailabl's
 * "Use incoming webhooks" document: X-Mailabl-Signature must be the SHA-256
 * hash (hex) of the app secret followed by the request body ("Verify
 * requests"); the body is an array of event objects, each with id, type,
 * occurredAt and the resource under data.object ({id, type}) ("Check event
 * objects"); a 2xx answer before any work, within the doc's 3 seconds
 * (this answers at once). A bad signature is answered 401.
 *
 *   node mailabl.js --secret APP-SECRET [common.js options]
 *
 * Log (common.js) per request: ok (the signature check), array (the body is
 * one), events (how many), types (each event's type, in order), ids (each
 * event's id), read (per event: id, type, occurredAt, data.object.id,
 * data.object.type), missing (every "N:field" absent).
 */
'use strict';
const crypto = require('node:crypto');
const { serve, pick } = require('./common.js');

serve('mailabl', (req, res, opt) => {
    const signature = req.headers['x-mailabl-signature'];
    const expected = crypto.createHash('sha256').update(opt.secret + req.rawBody).digest('hex');
    if (signature !== expected) {
        res.log({ ok: false });
        return res.status(401).send('Invalid signature');
    }
    const events = req.body;
    if (!Array.isArray(events)) {
        res.log({ ok: true, array: false });
        return res.status(400).send('Expected an array of events');
    }
    const read = [];
    const missing = [];
    events.forEach((event, i) => {
        const p = pick(event, ['id', 'type', 'occurredAt', 'data.object.id', 'data.object.type']);
        read.push(p.read);
        p.missing.forEach((m) => missing.push(`${i}:${m}`));
        // "Your endpoint must check the event type and parse the payload."
        console.log(`${event.type} ${event.data && event.data.object && event.data.object.id} at ${event.occurredAt}`);
    });
    res.log({
        ok: true, array: true, events: events.length, types: events.map((e) => e.type),
        ids: events.map((e) => e.id), read, missing,
    });
    res.status(200).send('OK');
});
