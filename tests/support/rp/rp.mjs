// An independent relying party: npm's certified `openid-client` (v6) runs the
// whole life of a sign-in against the eservices OpenID provider, as an
// integrator's system would. A person's browser is played by fetch with a
// cookie jar, filling the provider's own sign-in and consent forms.
//
// Settings come from the environment: ISSUER, CLIENT_ID, CLIENT_SECRET,
// REDIRECT_URI, POST_LOGOUT_REDIRECT_URI, USERNAME, PASSWORD; and for a second
// client that pushes its requests (PAR), authenticates with private_key_jwt and
// gets ES256 ID tokens: KEY_CLIENT_ID and KEY_CLIENT_JWK (its private EC JWK).
// Prints one JSON line with what it observed; exits non-zero on any failure.

import * as client from 'openid-client';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const issuer = env('ISSUER');
const redirectUri = env('REDIRECT_URI');
const postLogout = env('POST_LOGOUT_REDIRECT_URI');

// --- A browser: cookies by name, no automatic redirects. ---
const jar = new Map();
async function browse(url, init = {}) {
  const headers = new Headers(init.headers || {});
  if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
  const res = await fetch(new URL(url, issuer), { ...init, headers, redirect: 'manual' });
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return res;
}
const field = (html, name) => {
  const m = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  if (!m) throw new Error(`no ${name} field in page`);
  return m[1];
};
const form = (data) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(data).toString(),
});

// --- The relying party. ---
const config = await client.discovery(
  new URL(issuer),
  env('CLIENT_ID'),
  env('CLIENT_SECRET'),
  undefined,
  { execute: [client.allowInsecureRequests] },
);
const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email account offline_access',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});

// The person signs in, then consents.
const loginPage = await (await browse('/login')).text();
let res = await browse('/login', form({
  username: env('USERNAME'),
  password: env('PASSWORD'),
  csrf_token: field(loginPage, 'csrf_token'),
}));
if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
res = await browse(authUrl);
if (res.status === 200) {
  const page = await res.text();
  res = await browse('/oauth2/consent', form({
    consent_id: field(page, 'consent_id'),
    csrf_token: field(page, 'csrf_token'),
    decision: 'allow',
  }));
}
if (res.status !== 303) throw new Error(`authorization answered ${res.status}`);
const callback = new URL(res.headers.get('location'));

const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
const introspection = await client.tokenIntrospection(config, refreshed.access_token);
await client.tokenRevocation(config, refreshed.refresh_token);
const revokedIntrospection = await client.tokenIntrospection(config, refreshed.refresh_token);

// A second client of the same integrator: PAR, private_key_jwt, ES256 ID tokens.
const privateJwk = JSON.parse(env('KEY_CLIENT_JWK'));
const privateKey = await crypto.subtle.importKey(
  'jwk', privateJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'],
);
const keyConfig = await client.discovery(
  new URL(issuer),
  env('KEY_CLIENT_ID'),
  { id_token_signed_response_alg: 'ES256' },
  client.PrivateKeyJwt({ key: privateKey, kid: privateJwk.kid }),
  { execute: [client.allowInsecureRequests] },
);
const keyVerifier = client.randomPKCECodeVerifier();
const keyNonce = client.randomNonce();
const parUrl = await client.buildAuthorizationUrlWithPAR(keyConfig, {
  redirect_uri: redirectUri,
  scope: 'openid',
  code_challenge: await client.calculatePKCECodeChallenge(keyVerifier),
  code_challenge_method: 'S256',
  nonce: keyNonce,
});
res = await browse(parUrl);
if (res.status === 200) {
  const page = await res.text();
  res = await browse('/oauth2/consent', form({
    consent_id: field(page, 'consent_id'),
    csrf_token: field(page, 'csrf_token'),
    decision: 'allow',
  }));
}
if (res.status !== 303) throw new Error(`pushed authorization answered ${res.status}`);
const keyTokens = await client.authorizationCodeGrant(keyConfig, new URL(res.headers.get('location')), {
  pkceCodeVerifier: keyVerifier,
  expectedNonce: keyNonce,
  idTokenExpected: true,
});
const keyClaims = keyTokens.claims();
const keyIdTokenAlg = JSON.parse(Buffer.from(keyTokens.id_token.split('.')[0], 'base64url')).alg;

// RP-initiated logout.
const endSession = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token,
  post_logout_redirect_uri: postLogout,
  state: 'bye-state',
});
const logoutPage = await (await browse(endSession)).text();
res = await browse('/oauth2/logout', form({
  logout_id: field(logoutPage, 'logout_id'),
  csrf_token: field(logoutPage, 'csrf_token'),
  decision: 'logout',
}));

console.log(JSON.stringify({
  sub: claims.sub,
  acr: claims.acr,
  id_token_nonce_ok: claims.nonce === nonce,
  userinfo_sub: userinfo.sub,
  userinfo_name: userinfo.name,
  userinfo_email: userinfo.email,
  refreshed_rotated: refreshed.refresh_token !== tokens.refresh_token,
  introspection_active: introspection.active,
  introspection_client_id: introspection.client_id,
  revoked_refresh_active: revokedIntrospection.active,
  par_request_uri_only: new URL(parUrl).searchParams.has('request_uri') && !new URL(parUrl).searchParams.has('scope'),
  key_client_sub: keyClaims.sub,
  key_client_id_token_alg: keyIdTokenAlg,
  key_client_nonce_ok: keyClaims.nonce === keyNonce,
  logout_status: res.status,
  logout_location: res.headers.get('location'),
}));
