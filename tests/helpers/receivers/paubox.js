#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * tests/helpers/receivers/paubox.js - a receiver written from Paubox's
 * "Webhooks" document: HTTPS with TLS 1.2 and above (common.js sets
 * minVersion), one notification per request with an event_name (one of
 * api_mail_log_delivered, _temporary_failure, _permanent_failure, _opened)
 * and a payload, the API Mail Log: id (an integer), subject,
 * header_message_id, source_tracking_id, outbound_queue_id, time, from, to.
 * The document describes no signature: ok is true for every well-formed
 * notification. Answers 200.
 *
 *   node paubox.js [common.js options]
 *
 * Log (common.js) per request: ok, type (event_name), known (it is one of
 * the four), id_integer (payload.id is an integer), read (the payload's
 * fields), missing.
 */
'use strict';
const { serve, pick } = require('./common.js');

const NAMES = ['api_mail_log_delivered', 'api_mail_log_temporary_failure',
    'api_mail_log_permanent_failure', 'api_mail_log_opened'];
// The API Mail Log payload, the same for every event.
const FIELDS = ['event_name', 'payload.id', 'payload.subject', 'payload.header_message_id',
    'payload.source_tracking_id', 'payload.outbound_queue_id', 'payload.time', 'payload.from', 'payload.to'];

serve('paubox', (req, res) => {
    const n = req.body;
    const p = pick(n, FIELDS);
    res.log({
        ok: true, type: n.event_name, known: NAMES.includes(n.event_name),
        id_integer: Number.isInteger(n.payload && n.payload.id), read: p.read, missing: p.missing,
    });
    res.status(200).send('OK');
});
