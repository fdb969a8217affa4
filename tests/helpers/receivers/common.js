// SPDX-License-Identifier: MIT
/*
 * tests/helpers/receivers/common.js - what the service receivers beside it
 * share, so that each of them is only the handler its service's document
 * shows: the command line, an HTTPS (or HTTP) server on the loopback, the
 * request body, a minimal Express-like req/res, and the NDJSON log. Node.js
 * 18+ standard library only (Express is not installed: the body is parsed
 * as express.json() parses it, JSON.parse of the raw text).
 *
 *   serve(name, handler)   parse process.argv, start the server, call
 *                          handler(req, res, opt) for every request; returns
 *                          nothing. Options (start_receiver in
 *                          tests/lib/receiver.sh passes the first ones):
 *       --port N --port-file FILE --bind ADDR --tls-cert FILE --tls-key FILE
 *       --log FILE --max-seconds N   as tests/helpers/receiver.js has them
 *       --secret S        the shared secret (signing key, app secret)
 *       --public-key K    a public key (SendGrid: base64 DER, as its
 *                         settings page shows it)
 *       --auth USER:PASS  the HTTP basic credentials to require
 *   req                    {method, url, path, headers (lowercase names),
 *                          rawBody (the text), body (express.json(): the
 *                          parsed JSON when Content-Type is JSON, else {})}
 *   res.status(n)          sets the status; returns res
 *   res.send(text) / res.json(value)   answers (once); res.sent: status
 *   res.log(fields)        the request's log line gets these members:
 *                          ok (the signature or credential check), type,
 *                          read (each field the handler read: its value,
 *                          null if absent), missing (the names of those
 *                          that were absent), ...
 *   pick(obj, names)       {read, missing} for dotted names in obj
 *   basicAuthOk(req, opt)  whether Authorization is Basic opt.auth
 * Each log line: {"t", "path", "method", "receiver", "status", "ms" (time
 * to answer), plus what res.log gave}. A body that is not JSON is answered
 * 400 as express.json() does ({"ok": false, "error": "..."} is logged).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function usage(name, msg) {
    process.stderr.write(`${name}: ${msg}\n`);
    process.exit(64);
}

function parseArgs(name) {
    const opt = {
        port: 0, portFile: null, bind: '127.0.0.1', cert: null, key: null, log: null,
        maxSeconds: 300, secret: null, publicKey: null, auth: null,
    };
    const a = process.argv.slice(2);
    const val = (i) => { if (i + 1 >= a.length) usage(name, `${a[i]} needs a value`); return a[i + 1]; };
    for (let i = 0; i < a.length; i++) {
        switch (a[i]) {
        case '--port': opt.port = Number(val(i)); i++; break;
        case '--port-file': opt.portFile = val(i); i++; break;
        case '--bind': opt.bind = val(i); i++; break;
        case '--tls-cert': opt.cert = val(i); i++; break;
        case '--tls-key': opt.key = val(i); i++; break;
        case '--log': opt.log = val(i); i++; break;
        case '--max-seconds': opt.maxSeconds = Number(val(i)); i++; break;
        case '--secret': opt.secret = val(i); i++; break;
        case '--public-key': opt.publicKey = val(i); i++; break;
        case '--auth': opt.auth = val(i); i++; break;
        default: usage(name, `unknown argument: ${a[i]}`);
        }
    }
    if (!/^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/.test(opt.bind))
        usage(name, `--bind: loopback addresses only: ${opt.bind}`);
    if (!!opt.cert !== !!opt.key) usage(name, '--tls-cert and --tls-key go together');
    if (!Number.isFinite(opt.maxSeconds) || opt.maxSeconds <= 0) usage(name, '--max-seconds: a number > 0');
    return opt;
}

// Dotted names ("data.contact.email") read from obj.
function pick(obj, names) {
    const read = {};
    const missing = [];
    for (const n of names) {
        let v = obj;
        for (const k of n.split('.')) v = (v === null || typeof v !== 'object') ? undefined : v[k];
        if (v === undefined) missing.push(n);
        read[n] = v === undefined ? null : v;
    }
    return { read, missing };
}

function basicAuthOk(req, opt) {
    const h = req.headers.authorization || '';
    if (!opt.auth || !h.startsWith('Basic ')) return false;
    const got = Buffer.from(h.slice(6), 'base64');
    const want = Buffer.from(opt.auth);
    return got.length === want.length && require('node:crypto').timingSafeEqual(got, want);
}

function serve(name, handler) {
    const opt = parseArgs(name);
    const logFd = opt.log ? fs.openSync(opt.log, 'a') : -1;
    const onRequest = (nreq, nres) => {
        const chunks = [];
        nreq.on('data', (c) => chunks.push(c));
        nreq.on('error', () => {});
        nres.on('error', () => {});
        nreq.on('end', () => {
            const t0 = Date.now();
            const raw = Buffer.concat(chunks).toString('utf8');
            const url = nreq.url || '/';
            const q = url.indexOf('?');
            const req = {
                method: nreq.method, url, path: q < 0 ? url : url.slice(0, q),
                headers: nreq.headers, rawBody: raw, body: {},
            };
            const line = { t: t0, receiver: name, method: req.method, path: url };
            const res = {
                code: 200, sent: 0,
                status(n) { this.code = n; return this; },
                send(text) {
                    if (this.sent) return this;
                    this.sent = this.code;
                    const b = String(text);
                    nres.writeHead(this.code, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(b) });
                    nres.end(b);
                    line.status = this.code;
                    line.ms = Date.now() - t0;
                    if (logFd >= 0) fs.writeSync(logFd, JSON.stringify(line) + '\n');
                    return this;
                },
                json(v) {
                    if (this.sent) return this;
                    const b = JSON.stringify(v);
                    this.sent = this.code;
                    nres.writeHead(this.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) });
                    nres.end(b);
                    line.status = this.code;
                    line.ms = Date.now() - t0;
                    if (logFd >= 0) fs.writeSync(logFd, JSON.stringify(line) + '\n');
                    return this;
                },
                log(fields) { Object.assign(line, fields); return this; },
            };
            // express.json(): JSON bodies only (strict: an object or an array).
            if (/^application\/([a-z.+-]*\+)?json\b/i.test(req.headers['content-type'] || '') && raw.length) {
                const first = raw.trimStart()[0];
                try {
                    if (first !== '{' && first !== '[') throw new Error(`Unexpected token ${first} in JSON`);
                    req.body = JSON.parse(raw);
                } catch (e) {
                    res.log({ ok: false, error: `express.json: ${e.message}` }).status(400).send('Bad Request');
                    return;
                }
            }
            try {
                handler(req, res, opt);
            } catch (e) {
                res.log({ error: `handler threw: ${e.message}` }).status(500).send('Internal Server Error');
            }
            if (!res.sent) res.log({ error: 'handler did not answer' }).status(500).send('no answer');
        });
    };
    let server;
    if (opt.cert) {
        // TLS 1.2 and above (Paubox requires it of receivers; all accept it).
        server = require('node:https').createServer({
            cert: fs.readFileSync(opt.cert), key: fs.readFileSync(opt.key), minVersion: 'TLSv1.2',
        }, onRequest);
    } else {
        server = require('node:http').createServer(onRequest);
    }
    server.on('error', (e) => { process.stderr.write(`${name}: ${e.message}\n`); process.exit(1); });
    server.on('tlsClientError', () => {});
    const stop = () => process.exit(0);
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    setTimeout(() => {
        process.stderr.write(`${name}: --max-seconds ${opt.maxSeconds} reached, exiting\n`);
        process.exit(0);
    }, opt.maxSeconds * 1000).unref();
    server.listen(opt.port, opt.bind, () => {
        const port = server.address().port;
        if (opt.portFile) {
            const tmp = path.join(path.dirname(opt.portFile), `.${path.basename(opt.portFile)}.${process.pid}`);
            fs.writeFileSync(tmp, `${port}\n`);
            fs.renameSync(tmp, opt.portFile);
        }
        process.stderr.write(`${name}: ${opt.cert ? 'https' : 'http'} listening on ${opt.bind}:${port} (pid ${process.pid})\n`);
    });
}

module.exports = { serve, pick, basicAuthOk };
