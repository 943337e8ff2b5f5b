#!/usr/bin/env node
// Test-only simulator of the national payment platform (docs: README.md here).
//
// An independent implementation of the platform side of the protocol our
// payment adapter speaks: create a transaction, query it, a payment page, and
// callbacks (IPN) to the merchant, plus `/_control/` endpoints that let a test
// settle transactions and make the platform misbehave. Plain HTTP on
// 127.0.0.1, all state in memory. NEVER use it outside tests.
//
// Environment: PORT (0 = any free port, the default), MERCHANT_CODE, KEY1, KEY2
// (required), EXIT_ON_STDIN_EOF=1 (optional: exit when stdin closes).
// Stdout: exactly one line `{"port": <n>}` once listening; logs go to stderr.
// Exit codes: 0 after SIGTERM/SIGINT, 2 bad settings, 1 anything else.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';

// ---------------------------------------------------------------- settings
const { PORT = '0', MERCHANT_CODE, KEY1, KEY2 } = process.env;
for (const [name, value] of Object.entries({ MERCHANT_CODE, KEY1, KEY2 })) {
  if (!value) {
    process.stderr.write(`payment platform: ${name} is required\n`);
    process.exit(2);
  }
}
if (!/^\d+$/.test(PORT) || Number(PORT) > 65535) {
  process.stderr.write(`payment platform: invalid PORT ${PORT}\n`);
  process.exit(2);
}
const log = (message) => process.stderr.write(`payment platform: ${message}\n`);

const IPN_TIMEOUT_MS = 5000;
const IPN_RETRY_DELAYS_MS = [1000, 2000, 4000]; // after the first attempt
const STATUSES = ['paid', 'failed', 'cancelled'];

// ---------------------------------------------------------------- checksums and times
/** Lowercase hex HMAC-SHA256 of the fields joined by `|` (UTF-8). */
const sign = (key, fields) => createHmac('sha256', key).update(fields.map(String).join('|')).digest('hex');

function checksumMatches(key, fields, given) {
  const expected = Buffer.from(sign(key, fields));
  const actual = Buffer.from(typeof given === 'string' ? given : '');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** `yyyyMMddHHmmss` in Asia/Ho_Chi_Minh (UTC+7, no daylight saving). */
const hcmTime = (date = new Date()) => new Date(date.getTime() + 7 * 3600e3)
  .toISOString().replace(/[-:T]/g, '').slice(0, 14);

function isHcmTime(value) {
  const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)$/.exec(value ?? '');
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && h < 24 && mi < 60 && s < 60;
}

// ---------------------------------------------------------------- validation of a creation
const isText = (v) => typeof v === 'string' && v.trim() !== '';
const isAmount = (v) => Number.isSafeInteger(v) && v > 0;
function isHttpUrl(v) {
  try {
    return typeof v === 'string' && ['http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}

/** The first thing wrong with a creation request's fields, or null. */
function creationProblem(req) {
  if (req.merchant_code !== MERCHANT_CODE) return 'unknown merchant_code';
  if (!/^[A-Za-z0-9-]{1,64}$/.test(req.transaction_id ?? '')) return 'transaction_id must be 1-64 [A-Za-z0-9-]';
  if (!isAmount(req.amount)) return 'amount must be a positive whole number of VND';
  if (req.currency !== 'VND') return 'currency must be VND';
  if (!isText(req.description)) return 'description is required';
  if (!isHttpUrl(req.return_url)) return 'return_url must be an http(s) URL';
  if (!isHttpUrl(req.ipn_url)) return 'ipn_url must be an http(s) URL';
  if (!isHcmTime(req.created_at)) return 'created_at must be yyyyMMddHHmmss';
  const bill = req.bill;
  if (!bill || typeof bill !== 'object') return 'bill is required';
  for (const field of ['service_code', 'agency_code', 'dossier_number']) {
    if (!isText(bill[field])) return `bill.${field} is required`;
  }
  if (typeof bill.procedure_code !== 'string') return 'bill.procedure_code must be a string (may be empty)';
  if (!isText(bill.payer?.name) || !isText(bill.payer?.id_number)) return 'bill.payer needs name and id_number';
  const lines = bill.fee_lines;
  if (!Array.isArray(lines) || lines.length === 0) return 'bill.fee_lines must be a non-empty array';
  if (!lines.every((l) => isText(l?.name) && isAmount(l?.amount))) return 'each fee line needs a name and a positive amount';
  if (lines.reduce((sum, l) => sum + l.amount, 0) !== req.amount) return 'the fee lines do not add up to the amount';
  return null;
}

// ---------------------------------------------------------------- state
const byId = new Map(); // transaction_id -> transaction
const byPlatformId = new Map(); // platform_transaction_id -> transaction
const mode = { create: 'ok', query: 'ok' };
let baseUrl = ''; // set once listening

// ---------------------------------------------------------------- callbacks (IPN)
function ipnPayload(tx, { status = tx.status, amount = tx.amount, paidAt = tx.paid_at, forge = false } = {}) {
  const fields = [MERCHANT_CODE, tx.transaction_id, tx.platform_transaction_id, amount, status, paidAt];
  const key = forge ? randomBytes(32) : KEY2;
  return {
    merchant_code: MERCHANT_CODE, transaction_id: tx.transaction_id,
    platform_transaction_id: tx.platform_transaction_id, amount, status, paid_at: paidAt,
    checksum: sign(key, fields),
  };
}

/** One POST to the ipn_url, recorded on the transaction. Returns {status, body} (status null: no answer). */
async function attempt(tx, payload, delivery) {
  const record = { delivery, at: new Date().toISOString(), sent: payload, status: null, body: null };
  tx.ipn_attempts.push(record);
  try {
    const res = await fetch(tx.ipn_url, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload), signal: AbortSignal.timeout(IPN_TIMEOUT_MS),
    });
    const text = await res.text();
    record.status = res.status;
    try { record.body = JSON.parse(text); } catch { record.body = text; }
  } catch (err) {
    record.error = err.name === 'TimeoutError' ? 'timeout' : err.message;
  }
  log(`IPN ${payload.status} ${tx.transaction_id} (delivery ${delivery}) -> ${record.status ?? record.error}`);
  return { status: record.status, body: record.body, ...(record.error ? { error: record.error } : {}) };
}

/**
 * Sends a callback, retrying a non-2xx or no answer up to 3 more times with
 * backoff; `afterFirst` is called once the first attempt is answered.
 */
async function deliver(tx, payload, afterFirst = () => {}) {
  const delivery = ++tx.deliveries;
  const results = [];
  for (let i = 0; ; i += 1) {
    const result = await attempt(tx, payload, delivery);
    results.push(result);
    if (i === 0) afterFirst();
    if ((result.status >= 200 && result.status < 300) || i === IPN_RETRY_DELAYS_MS.length) return results;
    await new Promise((resolve) => setTimeout(resolve, IPN_RETRY_DELAYS_MS[i]));
  }
}

function settle(tx, outcome) {
  tx.status = outcome;
  tx.paid_at = hcmTime();
}

// ---------------------------------------------------------------- HTTP plumbing
class HttpError extends Error {
  constructor(status, body) { super(JSON.stringify(body)); Object.assign(this, { status, body }); }
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > 1e6) throw new HttpError(413, { code: '02', message: 'body too large' });
  }
  return Buffer.concat(chunks).toString('utf8'); // whole, so no UTF-8 sequence is split
}

async function readJson(req) {
  try {
    const value = JSON.parse(await readBody(req));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch (err) {
    if (err instanceof HttpError) throw err;
  }
  throw new HttpError(400, { code: '02', message: 'the body must be a JSON object' });
}

function send(res, status, body, headers = {}) {
  const isText = typeof body === 'string';
  res.writeHead(status, {
    'content-type': isText ? 'text/html; charset=utf-8' : 'application/json', ...headers,
  });
  res.end(isText ? body : JSON.stringify(body));
}

/** Applies a misbehaviour set with /_control/mode; true when the request was handled. */
function misbehave(which, res) {
  switch (mode[which]) {
    case 'timeout': return true; // never answer; closed when the simulator stops
    case 'error': send(res, 500, { code: '99', message: 'simulated platform error' }); return true;
    case 'garbage': res.writeHead(200, { 'content-type': 'application/json' }); res.end('<html>oops'); return true;
    default: return false;
  }
}

// ---------------------------------------------------------------- the platform API
async function createTransaction(req, res) {
  if (misbehave('create', res)) return;
  const body = await readJson(req);
  const signed = ['merchant_code', 'transaction_id', 'amount', 'currency', 'description', 'return_url', 'ipn_url', 'created_at'];
  if (!checksumMatches(KEY1, signed.map((f) => body[f] ?? ''), body.checksum)) {
    throw new HttpError(400, { code: '97', message: 'invalid checksum' });
  }
  const problem = creationProblem(body);
  if (problem) throw new HttpError(400, { code: '02', message: problem });
  let tx = byId.get(body.transaction_id);
  if (tx && tx.amount !== body.amount) {
    throw new HttpError(409, { code: '09', message: 'transaction_id already used with another amount' });
  }
  if (!tx) {
    const platformId = `PG${hcmTime()}${randomBytes(4).toString('hex').toUpperCase()}`;
    tx = {
      ...Object.fromEntries(signed.map((f) => [f, body[f]])), platform_transaction_id: platformId,
      payment_url: `${baseUrl}/pay/${platformId}`, status: 'pending', paid_at: '',
      bill: body.bill, bills: [], ipn_attempts: [], deliveries: 0,
    };
    byId.set(tx.transaction_id, tx);
    byPlatformId.set(platformId, tx);
  }
  tx.bills.push(body.bill); // every accepted request, repeats included
  const answer = [tx.transaction_id, tx.platform_transaction_id, tx.payment_url, tx.status];
  send(res, 200, {
    code: '00', transaction_id: tx.transaction_id, platform_transaction_id: tx.platform_transaction_id,
    payment_url: tx.payment_url, status: tx.status, checksum: sign(KEY2, answer),
  });
}

async function queryTransaction(req, res) {
  if (misbehave('query', res)) return;
  const body = await readJson(req);
  if (!checksumMatches(KEY1, [body.merchant_code ?? '', body.transaction_id ?? ''], body.checksum)) {
    throw new HttpError(400, { code: '97', message: 'invalid checksum' });
  }
  if (body.merchant_code !== MERCHANT_CODE) throw new HttpError(400, { code: '02', message: 'unknown merchant_code' });
  const tx = byId.get(body.transaction_id);
  if (!tx) throw new HttpError(404, { code: '01', message: 'unknown transaction' });
  const fields = [MERCHANT_CODE, tx.transaction_id, tx.platform_transaction_id, tx.amount, tx.status, tx.paid_at];
  send(res, 200, {
    code: '00', merchant_code: MERCHANT_CODE, transaction_id: tx.transaction_id,
    platform_transaction_id: tx.platform_transaction_id, amount: tx.amount, status: tx.status,
    paid_at: tx.paid_at, checksum: sign(KEY2, fields),
  });
}

// ---------------------------------------------------------------- the payment page
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, inner) => `<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body>${inner}</body></html>`;

function paymentPage(tx, res) {
  const action = (what) => `/pay/${escape(tx.platform_transaction_id)}/${what}`;
  send(res, 200, page('Thanh toán', `<h1>Thanh toán</h1>
<p id="description">${escape(tx.description)}</p><p id="amount">${tx.amount} VND</p><p id="status">${tx.status}</p>
<form id="pay" method="post" action="${action('pay')}"><button type="submit">Thanh toán</button></form>
<form id="cancel" method="post" action="${action('cancel')}"><button type="submit">Hủy</button></form>`));
}

/** The payer's choice: settle, send the IPN (its first attempt is awaited), back to return_url. */
async function payerChoice(tx, choice, req, res) {
  await readBody(req);
  if (tx.status !== 'pending') {
    send(res, 409, page('Đã xử lý', `<p id="error">Giao dịch đã ở trạng thái ${escape(tx.status)}.</p>`));
    return;
  }
  settle(tx, choice === 'pay' ? 'paid' : 'cancelled');
  const payload = ipnPayload(tx);
  await new Promise((resolve) => { deliver(tx, payload, resolve); }); // retries go on in the background
  const target = new URL(tx.return_url);
  target.searchParams.set('transaction_id', tx.transaction_id);
  target.searchParams.set('status', tx.status);
  send(res, 303, page('Chuyển hướng', ''), { location: target.href });
}

// ---------------------------------------------------------------- control endpoints (tests only)
function knownTransaction(id) {
  const tx = byId.get(id);
  if (!tx) throw new HttpError(404, { error: `unknown transaction ${id}` });
  return tx;
}

async function controlPay(req, res) {
  const { transaction_id: id, outcome, ipn = 'normal', late_ms: lateMs = 0, amount, forge = false } = await readJson(req);
  const tx = knownTransaction(id);
  if (!STATUSES.includes(outcome)) throw new HttpError(400, { error: `outcome must be one of ${STATUSES}` });
  if (!['normal', 'none', 'duplicate', 'late'].includes(ipn)) throw new HttpError(400, { error: 'bad ipn' });
  if (amount !== undefined && !Number.isSafeInteger(amount)) throw new HttpError(400, { error: 'bad amount' });
  if (!Number.isSafeInteger(lateMs) || lateMs < 0) throw new HttpError(400, { error: 'bad late_ms' });
  if (tx.status !== 'pending') throw new HttpError(409, { error: `transaction already ${tx.status}` });
  settle(tx, outcome);
  const payload = ipnPayload(tx, { amount: amount ?? tx.amount, forge: forge === true });
  let attempts = [];
  if (ipn === 'normal') attempts = await deliver(tx, payload);
  if (ipn === 'duplicate') attempts = (await Promise.all([deliver(tx, payload), deliver(tx, payload)])).flat();
  if (ipn === 'late') setTimeout(() => deliver(tx, payload), lateMs);
  send(res, 200, { attempts });
}

async function controlIpn(req, res) {
  const { transaction_id: id, status, amount, paid_at: paidAt, forge = false } = await readJson(req);
  const tx = knownTransaction(id);
  if (typeof status !== 'string') throw new HttpError(400, { error: 'status must be a string' });
  const payload = ipnPayload(tx, { status, amount: amount ?? tx.amount, paidAt: paidAt ?? hcmTime(), forge: forge === true });
  const result = await attempt(tx, payload, ++tx.deliveries);
  send(res, 200, { attempts: [result] });
}

async function controlMode(req, res) {
  const body = await readJson(req);
  for (const which of ['create', 'query']) {
    if (body[which] === undefined) continue;
    if (!['ok', 'timeout', 'error', 'garbage'].includes(body[which])) throw new HttpError(400, { error: `bad ${which}` });
    mode[which] = body[which];
  }
  send(res, 200, mode);
}

function controlTransactions(res) {
  send(res, 200, { transactions: [...byId.values()].map(({ deliveries, ...tx }) => tx) });
}

// ---------------------------------------------------------------- routing and start-up
async function route(req, res) {
  const { pathname } = new URL(req.url, baseUrl);
  const key = `${req.method} ${pathname}`;
  if (key === 'POST /api/v1/transactions') return createTransaction(req, res);
  if (key === 'POST /api/v1/transactions/query') return queryTransaction(req, res);
  if (key === 'POST /_control/pay') return controlPay(req, res);
  if (key === 'POST /_control/ipn') return controlIpn(req, res);
  if (key === 'POST /_control/mode') return controlMode(req, res);
  if (key === 'GET /_control/transactions') return controlTransactions(res);
  const pay = /^\/pay\/([A-Za-z0-9]+)(?:\/(pay|cancel))?$/.exec(pathname);
  const tx = pay && byPlatformId.get(pay[1]);
  if (pay && !tx) return send(res, 404, page('Không tìm thấy', '<p id="error">Không tìm thấy giao dịch.</p>'));
  if (tx && req.method === 'GET' && !pay[2]) return paymentPage(tx, res);
  if (tx && req.method === 'POST' && pay[2]) return payerChoice(tx, pay[2], req, res);
  return send(res, 404, { code: '02', message: `no route ${key}` });
}

const server = http.createServer((req, res) => {
  route(req, res).catch((err) => {
    if (!(err instanceof HttpError)) log(`error on ${req.method} ${req.url}: ${err.stack}`);
    if (!res.headersSent) send(res, err.status ?? 500, err.body ?? { code: '99', message: 'internal error' });
  });
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // including requests held open by the `timeout` mode
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (process.env.EXIT_ON_STDIN_EOF === '1') {
  process.stdin.on('end', stop).on('error', stop).resume();
}

server.on('error', (err) => {
  log(`cannot listen: ${err.message}`);
  process.exit(1);
});
server.listen(Number(PORT), '127.0.0.1', () => {
  const { port } = server.address();
  baseUrl = `http://127.0.0.1:${port}`;
  process.stdout.write(`{"port": ${port}}\n`);
  log(`listening on ${baseUrl} as merchant platform for ${MERCHANT_CODE}`);
});
