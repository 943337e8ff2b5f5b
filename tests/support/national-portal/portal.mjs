// A simulated National Public Service Portal (Cổng Dịch vụ công quốc gia),
// for tests only: the synchronisation protocol of docs/INTEGRATIONS.md over
// plain HTTP on 127.0.0.1, strict about every field, able to go down on
// demand. Node >= 20, no dependencies.
//
// Environment:
//   PORT                  port to listen on (0: any free port)
//   USERNAME, PASSWORD    the only credentials it accepts
//   SESSION_TTL           session lifetime in seconds (default 3600)
//   KNOWN_PROCEDURES      comma-separated procedure codes (MaTTHC) it knows;
//                         set, a dossier of any other is refused (400)
//   EXIT_ON_STDIN_EOF=1   exit when standard input closes (the harness keeps
//                         a pipe, so the portal dies with the test process)
//
// Once listening it prints one line on stdout: {"port": n}.
//
// The portal's API (every call but the log-in needs `Authorization: Bearer
// <session_token>`; an unknown or expired token gets 401):
//   POST /api/auth/login {username, password}
//        -> 200 {session_token, expires_in} | 401 | 400
//   POST /api/dossiers {MaHoSo, MaTTHC, MaDonVi, ChuHoSo, NgayTiepNhan, …}
//        creates or updates the dossier by MaHoSo -> 200 {ok: true, MaHoSo}
//   POST /api/dossiers/{MaHoSo}/progress {SoThuTu, NguoiXuLy, ThoiDiemXuLy,
//        NoiDungXuLy, TrangThai} -> 200 {ok: true} (404 for an unknown dossier)
// A call that breaks the format gets 400 {reason} naming the field.
//
// Control (never affected by the mode):
//   POST /_control/mode {down: "no" | "503" | "hang" | "garbage"}
//        503: every /api call answers 503; hang: no answer at all;
//        garbage: 200 with a body that is not JSON. Nothing is accepted
//        while down.
//   POST /_control/expire-sessions   every session is forgotten
//   GET  /_control/received          every accepted call, in arrival order:
//        {call: "login"} | {call: "dossier", body} | {call: "progress", MaHoSo, body}

import http from 'node:http';
import { randomBytes } from 'node:crypto';

const env = process.env;
const USERNAME = env.USERNAME ?? '';
const PASSWORD = env.PASSWORD ?? '';
const SESSION_TTL = Number.parseInt(env.SESSION_TTL ?? '3600', 10);
if (!USERNAME || !PASSWORD || !Number.isInteger(SESSION_TTL) || SESSION_TTL <= 0) {
  console.error('USERNAME and PASSWORD are required; SESSION_TTL must be a positive integer');
  process.exit(2);
}

const KNOWN = env.KNOWN_PROCEDURES ? new Set(env.KNOWN_PROCEDURES.split(',')) : null;
const MODES = new Set(['no', '503', 'hang', 'garbage']);
let mode = 'no';
const sessions = new Map(); // token -> expiry (ms)
const dossiers = new Map(); // MaHoSo -> record
const received = [];
const hanging = new Set();

class Refusal extends Error {
  constructor(status, reason) {
    super(reason);
    this.status = status;
  }
}

const fail = (reason) => {
  throw new Refusal(400, reason);
};

// ---- formats -------------------------------------------------------------

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

function text(obj, field, { required = true, max = 2000 } = {}) {
  const v = obj[field];
  if (v === undefined || v === null) {
    if (required) fail(`${field}: required`);
    return;
  }
  if (typeof v !== 'string' || v.trim() === '') fail(`${field}: must be a non-empty string`);
  if (v.length > max) fail(`${field}: at most ${max} characters`);
}

// yyyyMMddHHmmss, a real calendar instant.
function date(obj, field, { required = true } = {}) {
  const v = obj[field];
  if (v === undefined || v === null) {
    if (required) fail(`${field}: required`);
    return;
  }
  const m = typeof v === 'string' && /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(v);
  if (!m) fail(`${field}: must be yyyyMMddHHmmss, got ${JSON.stringify(v)}`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  const real =
    t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d &&
    t.getUTCHours() === h && t.getUTCMinutes() === mi && t.getUTCSeconds() === s;
  if (!real || y < 2000) fail(`${field}: ${v} is not a real date and time`);
}

function integer(obj, field, min, max) {
  const v = obj[field];
  if (!Number.isInteger(v) || v < min || v > max) fail(`${field}: must be an integer from ${min} to ${max}`);
}

function statusCode(obj, field) {
  // The national status codes a filed dossier can have (0, a draft, never leaves its system).
  integer(obj, field, 1, 10);
}

function checkRecord(r) {
  if (!isObject(r)) fail('the body must be a JSON object');
  text(r, 'MaHoSo', { max: 64 });
  if (typeof r.MaTTHC !== 'string' || !/^\d+(\.\d+)+$/.test(r.MaTTHC)) {
    fail(`MaTTHC: must be a national procedure code such as 1.001193, got ${JSON.stringify(r.MaTTHC)}`);
  }
  if (KNOWN && !KNOWN.has(r.MaTTHC)) fail(`MaTTHC: ${r.MaTTHC} is not in the national database of procedures`);
  text(r, 'MaDonVi', { max: 64 });
  text(r, 'TenTTHC', { required: false });
  text(r, 'DonViXuLy', { required: false, max: 64 });
  if (!isObject(r.ChuHoSo)) fail('ChuHoSo: required (an object)');
  text(r.ChuHoSo, 'HoVaTen', { max: 300 });
  text(r.ChuHoSo, 'SoDinhDanh', { max: 20 });
  if (![1, 2].includes(r.ChuHoSo.LoaiDoiTuong)) fail('ChuHoSo.LoaiDoiTuong: must be 1 (person) or 2 (organisation)');
  date(r, 'NgayTiepNhan');
  date(r, 'NgayHenTra', { required: false });
  statusCode(r, 'TrangThaiHoSo');
  date(r, 'NgayTra', { required: r.TrangThaiHoSo === 10 });
  if (!Array.isArray(r.PhiLePhi)) fail('PhiLePhi: required (an array)');
  r.PhiLePhi.forEach((fee, i) => {
    if (!isObject(fee)) fail(`PhiLePhi[${i}]: must be an object`);
    text(fee, 'TenPhiLePhi');
    integer(fee, 'MucPhi', 0, 1e12);
  });
  if (!Array.isArray(r.DanhSachBoSung)) fail('DanhSachBoSung: required (an array)');
  r.DanhSachBoSung.forEach((s, i) => {
    if (!isObject(s)) fail(`DanhSachBoSung[${i}]: must be an object`);
    date(s, 'NgayYeuCauBoSung');
    text(s, 'NoiDungBoSung');
    date(s, 'NgayBoSung', { required: false });
    date(s, 'NgayHenTraCu', { required: false });
    date(s, 'NgayHenTraMoi', { required: false });
  });
}

function checkProgress(p) {
  if (!isObject(p)) fail('the body must be a JSON object');
  integer(p, 'SoThuTu', 1, 2 ** 31 - 1);
  text(p, 'NguoiXuLy', { max: 300 });
  date(p, 'ThoiDiemXuLy');
  text(p, 'NoiDungXuLy', { max: 4000 });
  statusCode(p, 'TrangThai');
}

// ---- HTTP ----------------------------------------------------------------

function answer(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 1_000_000) throw new Refusal(413, 'the body is larger than 1 MB');
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new Refusal(400, 'the body is not JSON');
  }
}

function authenticate(req) {
  const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
  const expiry = m && sessions.get(m[1]);
  if (!expiry || expiry <= Date.now()) {
    if (m) sessions.delete(m[1]);
    throw new Refusal(401, 'unknown or expired session');
  }
}

async function api(req, res, path) {
  if (req.method !== 'POST') throw new Refusal(405, 'POST only');
  if (path === '/api/auth/login') {
    const body = await readJson(req);
    if (!isObject(body) || typeof body.username !== 'string' || typeof body.password !== 'string') {
      fail('username and password are required');
    }
    if (body.username !== USERNAME || body.password !== PASSWORD) {
      throw new Refusal(401, 'wrong username or password');
    }
    const token = randomBytes(24).toString('base64url');
    sessions.set(token, Date.now() + SESSION_TTL * 1000);
    received.push({ call: 'login' });
    return answer(res, 200, { session_token: token, expires_in: SESSION_TTL });
  }
  authenticate(req);
  if (path === '/api/dossiers') {
    const record = await readJson(req);
    checkRecord(record);
    dossiers.set(record.MaHoSo, record);
    received.push({ call: 'dossier', body: record });
    return answer(res, 200, { ok: true, MaHoSo: record.MaHoSo });
  }
  const progress = /^\/api\/dossiers\/([^/]+)\/progress$/.exec(path);
  if (progress) {
    const maHoSo = decodeURIComponent(progress[1]);
    const body = await readJson(req);
    if (!dossiers.has(maHoSo)) throw new Refusal(404, `no dossier ${maHoSo}: send it first`);
    checkProgress(body);
    received.push({ call: 'progress', MaHoSo: maHoSo, body });
    return answer(res, 200, { ok: true });
  }
  throw new Refusal(404, 'no such call');
}

async function control(req, res, path) {
  if (req.method === 'POST' && path === '/_control/mode') {
    const body = await readJson(req);
    if (!isObject(body) || !MODES.has(body.down)) fail('down: one of no, 503, hang, garbage');
    mode = body.down;
    if (mode !== 'hang') {
      for (const r of hanging) r.destroy();
      hanging.clear();
    }
    return answer(res, 200, { down: mode });
  }
  if (req.method === 'POST' && path === '/_control/expire-sessions') {
    const n = sessions.size;
    sessions.clear();
    return answer(res, 200, { expired: n });
  }
  if (req.method === 'GET' && path === '/_control/received') {
    return answer(res, 200, received);
  }
  throw new Refusal(404, 'no such control');
}

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://portal').pathname;
  try {
    if (path.startsWith('/_control/')) return await control(req, res, path);
    if (mode === 'hang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (mode === '503') {
      req.resume();
      return answer(res, 503, { reason: 'the portal is under maintenance' });
    }
    if (mode === 'garbage') {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<html><body>502 Bad Gateway\u0000\u00ff{"ok":');
    }
    return await api(req, res, path);
  } catch (e) {
    if (e instanceof Refusal) return answer(res, e.status, { reason: e.message });
    console.error(e);
    return answer(res, 500, { reason: 'internal error' });
  }
});

function stop() {
  for (const r of hanging) r.destroy();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (env.EXIT_ON_STDIN_EOF === '1') {
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}

server.listen(Number.parseInt(env.PORT ?? '0', 10), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
