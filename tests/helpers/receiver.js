#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * tests/helpers/receiver.js - a webhook receiver for the tests and benchmarks:
 * real HTTP/1.1 or HTTPS (HTTP/1.1 keep-alive, optionally HTTP/2) on the
 * loopback only, whose answer is chosen by the request's path, so one
 * receiver serves many endpoints. Node.js 18+ standard library only.
 *
 *   node receiver.js [--port 0] [--port-file FILE] [--bind 127.0.0.1]
 *                    [--tls-cert FILE --tls-key FILE [--h2]] [--log FILE]
 *                    [--quiet-log] [--max-seconds 300] [--keep-alive-ms 60000]
 *
 *   --port N          0 (default): any free port
 *   --port-file FILE  the bound port is written there (atomically, by
 *                     rename) once the server listens
 *   --bind ADDR       127.0.0.0/8, ::1 or localhost only (default 127.0.0.1)
 *   --tls-cert/--tls-key  PEM files: HTTPS instead of HTTP
 *   --h2              with TLS: HTTP/2 (ALPN h2) and HTTP/1.1 on one port
 *   --log FILE        one JSON line per request, written when the request
 *                     body is complete (before a /slow answer goes out):
 *                     {"t":ms since the epoch,"method","path" (as sent, with
 *                     any query),"headers":{lowercase name: value},
 *                     "body":UTF-8 text,"status":the status answered (0: no
 *                     complete answer: /hang, /reset),"conn":connection
 *                     number (1, 2, ... in order of first request),
 *                     "http":"1.1"|"2.0"} plus "body_b64" (the exact
 *                     bytes) when the body is not valid UTF-8. HTTP/2
 *                     pseudo-headers (":path"...) are left out.
 *   --quiet-log       no per-request lines at all (benchmarks): only the
 *                     counters of GET /_stats
 *   --max-seconds N   exit (status 0) after N seconds (default 300); SIGTERM
 *                     and SIGINT exit at once. Open sockets die with it.
 *   --keep-alive-ms N idle keep-alive connections are closed after N ms
 *
 * Paths ("exact path" = the path without its query string):
 *   /ok/...               200 "ok"
 *   /status/NNN/...       NNN (200..599) always; a 3xx carries
 *                         Location: http://127.0.0.1:1/ (or ?location=URL)
 *   /fail/N/...           500 for the first N requests to this exact path,
 *                         then 200
 *   /retry-after/S/...    429 + Retry-After: S for the first request to this
 *                         exact path, then 200
 *   /unavailable/S/...    the same with 503
 *   /hang/...             reads the request, never answers
 *   /reset/...            a status line and some headers, then the
 *                         connection is destroyed (HTTP/2: the stream is
 *                         reset after its headers)
 *   /big/...              200 with a 10 MB body
 *   /slow/MS/...          200 after MS milliseconds
 *   /gate/NAME/...        200 once the gate NAME is open (POST /_open/NAME);
 *                         until then the answer is held: a test can keep a
 *                         request in flight for as long as it needs,
 *                         without a timing guess
 *   anything else         404
 *   GET /_stats           {"requests":N,"connections":N,"events":N,
 *                          "unique_events":N,"status":{"200":N,...},
 *                          "latency_ms":{"p50":X,"p99":X,"max":X,"n":N}}
 *                         requests: every request but these two; events:
 *                         events (objects with a string "id") in POST bodies
 *                         answered 2xx (a body is an event object or an
 *                         array of them), unique_events: distinct ids; latency:
 *                         receipt time minus each such event's "timestamp"
 *                         (RFC 3339), in ms; p50/p99/max are null while n=0
 *   POST /_reset_stats    zero all of that (per-path counters too); 204
 *   POST /_open/NAME      open gate NAME: its held answers go out, later
 *                         requests are answered at once; 204
 * None of the last three is logged.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function usage(msg) {
    if (msg) process.stderr.write(`receiver: ${msg}\n`);
    process.stderr.write('usage: receiver.js [--port N] [--port-file FILE] [--bind ADDR] ' +
        '[--tls-cert FILE --tls-key FILE [--h2]] [--log FILE] [--quiet-log] ' +
        '[--max-seconds N] [--keep-alive-ms N]\n');
    process.exit(64);
}

const opt = {
    port: 0, portFile: null, bind: '127.0.0.1', cert: null, key: null, h2: false,
    log: null, quiet: false, maxSeconds: 300, keepAliveMs: 60000,
};
{
    const a = process.argv.slice(2);
    const val = (i) => { if (i + 1 >= a.length) usage(`${a[i]} needs a value`); return a[i + 1]; };
    const num = (i) => {
        const v = val(i);
        if (!/^\d+(\.\d+)?$/.test(v)) usage(`${a[i]}: not a number: ${v}`);
        return Number(v);
    };
    for (let i = 0; i < a.length; i++) {
        switch (a[i]) {
        case '--port': opt.port = num(i); i++; break;
        case '--port-file': opt.portFile = val(i); i++; break;
        case '--bind': opt.bind = val(i); i++; break;
        case '--tls-cert': opt.cert = val(i); i++; break;
        case '--tls-key': opt.key = val(i); i++; break;
        case '--h2': opt.h2 = true; break;
        case '--log': opt.log = val(i); i++; break;
        case '--quiet-log': opt.quiet = true; break;
        case '--max-seconds': opt.maxSeconds = num(i); i++; break;
        case '--keep-alive-ms': opt.keepAliveMs = num(i); i++; break;
        case '-h': case '--help': usage(); break;
        default: usage(`unknown argument: ${a[i]}`);
        }
    }
    if (!/^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/.test(opt.bind))
        usage(`--bind: only loopback addresses (127.0.0.0/8, ::1, localhost): ${opt.bind}`);
    if (!!opt.cert !== !!opt.key) usage('--tls-cert and --tls-key go together');
    if (opt.h2 && !opt.cert) usage('--h2 needs --tls-cert/--tls-key');
    if (opt.port > 65535) usage('--port: 0..65535');
}

/* ------------------------------------------------------------------ log */
// Lines are gathered during one turn of the event loop and written with one
// write(2) right after it: prompt (a line is in the file before the next
// timers or I/O run) yet cheap under load.
let logFd = -1;
let logBuf = [];
let logScheduled = false;
if (opt.log && !opt.quiet) logFd = fs.openSync(opt.log, 'a');
function logFlush() {
    logScheduled = false;
    if (logBuf.length === 0 || logFd < 0) return;
    const data = logBuf.join('');
    logBuf = [];
    fs.writeSync(logFd, data);
}
function logLine(obj) {
    if (logFd < 0) return;
    logBuf.push(JSON.stringify(obj) + '\n');
    if (!logScheduled) { logScheduled = true; setImmediate(logFlush); }
}

/* ---------------------------------------------------------------- stats */
let stats;
function resetStats() {
    stats = {
        requests: 0, events: 0, status: Object.create(null),
        lat: [], ids: new Set(), conns: 0,
        perPath: new Map(), // exact path -> requests so far (fail, retry-after)
    };
}
resetStats();
const connIds = new WeakMap(); // socket (HTTP/1) or session (HTTP/2) -> number
let connSeq = 0;

function percentile(sorted, p) {
    if (sorted.length === 0) return null;
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1));
    return sorted[i];
}
function statsJson() {
    const sorted = Float64Array.from(stats.lat).sort();
    const st = {};
    for (const k of Object.keys(stats.status)) st[k] = stats.status[k];
    return JSON.stringify({
        requests: stats.requests, connections: stats.conns, events: stats.events,
        unique_events: stats.ids.size, status: st,
        latency_ms: {
            p50: percentile(sorted, 50), p99: percentile(sorted, 99),
            max: sorted.length ? sorted[sorted.length - 1] : null, n: sorted.length,
        },
    });
}
// Events of a body answered 2xx: count them and their latency.
function countEvents(body, now) {
    if (body.length === 0) return;
    let v;
    try { v = JSON.parse(body); } catch (e) { return; }
    const one = (ev) => {
        if (ev === null || typeof ev !== 'object') return;
        /* SendGrid's shape names its event id sg_event_id */
        const id = typeof ev.id === 'string' ? ev.id : ev.sg_event_id;
        if (typeof id !== 'string') return;
        stats.events++;
        stats.ids.add(id);
        if (typeof ev.timestamp === 'string') {
            const ts = Date.parse(ev.timestamp);
            if (!Number.isNaN(ts)) stats.lat.push(now - ts);
        }
    };
    if (Array.isArray(v)) v.forEach(one); else one(v);
}

/* ------------------------------------------------------------- handling */
const TEXT = { 'content-type': 'text/plain' };
let bigBody = null; // 10 MB, made on first use
const BIG_SIZE = 10 * 1024 * 1024;
const gates = new Map(); // name -> { open: bool, held: [() => void] }

function gate(name) {
    if (!gates.has(name)) gates.set(name, { open: false, held: [] });
    return gates.get(name);
}

function send(res, status, body, extra) {
    const h = Object.assign({}, TEXT, extra || {});
    h['content-length'] = Buffer.byteLength(body);
    res.writeHead(status, h);
    res.end(body);
}

// What to do with a request: {status, headers, body, delay, action}.
function decide(req, exactPath, query) {
    const seg = exactPath.split('/'); // ['', 'ok', ...]
    const nth = () => {
        const n = (stats.perPath.get(exactPath) || 0) + 1;
        stats.perPath.set(exactPath, n);
        return n;
    };
    const isInt = (s) => typeof s === 'string' && /^\d{1,9}$/.test(s);
    switch (seg[1]) {
    case 'ok':
        return { status: 200 };
    case 'status': {
        if (!isInt(seg[2])) break;
        const s = Number(seg[2]);
        if (s < 200 || s > 599) break;
        const r = { status: s };
        if (s >= 300 && s < 400)
            r.headers = { location: query.get('location') || 'http://127.0.0.1:1/' };
        return r;
    }
    case 'fail':
        if (!isInt(seg[2])) break;
        return { status: nth() <= Number(seg[2]) ? 500 : 200 };
    case 'retry-after':
    case 'unavailable':
        if (!isInt(seg[2])) break;
        if (nth() === 1)
            return { status: seg[1] === 'retry-after' ? 429 : 503, headers: { 'retry-after': seg[2] } };
        return { status: 200 };
    case 'hang':
        return { status: 0, action: 'hang' };
    case 'reset':
        return { status: 0, action: 'reset' };
    case 'big':
        return { status: 200, action: 'big' };
    case 'slow':
        if (!isInt(seg[2])) break;
        return { status: 200, delay: Number(seg[2]) };
    case 'gate':
        if (!seg[2]) break;
        return { status: 200, gate: seg[2] };
    default:
        break;
    }
    return { status: 404 };
}

function reasonBody(status) {
    if (status >= 200 && status < 300) return 'ok';
    if (status === 404) return 'not found';
    return `status ${status}`;
}

function reset(req, res) {
    if (req.httpVersionMajor === 2) {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
        res.write('partial', () => req.stream.close(require('node:http2').constants.NGHTTP2_INTERNAL_ERROR));
        return;
    }
    const sock = req.socket;
    sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n',
        () => sock.destroy());
}

function respond(req, res, d) {
    if (d.action === 'hang') return;
    if (d.action === 'reset') { reset(req, res); return; }
    if (d.action === 'big') {
        if (!bigBody) bigBody = Buffer.alloc(BIG_SIZE, 'x');
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG_SIZE });
        res.end(bigBody);
        return;
    }
    const go = () => send(res, d.status, reasonBody(d.status), d.headers);
    if (d.delay) setTimeout(go, d.delay);
    else if (d.gate && !gate(d.gate).open) gate(d.gate).held.push(go);
    else go();
}

function connId(req) {
    const key = req.httpVersionMajor === 2 ? req.stream.session : req.socket;
    let id = connIds.get(key);
    if (id === undefined) {
        id = ++connSeq;
        connIds.set(key, id);
        stats.conns++;
    }
    return id;
}

function handler(req, res) {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => { chunks.push(c); size += c.length; });
    req.on('error', () => {});
    res.on('error', () => {});
    req.on('end', () => {
        const now = Date.now();
        const url = req.url || '/';
        const q = url.indexOf('?');
        const exactPath = q < 0 ? url : url.slice(0, q);
        if (exactPath === '/_stats' && req.method === 'GET') {
            send(res, 200, statsJson(), { 'content-type': 'application/json' });
            return;
        }
        if (exactPath.startsWith('/_open/') && req.method === 'POST') {
            const g = gate(exactPath.slice('/_open/'.length));
            g.open = true;
            g.held.splice(0).forEach((go) => go());
            res.writeHead(204);
            res.end();
            return;
        }
        if (exactPath === '/_reset_stats' && req.method === 'POST') {
            resetStats();
            res.writeHead(204);
            res.end();
            return;
        }
        const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
        const d = decide(req, exactPath, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
        const conn = connId(req);
        stats.requests++;
        const sk = String(d.status);
        stats.status[sk] = (stats.status[sk] || 0) + 1;
        let text = null;
        if (req.method === 'POST' && d.status >= 200 && d.status < 300) {
            text = body.toString('utf8');
            countEvents(text, now);
        }
        if (logFd >= 0) {
            if (text === null) text = body.toString('utf8');
            const headers = {};
            for (const k of Object.keys(req.headers)) if (k[0] !== ':') headers[k] = req.headers[k];
            const line = {
                t: now, method: req.method, path: url, headers, body: text,
                status: d.status, conn, http: req.httpVersion,
            };
            if (!Buffer.from(text, 'utf8').equals(body)) line.body_b64 = body.toString('base64');
            logLine(line);
        }
        respond(req, res, d);
    });
}

/* --------------------------------------------------------------- server */
let server;
if (opt.cert) {
    const tls = { cert: fs.readFileSync(opt.cert), key: fs.readFileSync(opt.key) };
    if (opt.h2) {
        server = require('node:http2').createSecureServer(Object.assign({ allowHTTP1: true }, tls), handler);
    } else {
        server = require('node:https').createServer(tls, handler);
    }
} else {
    server = require('node:http').createServer(handler);
}
// HTTP/1.1 keep-alive (node's default) with a generous idle time, so that a
// client's reuse of a connection does not race the server closing it.
server.keepAliveTimeout = opt.keepAliveMs;
if ('headersTimeout' in server) server.headersTimeout = opt.keepAliveMs + 1000;
if ('requestTimeout' in server) server.requestTimeout = 0; // /hang is bounded by --max-seconds
server.on('clientError', (err, sock) => { if (sock.writable) sock.end('HTTP/1.1 400 Bad Request\r\n\r\n'); else sock.destroy(); });
server.on('tlsClientError', () => {});
server.on('error', (err) => {
    process.stderr.write(`receiver: ${err.message}\n`);
    process.exit(1);
});

function finish(code) {
    try { logFlush(); } catch (e) { /* exiting anyway */ }
    process.exit(code);
}
process.on('SIGTERM', () => finish(0));
process.on('SIGINT', () => finish(0));
setTimeout(() => {
    process.stderr.write(`receiver: --max-seconds ${opt.maxSeconds} reached, exiting\n`);
    finish(0);
}, opt.maxSeconds * 1000);

server.listen(opt.port, opt.bind, () => {
    const port = server.address().port;
    if (opt.portFile) {
        const tmp = path.join(path.dirname(opt.portFile), `.${path.basename(opt.portFile)}.${process.pid}`);
        fs.writeFileSync(tmp, `${port}\n`);
        fs.renameSync(tmp, opt.portFile);
    }
    process.stderr.write(`receiver: ${opt.cert ? (opt.h2 ? 'https+h2' : 'https') : 'http'} ` +
        `listening on ${opt.bind}:${port} (pid ${process.pid})\n`);
});
