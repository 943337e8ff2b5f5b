#!/usr/bin/env node
// End-to-end self-test of provider.mjs: `node selftest.mjs` (from any directory).
// Starts provider.mjs as a child process with a temporary accounts file and drives it
// the way the Rust relying party will: plain HTTP, a cookie jar, no JavaScript.
// Prints one line per check and closes with `N passed, N failed`; exits 0 only if all pass.
// The providers' stderr is printed when a check fails, or always with VNEID_SELFTEST_VERBOSE=1.

import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLIENT_ID = 'eservices-test';
const CLIENT_SECRET = 'test-secret-!@#:%/ with spaces';
const REDIRECT_URI = 'http://127.0.0.1:18080/auth/vneid/callback';
const POST_LOGOUT_URI = 'http://127.0.0.1:18080/signed-out';
const ID_CLAIM = 'so_dinh_danh';

let passed = 0;
let failed = 0;
function check(name, condition, detail = '') {
  if (condition) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name}${detail ? ` -- ${detail}` : ''}`);
  }
  return condition;
}

// ---------------------------------------------------------------- provider process
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vneid-selftest-'));
const accountsFile = path.join(tmp, 'accounts.json');
fs.writeFileSync(accountsFile, JSON.stringify([
  {
    login: '079090001234',
    claims: {
      sub: 'vneid-sub-0001',
      name: 'Nguyễn Văn An',
      birthdate: '1990-01-15',
      gender: 'male',
      [ID_CLAIM]: '079090001234',
      email: 'an.nguyen@example.vn',
      email_verified: true,
      phone_number: '+84901234567',
    },
  },
  {
    login: 'tran.thi.binh',
    claims: {
      name: 'Trần Thị Bình',
      birthdate: '1985-12-01',
      gender: 'female',
      [ID_CLAIM]: '079185000042',
      phone_number: '+84907654321',
    },
  },
], null, 2));

const children = new Set();
const providerLogs = []; // stderr of every provider started, shown when a check fails
async function startProvider(extraArgs = []) {
  const started = performance.now();
  const child = spawn(process.execPath, [
    path.join(here, 'provider.mjs'),
    '--port', '0',
    '--client-id', CLIENT_ID,
    '--client-secret', CLIENT_SECRET,
    '--redirect-uri', `${REDIRECT_URI},http://127.0.0.1:18080/other`,
    '--post-logout-redirect-uri', POST_LOGOUT_URI,
    '--accounts', accountsFile,
    ...extraArgs,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const lines = [];
  const issuer = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no READY line within 20s; stderr:\n${stderr}`)), 20000);
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        const m = /^READY (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`provider exited ${code}; stderr:\n${stderr}`)); });
  });
  const startupMs = performance.now() - started;
  providerLogs.push(() => stderr);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    issuer, startupMs, lines, exited, stderr: () => stderr,
    async stop() { child.kill('SIGTERM'); const r = await exited; children.delete(child); return r; },
  };
}

// ---------------------------------------------------------------- HTTP client with a cookie jar
class CookieJar {
  #cookies = new Map(); // `${name}\0${path}` -> { name, value, path, expires }

  store(url, response) {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attrs] = header.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let cookiePath = new URL(url).pathname.replace(/\/[^/]*$/, '') || '/';
      let expires = Infinity;
      let secure = false;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.toLowerCase();
        if (key === 'path' && v.startsWith('/')) cookiePath = v;
        else if (key === 'max-age') expires = Date.now() + Number(v) * 1000;
        else if (key === 'expires' && expires === Infinity) expires = Date.parse(v);
        else if (key === 'secure') secure = true;
      }
      const id = `${name}\0${cookiePath}`;
      if (expires <= Date.now()) this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, path: cookiePath, expires, secure });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    const matches = [...this.#cookies.values()].filter((c) => c.expires > Date.now() && (
      pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)));
    matches.sort((a, b) => b.path.length - a.path.length);
    return matches.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  names() { return [...this.#cookies.values()].map((c) => `${c.name}@${c.path}${c.secure ? ' (Secure)' : ''}`); }

  anySecure() { return [...this.#cookies.values()].some((c) => c.secure); }
}

async function request(jar, method, url, { form, headers = {} } = {}) {
  const h = { ...headers };
  const cookie = jar?.header(url);
  if (cookie) h.cookie = cookie;
  let body;
  if (form) {
    body = new URLSearchParams(form).toString();
    h['content-type'] = 'application/x-www-form-urlencoded';
  }
  const res = await fetch(url, { method, headers: h, body, redirect: 'manual' });
  jar?.store(url, res);
  const text = await res.text();
  const location = res.headers.get('location');
  return {
    status: res.status,
    headers: res.headers,
    text,
    location: location ? new URL(location, url).href : null,
    json() { return JSON.parse(text); },
  };
}

// ---------------------------------------------------------------- helpers
const b64url = (buf) => Buffer.from(buf).toString('base64url');
function newPkce() {
  const verifier = b64url(crypto.randomBytes(32));
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

function authorizationUrl(discovery, { scope, state, nonce, challenge, extra = {} }) {
  const url = new URL(discovery.authorization_endpoint);
  const params = {
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope,
    state,
    nonce,
    ...(challenge ? { code_challenge: challenge, code_challenge_method: 'S256' } : {}),
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.href;
}

// GET /auth -> 303 /interaction/:uid -> 200 form. Returns { jar, uid, formAction, state, nonce, pkce }.
async function startLogin(discovery, scope, extra = {}) {
  const jar = new CookieJar();
  const state = b64url(crypto.randomBytes(16));
  const nonce = b64url(crypto.randomBytes(16));
  const pkce = newPkce();
  const auth = await request(jar, 'GET', authorizationUrl(discovery, {
    scope, state, nonce, challenge: pkce.challenge, extra,
  }));
  if (auth.status !== 303 || !/\/interaction\/[^/]+$/.test(auth.location ?? '')) {
    throw new Error(`GET /auth: expected 303 to /interaction/:uid, got ${auth.status} ${auth.location} ${auth.text.slice(0, 300)}`);
  }
  const uid = auth.location.split('/').pop();
  const page = await request(jar, 'GET', auth.location);
  if (page.status !== 200) throw new Error(`GET /interaction/:uid: ${page.status} ${page.text.slice(0, 300)}`);
  const action = /<form id="login" method="post" action="([^"]+)"/.exec(page.text)?.[1];
  return {
    jar, uid, page, formAction: action && new URL(action, auth.location).href, state, nonce, pkce,
    interactionUrl: auth.location,
  };
}

// Follows 303s from a login POST response until the redirect_uri is reached.
async function followToRedirectUri(jar, response) {
  let res = response;
  const hops = [];
  while (res.status === 303 || res.status === 302) {
    hops.push(`${res.status} ${new URL(res.location).pathname}`);
    if (res.location.startsWith(REDIRECT_URI)) return { callback: new URL(res.location), hops };
    res = await request(jar, 'GET', res.location);
  }
  throw new Error(`flow ended with ${res.status} instead of reaching redirect_uri: ${res.text.slice(0, 300)}`);
}

function verifyJwt(jwt, jwks) {
  const [h, p, s] = jwt.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const payload = JSON.parse(Buffer.from(p, 'base64url'));
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk || header.alg !== 'RS256') return { header, payload, valid: false };
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  const valid = crypto.verify('RSA-SHA256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'));
  return { header, payload, valid };
}

const basic = () => `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64')}`;

// ---------------------------------------------------------------- the test
async function main() {
  const op = await startProvider();
  const { issuer } = op;
  check('provider prints READY <issuer> as its only stdout line', op.lines.length === 1, JSON.stringify(op.lines));
  console.log(`     start-up (spawn to READY): ${op.startupMs.toFixed(0)} ms`);

  // Discovery
  const disco = await request(null, 'GET', `${issuer}/.well-known/openid-configuration`);
  check('discovery 200', disco.status === 200, disco.text);
  const discovery = disco.json();
  check('discovery issuer matches', discovery.issuer === issuer, discovery.issuer);
  check('discovery endpoints', discovery.authorization_endpoint === `${issuer}/auth`
    && discovery.token_endpoint === `${issuer}/token` && discovery.userinfo_endpoint === `${issuer}/me`
    && discovery.jwks_uri === `${issuer}/jwks`, JSON.stringify(discovery));
  check('discovery scopes', ['openid', 'profile', 'email', 'phone', 'national_id']
    .every((s) => discovery.scopes_supported.includes(s)), discovery.scopes_supported);
  check('discovery claims_supported has custom claim', discovery.claims_supported.includes(ID_CLAIM), discovery.claims_supported);
  check('discovery acr_values', JSON.stringify(discovery.acr_values_supported) === '["urn:vneid:level1","urn:vneid:level2"]');
  check('discovery PKCE S256 only', JSON.stringify(discovery.code_challenge_methods_supported) === '["S256"]');
  check('discovery client auth methods', ['client_secret_basic', 'client_secret_post']
    .every((m) => discovery.token_endpoint_auth_methods_supported.includes(m)));
  check('discovery RS256', discovery.id_token_signing_alg_values_supported.includes('RS256'));
  const jwks = (await request(null, 'GET', discovery.jwks_uri)).json();
  check('jwks has one RS256 signing key with kid', jwks.keys.length === 1 && jwks.keys[0].kid
    && jwks.keys[0].alg === 'RS256' && jwks.keys[0].use === 'sig' && !jwks.keys[0].d, JSON.stringify(jwks));

  // PKCE is mandatory
  {
    const res = await request(new CookieJar(), 'GET', authorizationUrl(discovery, {
      scope: 'openid', state: 'st-nopkce', nonce: 'n',
    }));
    const cb = res.location && new URL(res.location);
    check('auth request without code_challenge is refused (303 to redirect_uri, error=invalid_request)',
      res.status === 303 && res.location.startsWith(REDIRECT_URI) && cb.searchParams.get('error') === 'invalid_request'
      && cb.searchParams.get('state') === 'st-nopkce', `${res.status} ${res.location}`);
  }
  // Unregistered redirect_uri is not redirected to
  {
    const url = new URL(authorizationUrl(discovery, { scope: 'openid', state: 's', nonce: 'n', challenge: newPkce().challenge }));
    url.searchParams.set('redirect_uri', 'http://127.0.0.1:18080/evil');
    const res = await request(new CookieJar(), 'GET', url.href);
    check('unregistered redirect_uri -> 400 error page', res.status === 400 && !res.location, `${res.status}`);
  }

  // Full code flow, account 1, all scopes, client_secret_basic
  {
    const scope = 'openid profile email phone national_id';
    const s = await startLogin(discovery, scope, { acr_values: 'urn:vneid:level2' });
    check('interaction page is a login form posting to /interaction/:uid/login',
      s.formAction === `${issuer}/interaction/${s.uid}/login`
      && /name="login"/.test(s.page.text) && /name="password"/.test(s.page.text), s.formAction);
    check('interaction cookies are set for /interaction/:uid, without the Secure flag',
      s.jar.names().includes(`_interaction@/interaction/${s.uid}`) && !s.jar.anySecure(), s.jar.names().join(','));

    const bad = await request(s.jar, 'POST', s.formAction, { form: { login: 'nobody', password: 'x' } });
    check('unknown login re-renders the form with status 200 and an error',
      bad.status === 200 && /id="error"/.test(bad.text) && /name="login"/.test(bad.text), `${bad.status}`);

    const noCookie = await request(null, 'POST', s.formAction, { form: { login: '079090001234', password: 'x' } });
    check('login POST without the interaction cookie -> 400', noCookie.status === 400, `${noCookie.status}`);

    const ok = await request(s.jar, 'POST', s.formAction, { form: { login: '079090001234', password: 'anything' } });
    check('login POST -> 303 to /auth/:uid', ok.status === 303 && ok.location === `${issuer}/auth/${s.uid}`, `${ok.status} ${ok.location}`);
    const { callback, hops } = await followToRedirectUri(s.jar, ok);
    console.log(`     redirects after login: ${hops.join(' -> ')}`);
    check('callback has code, the same state and iss', callback.searchParams.get('code')
      && callback.searchParams.get('state') === s.state && callback.searchParams.get('iss') === issuer, callback.href);

    const tokenRes = await request(null, 'POST', discovery.token_endpoint, {
      headers: { authorization: basic() },
      form: {
        grant_type: 'authorization_code', code: callback.searchParams.get('code'),
        redirect_uri: REDIRECT_URI, code_verifier: s.pkce.verifier,
      },
    });
    check('token endpoint (client_secret_basic) 200', tokenRes.status === 200, tokenRes.text);
    const tokens = tokenRes.json();
    check('token response has access_token, id_token, Bearer', tokens.access_token && tokens.id_token
      && tokens.token_type === 'Bearer' && tokens.scope === scope && tokens.expires_in === 600
      && !('refresh_token' in tokens), tokenRes.text);
    console.log(`     token response fields: ${Object.keys(tokens).sort().join(' ')}`);
    const { header, payload: idt, valid } = verifyJwt(tokens.id_token, jwks);
    check('id_token RS256 signature verifies against jwks', valid && header.alg === 'RS256', JSON.stringify(header));
    check('id_token iss/aud/sub/exp', idt.iss === issuer && idt.aud === CLIENT_ID && idt.sub === 'vneid-sub-0001'
      && idt.exp > Date.now() / 1000, JSON.stringify(idt));
    check('id_token nonce matches', idt.nonce === s.nonce, idt.nonce);
    check('id_token acr = urn:vneid:level2', idt.acr === 'urn:vneid:level2', idt.acr);
    check(`id_token carries ${ID_CLAIM} (national_id scope)`, idt[ID_CLAIM] === '079090001234', JSON.stringify(idt));
    check('id_token carries profile/email/phone claims', idt.name === 'Nguyễn Văn An' && idt.birthdate === '1990-01-15'
      && idt.gender === 'male' && idt.email === 'an.nguyen@example.vn' && idt.email_verified === true
      && idt.phone_number === '+84901234567', JSON.stringify(idt));
    console.log(`     id_token claims: ${Object.keys(idt).join(' ')}`);

    const ui = await request(null, 'GET', discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    check('userinfo 200 JSON', ui.status === 200 && /application\/json/.test(ui.headers.get('content-type')), `${ui.status} ${ui.text}`);
    const info = ui.json();
    check(`userinfo carries sub and ${ID_CLAIM}`, info.sub === 'vneid-sub-0001' && info[ID_CLAIM] === '079090001234', ui.text);
    check('userinfo carries profile/email/phone claims', info.name === 'Nguyễn Văn An' && info.birthdate === '1990-01-15'
      && info.gender === 'male' && info.email === 'an.nguyen@example.vn' && info.phone_number === '+84901234567', ui.text);
    console.log(`     userinfo claims: ${Object.keys(info).join(' ')}`);

    // Same browser (cookie jar) again: the session cookie signs in without a form.
    const again = await request(s.jar, 'GET', authorizationUrl(discovery, {
      scope, state: 'st-sso', nonce: 'n2', challenge: newPkce().challenge,
    }));
    check('session cookie _session set for / without the Secure flag',
      s.jar.names().includes('_session@/') && !s.jar.anySecure(), s.jar.names().join(','));
    check('second /auth with the session cookie -> 303 straight to redirect_uri with code',
      again.status === 303 && again.location.startsWith(REDIRECT_URI) && new URL(again.location).searchParams.get('code'),
      `${again.status} ${again.location}`);
    const replay = await request(null, 'POST', discovery.token_endpoint, {
      headers: { authorization: basic() },
      form: {
        grant_type: 'authorization_code', code: callback.searchParams.get('code'),
        redirect_uri: REDIRECT_URI, code_verifier: s.pkce.verifier,
      },
    });
    check('code replay -> 400 invalid_grant', replay.status === 400 && replay.json().error === 'invalid_grant', replay.text);

    // The replay above made oidc-provider revoke the grant: the session is still there, so no
    // login form, but consent is needed again; the provider's consent step finishes by itself.
    const regrant = await request(s.jar, 'GET', authorizationUrl(discovery, {
      scope, state: 'st-consent', nonce: 'n4', challenge: newPkce().challenge,
    }));
    check('after grant revocation /auth -> 303 /interaction/:uid (consent)', regrant.status === 303
      && /\/interaction\/[^/]+$/.test(regrant.location), `${regrant.status} ${regrant.location}`);
    const consent = await followToRedirectUri(s.jar, regrant);
    console.log(`     automatic consent: ${consent.hops.join(' -> ')}`);
    check('automatic consent step -> redirect_uri with code and state', consent.callback.searchParams.get('code')
      && consent.callback.searchParams.get('state') === 'st-consent', consent.callback.href);
    const forced = await request(s.jar, 'GET', authorizationUrl(discovery, {
      scope, state: 'st-login', nonce: 'n3', challenge: newPkce().challenge, extra: { prompt: 'login' },
    }));
    check('prompt=login with a session still shows the login form', forced.status === 303 && /\/interaction\//.test(forced.location), `${forced.status} ${forced.location}`);
  }

  // Account 2 (sub = login), no national_id scope, client_secret_post
  {
    const s = await startLogin(discovery, 'openid profile');
    const ok = await request(s.jar, 'POST', s.formAction, { form: { login: 'tran.thi.binh', password: '' } });
    const { callback } = await followToRedirectUri(s.jar, ok);
    const tokenRes = await request(null, 'POST', discovery.token_endpoint, {
      form: {
        grant_type: 'authorization_code', code: callback.searchParams.get('code'), redirect_uri: REDIRECT_URI,
        code_verifier: s.pkce.verifier, client_id: CLIENT_ID, client_secret: CLIENT_SECRET,
      },
    });
    check('token endpoint (client_secret_post) 200', tokenRes.status === 200, tokenRes.text);
    const tokens = tokenRes.json();
    const { payload: idt, valid } = verifyJwt(tokens.id_token, jwks);
    check('account without claims.sub gets sub = login', valid && idt.sub === 'tran.thi.binh', idt.sub);
    check(`without national_id scope there is no ${ID_CLAIM} and no phone/email`, !(ID_CLAIM in idt)
      && !('phone_number' in idt) && idt.name === 'Trần Thị Bình' && idt.gender === 'female', JSON.stringify(idt));
    const info = (await request(null, 'GET', discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json();
    check(`userinfo without national_id scope has no ${ID_CLAIM}`, !(ID_CLAIM in info) && info.sub === 'tran.thi.binh', JSON.stringify(info));
  }

  // Wrong code_verifier and wrong client secret
  {
    const s = await startLogin(discovery, 'openid');
    const ok = await request(s.jar, 'POST', s.formAction, { form: { login: '079090001234', password: 'x' } });
    const { callback } = await followToRedirectUri(s.jar, ok);
    const code = callback.searchParams.get('code');
    const badSecret = await request(null, 'POST', discovery.token_endpoint, {
      headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:wrong`).toString('base64')}` },
      form: { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: s.pkce.verifier },
    });
    check('wrong client secret -> 401 invalid_client', badSecret.status === 401 && badSecret.json().error === 'invalid_client', badSecret.text);
    const badVerifier = await request(null, 'POST', discovery.token_endpoint, {
      headers: { authorization: basic() },
      form: { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: newPkce().verifier },
    });
    check('wrong code_verifier -> 400 invalid_grant', badVerifier.status === 400 && badVerifier.json().error === 'invalid_grant', badVerifier.text);
  }

  // The form's Cancel button
  {
    const s = await startLogin(discovery, 'openid');
    const res = await request(s.jar, 'POST', `${s.interactionUrl}/abort`, { form: {} });
    const { callback } = await followToRedirectUri(s.jar, res);
    check('Cancel (POST /interaction/:uid/abort) -> error=access_denied with state',
      callback.searchParams.get('error') === 'access_denied' && callback.searchParams.get('state') === s.state, callback.href);
  }

  // RP-initiated logout (end_session_endpoint): a form with a hidden xsrf field, no JavaScript
  {
    const s = await startLogin(discovery, 'openid');
    const ok = await request(s.jar, 'POST', s.formAction, { form: { login: '079090001234', password: 'x' } });
    const { callback } = await followToRedirectUri(s.jar, ok);
    const tokens = (await request(null, 'POST', discovery.token_endpoint, {
      headers: { authorization: basic() },
      form: {
        grant_type: 'authorization_code', code: callback.searchParams.get('code'),
        redirect_uri: REDIRECT_URI, code_verifier: s.pkce.verifier,
      },
    })).json();
    const end = new URL(discovery.end_session_endpoint);
    end.searchParams.set('id_token_hint', tokens.id_token);
    end.searchParams.set('post_logout_redirect_uri', POST_LOGOUT_URI);
    end.searchParams.set('state', 'st-logout');
    const page = await request(s.jar, 'GET', end.href);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.text)?.[1];
    const action = /id="op.logoutForm" method="post" action="([^"]+)"/.exec(page.text)?.[1];
    check('GET end_session_endpoint -> 200 form with xsrf', page.status === 200 && xsrf && action === `${issuer}/session/end/confirm`, `${page.status} ${action}`);
    const out = await request(s.jar, 'POST', action, { form: { xsrf, logout: 'yes' } });
    check('POST /session/end/confirm logout=yes -> 303 post_logout_redirect_uri?state',
      out.status === 303 && out.location === `${POST_LOGOUT_URI}?state=st-logout`, `${out.status} ${out.location}`);
    const after = await request(s.jar, 'GET', authorizationUrl(discovery, {
      scope: 'openid', state: 's', nonce: 'n', challenge: newPkce().challenge,
    }));
    check('after logout /auth asks for login again', after.status === 303 && /\/interaction\//.test(after.location), `${after.status} ${after.location}`);
  }

  const stopped = await op.stop();
  check('SIGTERM -> exit code 0', stopped.code === 0, JSON.stringify(stopped));

  // --fail-with access_denied
  {
    const failing = await startProvider(['--fail-with', 'access_denied']);
    console.log(`     start-up (spawn to READY): ${failing.startupMs.toFixed(0)} ms`);
    const d = (await request(null, 'GET', `${failing.issuer}/.well-known/openid-configuration`)).json();
    const s = await startLogin(d, 'openid profile national_id');
    const res = await request(s.jar, 'POST', s.formAction, { form: { login: '079090001234', password: 'x' } });
    const { callback } = await followToRedirectUri(s.jar, res);
    check('--fail-with access_denied -> callback ?error=access_denied&state=<same>&iss, no code',
      callback.searchParams.get('error') === 'access_denied' && callback.searchParams.get('state') === s.state
      && callback.searchParams.get('iss') === failing.issuer && !callback.searchParams.has('code')
      && callback.searchParams.get('error_description'), callback.href);
    console.log(`     ${callback.href}`);
    const r = await failing.stop();
    check('SIGTERM -> exit code 0 (failing provider)', r.code === 0, JSON.stringify(r));
  }

  // Bad arguments exit 2 without printing READY
  {
    const child = spawn(process.execPath, [path.join(here, 'provider.mjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    check('missing --client-id -> exit 2, nothing on stdout', code === 2 && out === '', `${code} ${out}`);
  }
}

try {
  await main();
} catch (err) {
  failed += 1;
  console.log(`FAIL unexpected error: ${err.stack}`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  if (failed || process.env.VNEID_SELFTEST_VERBOSE) {
    for (const log of providerLogs) console.error(`--- provider stderr ---\n${log()}`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
