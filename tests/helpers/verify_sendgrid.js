#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * tests/helpers/verify_sendgrid.js - check a SendGrid Signed Event Webhook
 * signature with SendGrid's own npm package, @sendgrid/eventwebhook: an
 * implementation independent of mailhook's (its ECDSA is starkbank-ecdsa,
 * pure JavaScript), used the way SendGrid's documentation shows.
 *
 *   node verify_sendgrid.js PUBLIC-KEY TIMESTAMP BODY-FILE SIGNATURE
 *
 * PUBLIC-KEY: the verification key as SendGrid's settings page shows it
 * (base64 DER SubjectPublicKeyInfo), read with
 * EventWebhook.convertPublicKeyToECDSA; TIMESTAMP and SIGNATURE: the values
 * of the X-Twilio-Email-Event-Webhook-Timestamp and -Signature headers;
 * BODY-FILE: the request body, passed as the raw bytes (a Buffer, as
 * express.raw() gives it) to EventWebhook.verifySignature.
 * Prints "ok" or "bad <reason>". Exit 0 when the signature verifies, 1 when
 * it does not (or the package throws on it), 2 on a usage error, an
 * unreadable body or a public key the package cannot read.
 * The package is found through NODE_PATH (tests/lib/receiver.sh sets it) or
 * under $MAILHOOK_TEST_NODE_PREFIX (default /opt/mailhook-test)/node_modules.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function die(msg) {
    process.stderr.write(`verify_sendgrid: ${msg}\n`);
    process.exit(2);
}

let EventWebhook;
try {
    ({ EventWebhook } = require('@sendgrid/eventwebhook'));
} catch (e) {
    const prefix = process.env.MAILHOOK_TEST_NODE_PREFIX || '/opt/mailhook-test';
    try {
        ({ EventWebhook } = require(path.join(prefix, 'node_modules', '@sendgrid/eventwebhook')));
    } catch (e2) {
        die(`npm package @sendgrid/eventwebhook not found (NODE_PATH or ${prefix}/node_modules; ` +
            'bash contrib/deps.sh test installs it)');
    }
}

const args = process.argv.slice(2);
if (args.length !== 4) die('usage: verify_sendgrid.js PUBLIC-KEY TIMESTAMP BODY-FILE SIGNATURE');
const [publicKey, timestamp, bodyFile, signature] = args;

let body;
try {
    body = fs.readFileSync(bodyFile);
} catch (e) {
    die(`${bodyFile}: ${e.message}`);
}

const ew = new EventWebhook();
let key;
try {
    key = ew.convertPublicKeyToECDSA(publicKey);
} catch (e) {
    die(`the package cannot read the public key: ${e && e.message ? e.message : e}`);
}
let verified = false;
try {
    verified = ew.verifySignature(key, body, signature, timestamp) === true;
} catch (e) {
    process.stdout.write(`bad ${e && e.message ? e.message : e}\n`);
    process.exit(1);
}
process.stdout.write(verified ? 'ok\n' : 'bad signature does not verify\n');
process.exit(verified ? 0 : 1);
