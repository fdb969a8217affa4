#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * tests/helpers/verify_sw.js - check the Standard Webhooks signatures of the
 * requests a receiver logged (tests/helpers/receiver.js --log), with the
 * standardwebhooks npm package: an implementation independent of mailhook's.
 *
 *   node verify_sw.js [--path PREFIX] LOG SECRET [OLD_SECRET]
 *
 * For each logged request (whose path starts with PREFIX): new Webhook(SECRET)
 * .verify(body, headers) and, with OLD_SECRET, the same with OLD_SECRET (a
 * rotation carries two signatures: each secret must verify on its own).
 * Prints "ok <webhook-id>" or "bad <webhook-id> <reason>" per request, in
 * log order. Exit 0 when all are ok, 1 when any is bad or no request was
 * logged, 2 on a usage error or an unusable secret or log.
 * The package rejects webhook-timestamp values more than 5 minutes from now.
 * It is found through NODE_PATH (tests/lib/receiver.sh sets it) or under
 * $MAILHOOK_TEST_NODE_PREFIX (default /opt/mailhook-test)/node_modules.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function die(msg) {
    process.stderr.write(`verify_sw: ${msg}\n`);
    process.exit(2);
}

let Webhook;
try {
    ({ Webhook } = require('standardwebhooks'));
} catch (e) {
    const prefix = process.env.MAILHOOK_TEST_NODE_PREFIX || '/opt/mailhook-test';
    try {
        ({ Webhook } = require(path.join(prefix, 'node_modules', 'standardwebhooks')));
    } catch (e2) {
        die(`npm package standardwebhooks not found (NODE_PATH or ${prefix}/node_modules; ` +
            'bash contrib/deps.sh test installs it)');
    }
}

const args = process.argv.slice(2);
let prefix = '';
if (args[0] === '--path') {
    if (args.length < 2) die('--path needs a value');
    prefix = args[1];
    args.splice(0, 2);
}
if (args.length < 2 || args.length > 3)
    die('usage: verify_sw.js [--path PREFIX] LOG SECRET [OLD_SECRET]');
const [logFile, secret, oldSecret] = args;

const hooks = [];
try {
    hooks.push(['', new Webhook(secret)]);
    if (oldSecret !== undefined) hooks.push(['old secret: ', new Webhook(oldSecret)]);
} catch (e) {
    die(`bad secret: ${e.message}`);
}

let text;
try {
    text = fs.readFileSync(logFile, 'utf8');
} catch (e) {
    die(`${logFile}: ${e.message}`);
}

let n = 0;
let bad = 0;
for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let r;
    try {
        r = JSON.parse(line);
    } catch (e) {
        continue; // a line still being written
    }
    if (typeof r.path !== 'string' || !r.path.startsWith(prefix)) continue;
    n++;
    const headers = r.headers || {};
    const id = headers['webhook-id'] || '-';
    const body = typeof r.body === 'string' ? r.body : '';
    const reasons = [];
    for (const [label, wh] of hooks) {
        try {
            wh.verify(body, headers);
        } catch (e) {
            reasons.push(label + (e && e.message ? e.message : String(e)));
        }
    }
    if (reasons.length === 0) {
        process.stdout.write(`ok ${id}\n`);
    } else {
        bad++;
        process.stdout.write(`bad ${id} ${reasons.join('; ')}\n`);
    }
}
if (n === 0) {
    process.stdout.write(`bad - no request logged in ${logFile}${prefix ? ` under ${prefix}` : ''}\n`);
    process.exit(1);
}
process.exit(bad ? 1 : 0);
