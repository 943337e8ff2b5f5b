#!/usr/bin/env node
// Self-test of platform.mjs: `node selftest.mjs` (from any directory).
// Starts the simulator and a throwaway merchant listener (the IPN receiver),
// speaks the protocol to it, and makes it misbehave. One line per check, then
// `N passed, N failed`; exits 0 only if every check passed. The simulator's
// stderr is printed when a check fails (always with PAYMENT_SELFTEST_VERBOSE=1).

import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const MERCHANT = 'HCMC-DVC';
const KEY1 = 'key-one-0123456789abcdef';
const KEY2 = 'key-two-0123456789abcdef';
const sign = (key, fields) => createHmac('sha256', key).update(fields.join('|')).digest('hex');

let passed = 0;
let failed = 0;
function check(name, condition, detail = '') {
  if (condition) passed += 1; else failed += 1;
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${name}${!condition && detail ? ` -- ${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : ''}`);
}

// ---------------------------------------------------------------- the merchant listener
// Records every callback; `script` holds what to do with the next ones
// ('ok' by default, 500 or 'hang').
const merchant = { received: [], script: [] };
const listener = http.createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  merchant.received.push({ at: Date.now(), body: JSON.parse(body) });
  const next = merchant.script.shift() ?? 'ok';
  if (next === 'hang') return;
  res.writeHead(next === 'ok' ? 200 : next, { 'content-type': 'application/json' });
  res.end(JSON.stringify(next === 'ok' ? { code: '00', message: 'recorded' } : { code: '99' }));
});
await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
const merchantUrl = `http://127.0.0.1:${listener.address().port}`;
const ipnValid = (ipn) => ipn.checksum === sign(KEY2, [ipn.merchant_code, ipn.transaction_id,
  ipn.platform_transaction_id, ipn.amount, ipn.status, ipn.paid_at]);

// ---------------------------------------------------------------- the simulator
let stderr = '';
const child = spawn(process.execPath, [path.join(here, 'platform.mjs')], {
  env: { ...process.env, PORT: '0', MERCHANT_CODE: MERCHANT, KEY1, KEY2 },
  stdio: ['ignore', 'pipe', 'pipe'],
});
child.stderr.on('data', (d) => { stderr += d; });
const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
let stdout = '';
const port = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no port line within 10 s: ${stderr}`)), 10000);
  child.stdout.on('data', (d) => {
    stdout += d;
    if (stdout.includes('\n')) { clearTimeout(timer); resolve(JSON.parse(stdout.split('\n')[0]).port); }
  });
});
const base = `http://127.0.0.1:${port}`;

async function call(method, url, body, extra = {}) {
  const res = await fetch(new URL(url, base), {
    method, redirect: 'manual', ...extra,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, text, json, location: res.headers.get('location') };
}

const SIGNED = ['merchant_code', 'transaction_id', 'amount', 'currency', 'description', 'return_url', 'ipn_url', 'created_at'];
function creation(id, overrides = {}, key = KEY1) {
  const amount = overrides.amount ?? 150000;
  const req = {
    merchant_code: MERCHANT, transaction_id: id, amount, currency: 'VND',
    description: 'Lệ phí cấp giấy phép | hồ sơ', return_url: `${merchantUrl}/back?x=1`,
    ipn_url: `${merchantUrl}/api/v1/payments/callback`, created_at: '20261205093000',
    bill: {
      service_code: 'SV-01', procedure_code: '', agency_code: 'Q1', dossier_number: 'HS-000123',
      payer: { name: 'Nguyễn Văn An', id_number: '079090001234' },
      fee_lines: [{ name: 'Lệ phí', amount }],
    },
    ...overrides,
  };
  return { ...req, checksum: sign(key, SIGNED.map((f) => req[f])) };
}
const create = (...args) => call('POST', '/api/v1/transactions', creation(...args));
const query = (id, key = KEY1) => call('POST', '/api/v1/transactions/query',
  { merchant_code: MERCHANT, transaction_id: id, checksum: sign(key, [MERCHANT, id]) });
const control = (what, body) => call(body === undefined ? 'GET' : 'POST', `/_control/${what}`, body);
const statuses = (r) => JSON.stringify(r.json?.attempts?.map((a) => a.status));

async function main() {
  check('prints exactly {"port": <n>}', /^\{"port": \d+\}\n$/.test(stdout), stdout);

  // Creation, its answer, idempotency
  const a = await create('TX-1');
  const t = a.json ?? {};
  check('create -> 200 code 00 pending', a.status === 200 && t.code === '00' && t.status === 'pending', a.text);
  check('create answer signed with key 2', t.checksum === sign(KEY2, [t.transaction_id, t.platform_transaction_id, t.payment_url, t.status]), t);
  check('payment_url is {base}/pay/PG…', t.payment_url === `${base}/pay/${t.platform_transaction_id}` && t.platform_transaction_id.startsWith('PG'), t);
  const again = await create('TX-1');
  check('same id and amount -> 200, same platform transaction', again.status === 200 && again.json.platform_transaction_id === t.platform_transaction_id, again.text);
  const other = await create('TX-1', { amount: 150001 });
  check('same id, other amount -> 409 code 09', other.status === 409 && other.json.code === '09', other.text);
  const forged = await create('TX-2', {}, 'wrong-key');
  check('wrong checksum -> 400 code 97', forged.status === 400 && forged.json.code === '97', forged.text);
  for (const [what, overrides] of Object.entries({
    'amount 0': { amount: 0 }, 'amount 1.5': { amount: 1.5 }, 'amount as a string': { amount: '150000' },
    'currency USD': { currency: 'USD' }, 'created_at 2026-12-05': { created_at: '2026-12-05' },
    'created_at 20261332093000': { created_at: '20261332093000' }, 'ipn_url ftp://': { ipn_url: 'ftp://x/y' },
    'transaction_id TX_3': { transaction_id: 'TX_3' }, 'another merchant': { merchant_code: 'OTHER' },
  })) {
    const r = await create(overrides.transaction_id ?? 'TX-3', overrides);
    check(`${what} -> 400 code 02`, r.status === 400 && r.json.code === '02', r.text);
  }
  const unbalanced = creation('TX-3', { amount: 200000 });
  unbalanced.bill.fee_lines = [{ name: 'Lệ phí', amount: 150000 }];
  const r = await call('POST', '/api/v1/transactions', unbalanced);
  check('fee lines not adding up -> 400 code 02', r.status === 400 && r.json.code === '02', r.text);
  const notJson = await call('POST', '/api/v1/transactions', undefined, { body: 'nope' });
  check('non-JSON body -> 400 code 02', notJson.status === 400 && notJson.json.code === '02', notJson.text);

  // Query
  const q = await query('TX-1');
  check('query pending -> 200, paid_at "", signed with key 2', q.status === 200 && q.json.status === 'pending' && q.json.paid_at === ''
    && q.json.amount === 150000 && ipnValid(q.json), q.text);
  check('query unknown -> 404 code 01', (await query('NOPE')).json?.code === '01');
  const qBad = await query('TX-1', 'wrong');
  check('query wrong checksum -> 400 code 97', qBad.status === 400 && qBad.json.code === '97', qBad.text);

  // Settling through /_control/pay
  const paid = await control('pay', { transaction_id: 'TX-1', outcome: 'paid', ipn: 'normal' });
  const ipn = merchant.received.at(-1)?.body ?? {};
  check('pay normal -> one attempt answered 200', paid.status === 200 && statuses(paid) === '[200]', paid.text);
  check('the attempt carries the merchant\'s answer', paid.json.attempts[0].body.code === '00', paid.text);
  check('IPN paid, signed with key 2, right fields', ipn.status === 'paid' && ipnValid(ipn) && ipn.amount === 150000
    && ipn.platform_transaction_id === t.platform_transaction_id && /^\d{14}$/.test(ipn.paid_at), ipn);
  const q2 = (await query('TX-1')).json;
  check('query -> paid with the IPN\'s paid_at', q2.status === 'paid' && q2.paid_at === ipn.paid_at && ipnValid(q2), q2);
  check('paying twice -> 409', (await control('pay', { transaction_id: 'TX-1', outcome: 'paid' })).status === 409);
  check('pay unknown -> 404', (await control('pay', { transaction_id: 'NOPE', outcome: 'paid' })).status === 404);

  await create('TX-DUP');
  let n = merchant.received.length;
  const dup = await control('pay', { transaction_id: 'TX-DUP', outcome: 'paid', ipn: 'duplicate' });
  check('duplicate -> two attempts, two identical IPNs', statuses(dup) === '[200,200]' && merchant.received.length === n + 2
    && JSON.stringify(merchant.received[n].body) === JSON.stringify(merchant.received[n + 1].body), dup.text);

  await create('TX-NONE');
  n = merchant.received.length;
  const none = await control('pay', { transaction_id: 'TX-NONE', outcome: 'failed', ipn: 'none' });
  const qNone = (await query('TX-NONE')).json;
  check('ipn none -> no attempt, query says failed with paid_at', statuses(none) === '[]' && merchant.received.length === n
    && qNone.status === 'failed' && /^\d{14}$/.test(qNone.paid_at), qNone);

  await create('TX-AMT');
  const amt = await control('pay', { transaction_id: 'TX-AMT', outcome: 'paid', amount: 149999 });
  const ipnAmt = merchant.received.at(-1).body;
  check('amount -> IPN with the other amount, correctly signed', statuses(amt) === '[200]' && ipnAmt.amount === 149999 && ipnValid(ipnAmt), ipnAmt);

  await create('TX-FORGE');
  await control('pay', { transaction_id: 'TX-FORGE', outcome: 'paid', forge: true });
  const ipnForged = merchant.received.at(-1).body;
  check('forge -> IPN whose checksum fails with key 2', ipnForged.transaction_id === 'TX-FORGE' && !ipnValid(ipnForged), ipnForged);

  await create('TX-LATE');
  n = merchant.received.length;
  const lateAsked = Date.now();
  const late = await control('pay', { transaction_id: 'TX-LATE', outcome: 'paid', ipn: 'late', late_ms: 400 });
  check('late -> answers at once, no attempt yet', statuses(late) === '[]' && merchant.received.length === n, late.text);
  await new Promise((resolve) => setTimeout(resolve, 800));
  check('late -> the IPN arrives after late_ms', merchant.received.length === n + 1 && merchant.received[n].at - lateAsked >= 400);

  // Retries: a 500, then a hang (5 s timeout), then success
  await create('TX-RETRY');
  merchant.script.push(500, 'hang');
  const started = Date.now();
  const retried = await control('pay', { transaction_id: 'TX-RETRY', outcome: 'paid' });
  const took = Date.now() - started;
  check('500 then timeout -> retried after 1 s and 2 s, third attempt 200', statuses(retried) === '[500,null,200]'
    && retried.json.attempts[1].error === 'timeout' && took >= 8000 && took < 10000, `${retried.text} in ${took} ms`);

  // Out-of-order callback through /_control/ipn
  n = merchant.received.length;
  const out = await control('ipn', { transaction_id: 'TX-1', status: 'failed' });
  const ipnOut = merchant.received.at(-1).body;
  check('/_control/ipn -> one signed IPN, failed after paid', statuses(out) === '[200]' && merchant.received.length === n + 1
    && ipnOut.status === 'failed' && ipnValid(ipnOut), ipnOut);
  check('the platform still says paid', (await query('TX-1')).json.status === 'paid');

  // The payment page
  const b = (await create('TX-PAGE')).json;
  const html = await call('GET', `/pay/${b.platform_transaction_id}`);
  check('payment page has pay and cancel forms', html.status === 200
    && html.text.includes(`<form id="pay" method="post" action="/pay/${b.platform_transaction_id}/pay">`)
    && html.text.includes(`<form id="cancel" method="post" action="/pay/${b.platform_transaction_id}/cancel">`), html.text);
  n = merchant.received.length;
  const payPost = await call('POST', `/pay/${b.platform_transaction_id}/pay`);
  const back = payPost.location ? new URL(payPost.location) : null;
  check('pay form -> 303 to return_url?transaction_id&status=paid', payPost.status === 303 && back?.pathname === '/back'
    && back.searchParams.get('x') === '1' && back.searchParams.get('transaction_id') === 'TX-PAGE'
    && back.searchParams.get('status') === 'paid', payPost.location);
  check('pay form -> IPN sent before the redirect', merchant.received.length === n + 1 && merchant.received[n].body.status === 'paid');
  check('pay form again -> 409', (await call('POST', `/pay/${b.platform_transaction_id}/pay`)).status === 409);
  const c = (await create('TX-CANCEL')).json;
  const cancel = await call('POST', `/pay/${c.platform_transaction_id}/cancel`);
  check('cancel form -> status=cancelled and a cancelled IPN', new URL(cancel.location).searchParams.get('status') === 'cancelled'
    && merchant.received.at(-1).body.status === 'cancelled');
  check('unknown payment page -> 404', (await call('GET', '/pay/PGNOPE')).status === 404);

  // Misbehaving API
  await control('mode', { create: 'error' });
  check('mode create error -> 500', (await create('TX-M1')).status === 500);
  await control('mode', { create: 'garbage', query: 'garbage' });
  const garbage = await create('TX-M2');
  check('mode garbage -> 200, not JSON', garbage.status === 200 && garbage.json === undefined, garbage.text);
  check('mode query garbage -> 200, not JSON', (await query('TX-1')).json === undefined);
  await control('mode', { create: 'timeout', query: 'ok' });
  const held = await call('POST', '/api/v1/transactions', creation('TX-M3'), { signal: AbortSignal.timeout(500) })
    .then(() => 'answered', (err) => err.name);
  check('mode timeout -> no answer', held === 'TimeoutError', held);
  check('mode query ok again', (await query('TX-1')).json?.status === 'paid');
  const modes = await control('mode', { create: 'ok' });
  check('mode answers the current modes', modes.json.create === 'ok' && modes.json.query === 'ok', modes.text);
  check('bad mode -> 400', (await control('mode', { create: 'slow' })).status === 400);

  // What tests assert on
  const list = (await control('transactions')).json.transactions;
  const tx1 = list.find((x) => x.transaction_id === 'TX-1');
  check('transactions list each transaction once (none for refused requests)', list.length === 9
    && !list.some((x) => x.transaction_id.startsWith('TX-M')), list.map((x) => x.transaction_id));
  check('a transaction shows status, bill, every bill received', tx1.status === 'paid' && tx1.bill.dossier_number === 'HS-000123'
    && tx1.bills.length === 2 && tx1.bill.payer.name === 'Nguyễn Văn An', tx1);
  check('a transaction shows every IPN attempt', tx1.ipn_attempts.length === 2 && tx1.ipn_attempts[0].sent.status === 'paid'
    && tx1.ipn_attempts[1].sent.status === 'failed', tx1.ipn_attempts);
  check('retries are recorded as one delivery', list.find((x) => x.transaction_id === 'TX-RETRY').ipn_attempts
    .every((x) => x.delivery === 1));

  // A held-open request must not keep the simulator alive
  await control('mode', { query: 'timeout' });
  query('TX-1').catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 100));
  child.kill('SIGTERM');
  const { code } = await exited;
  check('SIGTERM -> exit 0 with a request held open', code === 0, code);
}

try {
  await main();
} catch (err) {
  failed += 1;
  console.log(`FAIL unexpected error: ${err.stack}`);
} finally {
  child.kill('SIGTERM');
  listener.close();
  listener.closeAllConnections();
  if (failed || process.env.PAYMENT_SELFTEST_VERBOSE) console.error(`--- simulator stderr ---\n${stderr}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
