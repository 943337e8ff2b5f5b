//! The provider's less common paths: pushed authorization requests,
//! private_key_jwt client authentication, ES256 ID tokens, pairwise subjects
//! per sector, back-channel logout through the outbox, `login_hint` and
//! English pages, the `business` claim and the audit trail of tokens.

mod backchannel;
mod business;
mod id_tokens;
mod pages;
mod par;
mod private_key_jwt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, Validation, jwk::Jwk};
use serde_json::Value;
use sha2::Digest;

use crate::helpers::TestApp;

/// The PKCE verifier of the requests built by hand here.
const VERIFIER: &str = "verifier-verifier-verifier-verifier-verifier-0123";

/// The S256 challenge of `VERIFIER`.
fn challenge() -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(VERIFIER.as_bytes()))
}

/// `s` form-urlencoded.
fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The claims of a JWT, unverified.
fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("json")
}

/// The claims of a JWT verified with the provider's published keys, for
/// `audience` (expiry not checked).
async fn verify_with_jwks(app: &TestApp, jwt: &str, audience: &str) -> Value {
    let header = jsonwebtoken::decode_header(jwt).expect("header");
    let doc: Value = app.get("/oauth2/jwks").await.json().await.expect("jwks");
    let jwk: Jwk = serde_json::from_value(
        doc["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| Some(k["kid"].as_str().unwrap_or_default()) == header.kid.as_deref())
            .expect("published")
            .clone(),
    )
    .expect("jwk");
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[app.address.as_str()]);
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(jwt, &DecodingKey::from_jwk(&jwk).expect("key"), &validation)
        .expect("verifies")
        .claims
}
