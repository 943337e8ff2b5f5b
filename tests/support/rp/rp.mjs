// An independent relying party: npm's certified `openid-client` (v6) runs the
// whole life of a sign-in against the eservices OpenID provider, as an
// integrator's system would. A person's browser is played by fetch with a
// cookie jar, filling the provider's own sign-in and consent forms.
//
// Settings come from the environment: ISSUER, CLIENT_ID, CLIENT_SECRET,
// REDIRECT_URI, POST_LOGOUT_REDIRECT_URI, USERNAME, PASSWORD; and for a second
// client that pushes its requests (PAR), authenticates with private_key_jwt and
// gets ES256 ID tokens: KEY_CLIENT_ID and KEY_CLIENT_JWK (its private EC JWK);
// the mobile app (public, DPoP required): APP_CLIENT_ID; a FAPI 2.0 client:
// FAPI_CLIENT_ID and FAPI_CLIENT_JWK.
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

// The mobile app: a public client whose tokens are DPoP-bound (RFC 9449).
// openid-client makes the proofs, follows the server nonces and calls the
// JSON API and UserInfo with the DPoP scheme.
const consentThrough = async (url) => {
  let answer = await browse(url);
  if (answer.status === 200) {
    const page = await answer.text();
    answer = await browse('/oauth2/consent', form({
      consent_id: field(page, 'consent_id'),
      csrf_token: field(page, 'csrf_token'),
      decision: 'allow',
    }));
  }
  if (answer.status !== 303) throw new Error(`authorization answered ${answer.status}`);
  return new URL(answer.headers.get('location'));
};
const appConfig = await client.discovery(
  new URL(issuer), env('APP_CLIENT_ID'), undefined, client.None(),
  { execute: [client.allowInsecureRequests] },
);
const appDpop = client.getDPoPHandle(appConfig, await client.randomDPoPKeyPair('ES256'));
const appVerifier = client.randomPKCECodeVerifier();
const appState = client.randomState();
const appCallback = await consentThrough(client.buildAuthorizationUrl(appConfig, {
  redirect_uri: redirectUri,
  scope: 'openid account offline_access',
  code_challenge: await client.calculatePKCECodeChallenge(appVerifier),
  code_challenge_method: 'S256',
  state: appState,
}));
const appTokens = await client.authorizationCodeGrant(appConfig, appCallback, {
  pkceCodeVerifier: appVerifier,
  expectedState: appState,
  idTokenExpected: true,
}, undefined, { DPoP: appDpop });
const appMe = await client.fetchProtectedResource(
  appConfig, appTokens.access_token, new URL('/api/v1/me', issuer), 'GET', undefined, undefined,
  { DPoP: appDpop },
);
const appUserinfo = await client.fetchUserInfo(
  appConfig, appTokens.access_token, appTokens.claims().sub, { DPoP: appDpop },
);
const appRefreshed = await client.refreshTokenGrant(appConfig, appTokens.refresh_token, undefined, { DPoP: appDpop });
const asBearer = await fetch(new URL('/api/v1/me', issuer), {
  headers: { authorization: `Bearer ${appRefreshed.access_token}` },
});

// A system on the FAPI 2.0 Security Profile: PAR, private_key_jwt, DPoP.
const fapiJwk = JSON.parse(env('FAPI_CLIENT_JWK'));
const fapiKey = await crypto.subtle.importKey(
  'jwk', fapiJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'],
);
const fapiConfig = await client.discovery(
  new URL(issuer), env('FAPI_CLIENT_ID'),
  { id_token_signed_response_alg: 'ES256' },
  client.PrivateKeyJwt({ key: fapiKey, kid: fapiJwk.kid }),
  { execute: [client.allowInsecureRequests] },
);
const fapiDpop = client.getDPoPHandle(fapiConfig, await client.randomDPoPKeyPair('ES256'));
const fapiVerifier = client.randomPKCECodeVerifier();
const fapiNonce = client.randomNonce();
const fapiUrl = await client.buildAuthorizationUrlWithPAR(fapiConfig, {
  redirect_uri: redirectUri,
  scope: 'openid account',
  code_challenge: await client.calculatePKCECodeChallenge(fapiVerifier),
  code_challenge_method: 'S256',
  nonce: fapiNonce,
}, { DPoP: fapiDpop });
const fapiTokens = await client.authorizationCodeGrant(fapiConfig, await consentThrough(fapiUrl), {
  pkceCodeVerifier: fapiVerifier,
  expectedNonce: fapiNonce,
  idTokenExpected: true,
}, undefined, { DPoP: fapiDpop });
const fapiMe = await client.fetchProtectedResource(
  fapiConfig, fapiTokens.access_token, new URL('/api/v1/me', issuer), 'GET', undefined, undefined,
  { DPoP: fapiDpop },
);

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
  app_token_type: appTokens.token_type,
  app_me_status: appMe.status,
  app_userinfo_sub_ok: appUserinfo.sub === appTokens.claims().sub,
  app_refreshed_token_type: appRefreshed.token_type,
  app_refresh_rotated: appRefreshed.refresh_token !== appTokens.refresh_token,
  app_token_as_bearer_status: asBearer.status,
  fapi_token_type: fapiTokens.token_type,
  fapi_nonce_ok: fapiTokens.claims().nonce === fapiNonce,
  fapi_me_status: fapiMe.status,
  logout_status: res.status,
  logout_location: res.headers.get('location'),
}));
