#!/usr/bin/env node
// Test-only stand-in for the VNeID national identity provider.
//
// A real, certified OpenID Provider (the npm package `oidc-provider`, v9) with
// one confidential client, accounts read from a JSON file, and a minimal
// login interaction that any HTTP client with a cookie jar can drive without
// JavaScript (see README.md in this folder for the exact request sequence).
// It listens on plain HTTP on 127.0.0.1 only. NEVER use it outside tests.
//
// Usage:
//   node tests/support/vneid/provider.mjs --port 0 \
//     --client-id eservices --client-secret s3cret \
//     --redirect-uri http://127.0.0.1:8080/auth/vneid/callback \
//     --accounts /tmp/vneid-accounts.json
//
// Options (a flag wins over its environment variable; `--flag=value` works too):
//   --port P                   VNEID_PORT            TCP port on 127.0.0.1; 0 (default) = any free port.
//   --client-id ID             VNEID_CLIENT_ID       required.
//   --client-secret SECRET     VNEID_CLIENT_SECRET   required.
//   --redirect-uri URI         VNEID_REDIRECT_URIS   required; repeatable and/or comma-separated.
//   --post-logout-redirect-uri URI
//                              VNEID_POST_LOGOUT_REDIRECT_URIS  optional; repeatable and/or comma-separated.
//   --accounts FILE            VNEID_ACCOUNTS        required; JSON array of
//                              { "login": "...", "claims": { "sub": "...", "name": "...", ... } }.
//                              The account's subject is claims.sub, or the login when claims has no sub.
//   --fail-with ERROR          VNEID_FAIL_WITH       optional; every login form POST then ends the
//                              interaction with { error: ERROR, error_description } instead of
//                              signing in, so the RP receives ?error=ERROR&error_description=...&state=...
//   --fail-description TEXT    VNEID_FAIL_DESCRIPTION  error_description for --fail-with.
//   --acr VALUE                VNEID_ACR             acr put in the ID token; default urn:vneid:level2.
//   --exit-on-stdin-eof        VNEID_EXIT_ON_STDIN_EOF=1  exit when standard input is closed (lets a
//                              harness that keeps a pipe to stdin be sure the provider dies with it).
//   --help                     print this help to stderr and exit 0.
//
// Stdout protocol: exactly one line, `READY <issuer>` (e.g. `READY http://127.0.0.1:41234`),
// once the server listens. Everything else (oidc-provider notices and warnings, errors,
// a one-line summary, the stopping message) goes to stderr. Exit codes: 0 after
// SIGTERM/SIGINT (or stdin EOF with --exit-on-stdin-eof), 2 for bad arguments or accounts
// file, 3 when node_modules is missing (run `npm ci` in this folder first), 1 for other
// failures (e.g. the --port is taken).
//
// Claims and scopes (see README.md): openid -> sub; profile -> name, birthdate, gender (plus
// any other standard OIDC profile claim the accounts use); email -> email, email_verified;
// phone -> phone_number, phone_number_verified; address -> address (only if used);
// national_id -> every other claim name found in the accounts file (e.g. so_dinh_danh).
// conformIdTokenClaims is false, so granted scope claims are in the ID token AND at userinfo.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { parseArgs } from 'node:util';

// oidc-provider prints its NOTICEs with console.info (stdout). Stdout is reserved for
// the READY line, so route every console stream to stderr before loading it.
for (const method of ['log', 'info', 'debug']) {
  console[method] = (...args) => console.error(...args);
}

// --help prints the header comment above (up to its first non-comment line).
const HELP = (() => {
  const lines = fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1);
  const end = lines.findIndex((l) => !l.startsWith('//'));
  return lines.slice(0, end).map((l) => l.replace(/^\/\/ ?/, '')).join('\n');
})();

function fail(message) {
  process.stderr.write(`vneid provider: ${message}\n`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      accounts: { type: 'string' },
      'fail-with': { type: 'string' },
      'fail-description': { type: 'string' },
      acr: { type: 'string' },
      'exit-on-stdin-eof': { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  fail(`${err.message}\n\n${HELP}`);
}
if (args.help) {
  process.stderr.write(`${HELP}\n`);
  process.exit(0);
}

const env = process.env;
const list = (flagValues, envValue) => (flagValues?.length ? flagValues : [envValue ?? ''])
  .flatMap((v) => v.split(','))
  .map((v) => v.trim())
  .filter(Boolean);

const portText = args.port ?? env.VNEID_PORT ?? '0';
const port = Number(portText);
if (!/^\d+$/.test(portText) || port > 65535) fail(`invalid --port ${portText}`);
const clientId = args['client-id'] ?? env.VNEID_CLIENT_ID;
const clientSecret = args['client-secret'] ?? env.VNEID_CLIENT_SECRET;
const redirectUris = list(args['redirect-uri'], env.VNEID_REDIRECT_URIS);
const postLogoutRedirectUris = list(args['post-logout-redirect-uri'], env.VNEID_POST_LOGOUT_REDIRECT_URIS);
const accountsFile = args.accounts ?? env.VNEID_ACCOUNTS;
const failWith = args['fail-with'] ?? env.VNEID_FAIL_WITH ?? undefined;
const failDescription = args['fail-description'] ?? env.VNEID_FAIL_DESCRIPTION
  ?? 'the end-user did not authorize the request (test provider --fail-with)';
const acr = args.acr ?? env.VNEID_ACR ?? 'urn:vneid:level2';
const ACR_VALUES = ['urn:vneid:level1', 'urn:vneid:level2'];
const exitOnStdinEof = args['exit-on-stdin-eof'] || env.VNEID_EXIT_ON_STDIN_EOF === '1';

if (!clientId) fail('--client-id (or VNEID_CLIENT_ID) is required');
if (!clientSecret) fail('--client-secret (or VNEID_CLIENT_SECRET) is required');
if (!redirectUris.length) fail('--redirect-uri (or VNEID_REDIRECT_URIS) is required');
if (!accountsFile) fail('--accounts (or VNEID_ACCOUNTS) is required');
if (failWith !== undefined && !/^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/.test(failWith)) {
  fail('--fail-with must be a non-empty OAuth error code (printable ASCII without " and \\)');
}
if (!ACR_VALUES.includes(acr)) fail(`--acr must be one of ${ACR_VALUES.join(', ')}`);

// ---------------------------------------------------------------- accounts
let accountList;
try {
  accountList = JSON.parse(fs.readFileSync(accountsFile, 'utf8'));
} catch (err) {
  fail(`cannot read accounts file ${accountsFile}: ${err.message}`);
}
if (!Array.isArray(accountList)) fail('accounts file must hold a JSON array');

const accountsByLogin = new Map();
const accountsBySub = new Map();
for (const [i, entry] of accountList.entries()) {
  if (!entry || typeof entry.login !== 'string' || !entry.login) {
    fail(`accounts[${i}] needs a non-empty string "login"`);
  }
  const claims = entry.claims ?? {};
  if (typeof claims !== 'object' || Array.isArray(claims)) fail(`accounts[${i}].claims must be an object`);
  const sub = claims.sub ?? entry.login;
  if (typeof sub !== 'string' || !sub) fail(`accounts[${i}].claims.sub must be a non-empty string`);
  if (accountsByLogin.has(entry.login)) fail(`duplicate login ${entry.login}`);
  if (accountsBySub.has(sub)) fail(`duplicate sub ${sub}`);
  const account = { login: entry.login, sub, claims: { ...claims, sub } };
  accountsByLogin.set(entry.login, account);
  accountsBySub.set(sub, account);
}

// ---------------------------------------------------------------- claims per scope
const STANDARD_PROFILE = ['name', 'family_name', 'given_name', 'middle_name', 'nickname',
  'preferred_username', 'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo',
  'locale', 'updated_at'];
const usedClaims = new Set([...accountsBySub.values()].flatMap((a) => Object.keys(a.claims)));
const scopeClaims = {
  openid: ['sub'],
  profile: ['name', 'birthdate', 'gender',
    ...STANDARD_PROFILE.filter((c) => usedClaims.has(c) && !['name', 'birthdate', 'gender'].includes(c))],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
};
if (usedClaims.has('address')) scopeClaims.address = ['address'];
// Claims the provider itself controls; accounts must not try to set them.
const RESERVED = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'nonce', 'acr', 'amr', 'azp',
  'auth_time', 'sid', 'at_hash', 'c_hash', 's_hash', 'cnf', 'scope', 'client_id']);
for (const claim of usedClaims) {
  if (RESERVED.has(claim)) fail(`accounts must not set the reserved claim "${claim}"`);
}
const mapped = new Set(Object.values(scopeClaims).flat());
scopeClaims.national_id = [...usedClaims].filter((c) => !mapped.has(c)).sort();

// ---------------------------------------------------------------- keys
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = privateKey.export({ format: 'jwk' });
const kid = crypto.createHash('sha256')
  .update(JSON.stringify({ e: signingJwk.e, kty: 'RSA', n: signingJwk.n }))
  .digest('base64url'); // RFC 7638 thumbprint
Object.assign(signingJwk, { kid, alg: 'RS256', use: 'sig' });

// ---------------------------------------------------------------- server + provider
let oidcProvider;
try {
  oidcProvider = await import('oidc-provider');
} catch (err) {
  process.stderr.write(`vneid provider: cannot load oidc-provider (${err.message}); `
    + `run \`npm ci\` in ${new URL('.', import.meta.url).pathname}\n`);
  process.exit(3);
}
const { default: Provider, errors: oidcErrors } = oidcProvider;

const server = http.createServer();
try {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
} catch (err) {
  process.stderr.write(`vneid provider: cannot listen on 127.0.0.1:${port}: ${err.message}\n`);
  process.exit(1);
}
server.on('error', (err) => process.stderr.write(`vneid provider: server error ${err.stack}\n`));
const issuer = `http://127.0.0.1:${server.address().port}`;

const htmlEscape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const configuration = {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutRedirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic', // client_secret_post is accepted too
    id_token_signed_response_alg: 'RS256',
    application_type: 'web',
  }],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  responseTypes: ['code'],
  pkce: { required: () => true }, // v9 supports only S256
  scopes: Object.keys(scopeClaims),
  claims: { ...scopeClaims, acr: null, amr: null, auth_time: null, sid: null },
  acrValues: ACR_VALUES,
  conformIdTokenClaims: false,
  jwks: { keys: [signingJwk] },
  // Fresh random keys for the signed cookies; http on loopback needs no other cookie
  // change: oidc-provider only sets the Secure flag when the request itself is https.
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  features: {
    devInteractions: { enabled: false },
    // GET /session/end -> 200 page with form#op.logoutForm (hidden xsrf) ->
    // POST /session/end/confirm xsrf=..&logout=yes -> 303 post_logout_redirect_uri?state=..
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.type = 'html';
        ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>VNeID (test) - Dang xuat</title></head><body>
<h1>Sign out of VNeID (test)?</h1>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>
</body></html>`;
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.type = 'html';
        ctx.body = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>VNeID (test)</title></head><body><h1>Signed out</h1></body></html>';
      },
    },
    userinfo: { enabled: true },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: (ctx, sub) => {
    const account = accountsBySub.get(sub);
    if (!account) return undefined;
    return {
      accountId: account.sub,
      // oidc-provider filters these by granted scopes/claims and by use (id_token/userinfo)
      claims: async () => ({ ...account.claims }),
    };
  },
  clientBasedCORS: () => false,
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>VNeID (test) error</title></head><body><h1>Error</h1>${
      Object.entries(out).map(([k, v]) => `<p><strong>${htmlEscape(k)}</strong>: <span id="${htmlEscape(k)}">${htmlEscape(v)}</span></p>`).join('')
    }</body></html>`;
  },
};

const provider = new Provider(issuer, configuration);
provider.proxy = false; // never trust X-Forwarded-* (this is the default; stated for clarity)

provider.on('server_error', (ctx, err) => process.stderr.write(`vneid provider: server_error ${err.stack}\n`));

// ---------------------------------------------------------------- interactions
function loginPage({ uid, error, login = '', clientId: cid }) {
  return `<!DOCTYPE html>
<html lang="vi">
<head><meta charset="utf-8"><title>VNeID (test) - Dang nhap</title></head>
<body>
<h1>VNeID (test provider)</h1>
<p>Client: <code>${htmlEscape(cid)}</code></p>
${error ? `<p id="error" role="alert">${htmlEscape(error)}</p>` : ''}
<form id="login" method="post" action="/interaction/${htmlEscape(uid)}/login">
  <label>Login <input type="text" name="login" value="${htmlEscape(login)}" autofocus required></label>
  <label>Password <input type="password" name="password"></label>
  <button type="submit">Sign in</button>
</form>
<form id="abort" method="post" action="/interaction/${htmlEscape(uid)}/abort">
  <button type="submit">Cancel</button>
</form>
</body>
</html>`;
}

async function readForm(ctx, limit = 64 * 1024) {
  const type = ctx.get('content-type').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    ctx.throw(415, 'expected application/x-www-form-urlencoded');
  }
  let size = 0;
  const chunks = [];
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > limit) ctx.throw(413, 'form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// Grants every scope and claim the authorization request asked for.
async function grantRequested(details, accountId) {
  const { params, prompt } = details;
  let grant;
  if (details.grantId) grant = await provider.Grant.find(details.grantId);
  grant ??= new provider.Grant({ accountId, clientId: params.client_id });
  if (params.scope) grant.addOIDCScope(params.scope);
  if (prompt.details?.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details?.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(prompt.details?.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  if (typeof params.claims === 'string') {
    try {
      const requested = JSON.parse(params.claims);
      grant.addOIDCClaims([...Object.keys(requested.id_token ?? {}), ...Object.keys(requested.userinfo ?? {})]);
    } catch { /* the provider already validated it */ }
  }
  return grant.save();
}

async function finish(ctx, result) {
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result);
  ctx.status = 303;
  ctx.redirect(returnTo);
}

const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/;

provider.use(async (ctx, next) => {
  const match = INTERACTION.exec(ctx.path);
  if (!match) return next();
  const [, uid, action] = match;
  ctx.set('cache-control', 'no-store');
  try {
    if ((action && ctx.method !== 'POST') || (!action && ctx.method !== 'GET')) {
      ctx.status = 405;
      ctx.set('allow', action ? 'POST' : 'GET');
      ctx.body = 'method not allowed';
      return undefined;
    }
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) throw new oidcErrors.SessionNotFound('interaction cookie does not match the URL');
    const { prompt } = details;

    if (!action) {
      if (prompt.name === 'login') {
        ctx.type = 'html';
        ctx.body = loginPage({ uid, clientId: details.params.client_id });
        return undefined;
      }
      if (prompt.name === 'consent') { // consent is given automatically
        if (!details.session?.accountId) throw new oidcErrors.InvalidRequest('consent without a signed-in account');
        const grantId = await grantRequested(details, details.session.accountId);
        return finish(ctx, { consent: { grantId } });
      }
      throw new oidcErrors.InvalidRequest(`unsupported prompt ${prompt.name}`);
    }

    if (action === 'abort') {
      return finish(ctx, { error: 'access_denied', error_description: 'the end-user cancelled the sign-in' });
    }

    // action === 'login'
    if (prompt.name !== 'login') throw new oidcErrors.InvalidRequest('this interaction is not a login');
    const form = await readForm(ctx);
    if (failWith !== undefined) {
      return finish(ctx, { error: failWith, error_description: failDescription });
    }
    const login = (form.get('login') ?? '').trim();
    const account = accountsByLogin.get(login);
    if (!account) {
      ctx.status = 200;
      ctx.type = 'html';
      ctx.body = loginPage({
        uid, login, clientId: details.params.client_id, error: 'Unknown login (tai khoan khong ton tai)',
      });
      return undefined;
    }
    const grantId = await grantRequested(details, account.sub);
    return finish(ctx, {
      login: { accountId: account.sub, acr, amr: ['pwd'] },
      consent: { grantId },
    });
  } catch (err) {
    if (err instanceof oidcErrors.OIDCProviderError) {
      ctx.status = err.statusCode ?? 400;
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>VNeID (test) error</title></head><body><h1>Error</h1><p id="error">${htmlEscape(err.error)}</p><p id="error_description">${htmlEscape(err.error_description ?? '')}</p></body></html>`;
      return undefined;
    }
    throw err;
  }
});

server.on('request', provider.callback());

// ---------------------------------------------------------------- lifecycle
let stopping = false;
function stop(reason) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`vneid provider: stopping (${reason})\n`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
if (exitOnStdinEof) {
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('error', () => stop('stdin error'));
  process.stdin.resume();
}

process.stderr.write(`vneid provider: client ${clientId}, ${accountsBySub.size} account(s), `
  + `national_id claims [${scopeClaims.national_id.join(', ')}]${failWith ? `, failing with ${failWith}` : ''}\n`);
process.stdout.write(`READY ${issuer}\n`);
