// A city system receiving eservices webhooks, started by the integration
// tests as a separate process. It checks every request's signature on its
// own, with npm's `standardwebhooks` package (the Standard Webhooks
// reference library), and answers as the test tells it: 204, 500, or never.
//
//   node receiver.mjs [--port N] [--exit-on-stdin-eof]
//
// Prints `READY http://127.0.0.1:PORT` once listening. Any POST outside
// /_control/ is an event for the subscriber at that path. Control:
//   POST /_control/secret    {"path": "/a", "secret": "whsec_…"}  the path's secret
//   POST /_control/mode      {"mode": "ok" | "fail" | "hang", "path"?: "/a"}
//                            how to answer (the path's, or every path's)
//   GET  /_control/received  every request received, oldest first:
//                            {path, id, timestamp, signature, body, verified,
//                             error, answered}  (answered: 204, 500 or null)

import http from 'node:http';
import { Webhook } from 'standardwebhooks';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const port = Number(option('--port', '0'));

const secrets = new Map();
const modes = new Map();
let defaultMode = 'ok';
const received = [];

const readBody = (req) =>
  new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

const json = (res, status, value) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
};

// The library's own check: signature over `{id}.{timestamp}.{body}` and a
// timestamp within five minutes of now.
function verify(path, raw, headers) {
  const secret = secrets.get(path);
  if (!secret) return { verified: false, error: 'no secret for this path' };
  try {
    new Webhook(secret).verify(raw.toString('utf8'), {
      'webhook-id': headers['webhook-id'],
      'webhook-timestamp': headers['webhook-timestamp'],
      'webhook-signature': headers['webhook-signature'],
    });
    return { verified: true, error: null };
  } catch (err) {
    return { verified: false, error: String(err.message || err) };
  }
}

async function control(req, res, url) {
  if (req.method === 'GET' && url.pathname === '/_control/received') {
    return json(res, 200, received);
  }
  const body = JSON.parse((await readBody(req)).toString('utf8') || '{}');
  if (req.method === 'POST' && url.pathname === '/_control/secret') {
    secrets.set(body.path, body.secret);
    return json(res, 200, { ok: true });
  }
  if (req.method === 'POST' && url.pathname === '/_control/mode') {
    if (!['ok', 'fail', 'hang'].includes(body.mode)) return json(res, 400, { error: 'mode' });
    if (body.path) modes.set(body.path, body.mode);
    else {
      modes.clear();
      defaultMode = body.mode;
    }
    return json(res, 200, { ok: true });
  }
  return json(res, 404, { error: 'unknown control' });
}

async function event(req, res, url) {
  const raw = await readBody(req);
  const { verified, error } = verify(url.pathname, raw, req.headers);
  let body = null;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    body = raw.toString('utf8');
  }
  const mode = modes.get(url.pathname) ?? defaultMode;
  const record = {
    path: url.pathname,
    id: req.headers['webhook-id'] ?? null,
    timestamp: req.headers['webhook-timestamp'] ?? null,
    signature: req.headers['webhook-signature'] ?? null,
    content_type: req.headers['content-type'] ?? null,
    body,
    verified,
    error,
    answered: null,
  };
  received.push(record);
  if (mode === 'hang') return; // never answers; the sender gives up
  // A real subscriber refuses what it cannot verify.
  const status = mode === 'fail' ? 500 : verified ? 204 : 400;
  record.answered = status;
  res.writeHead(status);
  res.end();
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://receiver');
  const handle = url.pathname.startsWith('/_control/') ? control : event;
  handle(req, res, url).catch((err) => json(res, 500, { error: String(err) }));
});
server.requestTimeout = 0;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`READY http://127.0.0.1:${server.address().port}\n`);
});

if (args.includes('--exit-on-stdin-eof')) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
