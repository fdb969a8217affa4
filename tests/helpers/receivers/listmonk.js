#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * tests/helpers/receivers/listmonk.js - a stand-in for listmonk's bounce
 * webhook, POST /webhooks/bounce, written from listmonk's "Bounce
 * processing" document and the checks its handler makes: HTTP basic auth
 * (an API user; 401 without it), then the record: email or subscriber_uuid
 * (one is required), subscriber_uuid a UUID when given, campaign_uuid a
 * UUID when given (listmonk looks it up as one), source (required), type
 * one of hard, soft, complaint, meta JSON, created_at a time when given;
 * 400 {"message": "..."} when a check fails, else 200 {"data": true}.
 *
 *   node listmonk.js --auth USER:TOKEN [common.js options]
 *
 * Log (common.js) per request: ok (the credentials), type, valid (the
 * record passed the checks), error (which failed), read (email,
 * campaign_uuid, source, type, meta), missing (of email, source, type,
 * meta).
 */
'use strict';
const { serve, pick, basicAuthOk } = require('./common.js');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function invalid(b) {
    if (!b.email && !b.subscriber_uuid) return 'email / subscriber_uuid';
    if (b.subscriber_uuid && !UUID.test(b.subscriber_uuid)) return 'subscriber_uuid';
    if (b.email !== undefined && (typeof b.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(b.email))) return 'email';
    if (b.campaign_uuid !== undefined && (typeof b.campaign_uuid !== 'string' || !UUID.test(b.campaign_uuid)))
        return 'campaign_uuid';
    if (typeof b.source !== 'string' || b.source === '') return 'source';
    if (!['hard', 'soft', 'complaint'].includes(b.type)) return 'type';
    if (b.created_at !== undefined && Number.isNaN(Date.parse(b.created_at))) return 'created_at';
    return null;
}

serve('listmonk', (req, res, opt) => {
    if (req.path !== '/webhooks/bounce') {
        res.log({ ok: null });
        return res.status(404).send('Not Found');
    }
    if (!basicAuthOk(req, opt)) {
        res.log({ ok: false });
        return res.status(401).json({ message: 'invalid credentials' });
    }
    const b = req.body;
    const err = Array.isArray(b) || typeof b !== 'object' ? 'body' : invalid(b);
    const p = pick(b, ['email', 'source', 'type', 'meta']);
    p.read.campaign_uuid = b.campaign_uuid === undefined ? null : b.campaign_uuid;
    res.log({ ok: true, type: b.type, valid: err === null, error: err, read: p.read, missing: p.missing });
    if (err) return res.status(400).json({ message: `invalid fields: ${err}` });
    res.status(200).json({ data: true });
});
