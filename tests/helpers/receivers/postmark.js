#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * tests/helpers/receivers/postmark.js - a receiver of Postmark's webhooks,
 * written from Postmark's webhook documentation: they are secured with
 * HTTP basic auth (the credentials in the webhook's URL), so a request
 * without the right Authorization is answered 401; the body is one JSON
 * object whose RecordType says what it is (Delivery, Bounce, Open, Click,
 * SpamComplaint, SubscriptionChange). The fields read: MessageID, Metadata,
 * MessageStream and by RecordType: Delivery: Recipient, DeliveredAt,
 * Details; Bounce: ID (an integer), Type, TypeCode, Email, BouncedAt,
 * Description, Details, Inactive; SpamComplaint: ID, Type, TypeCode,
 * Email, BouncedAt; Open: Recipient, ReceivedAt; Click: Recipient,
 * ReceivedAt, OriginalLink; SubscriptionChange: Recipient, ChangedAt,
 * SuppressSending. Answers 200.
 *
 *   node postmark.js --auth USER:PASSWORD [common.js options]
 *
 * Log (common.js) per request: ok (the credentials), type (RecordType),
 * bounce_type (Type), id_integer, read, missing.
 */
'use strict';
const { serve, pick, basicAuthOk } = require('./common.js');

const COMMON = ['RecordType', 'MessageID', 'MessageStream', 'Metadata'];
const FIELDS = {
    Delivery: ['Recipient', 'DeliveredAt', 'Details'],
    Bounce: ['ID', 'Type', 'TypeCode', 'Email', 'BouncedAt', 'Description', 'Details', 'Inactive'],
    SpamComplaint: ['ID', 'Type', 'TypeCode', 'Email', 'BouncedAt'],
    Open: ['Recipient', 'ReceivedAt'],
    Click: ['Recipient', 'ReceivedAt', 'OriginalLink'],
    SubscriptionChange: ['Recipient', 'ChangedAt', 'SuppressSending'],
};

serve('postmark', (req, res, opt) => {
    if (!basicAuthOk(req, opt)) {
        res.log({ ok: false });
        return res.status(401).send('Unauthorized');
    }
    const r = req.body;
    const p = pick(r, COMMON.concat(FIELDS[r.RecordType] || []));
    res.log({
        ok: true, type: r.RecordType, known: r.RecordType in FIELDS, bounce_type: r.Type || null,
        id_integer: r.ID === undefined ? null : Number.isInteger(r.ID), read: p.read, missing: p.missing,
    });
    res.status(200).send('OK');
});
