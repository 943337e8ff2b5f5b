//! DPoP proofs (RFC 9449), checked without I/O and with the time passed
//! in: the header (`typ: dpop+jwt`, an asymmetric algorithm, a public key
//! that fits it and nothing private), the signature, the claims (`jti`,
//! `htm`, `htu` compared after RFC 3986 normalisation without query and
//! fragment, `iat` near now, `ath` when a token is presented), and the
//! key's RFC 7638 thumbprint (`jkt`) the tokens are bound to. Server nonces
//! are MACs of a time window ([`nonce_for`], [`nonce_valid`]); replayed
//! `jti`s are refused by the caller, which remembers them for [`JTI_MEMORY`].

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The algorithms a proof may be signed with (asymmetric only).
pub const ALGS: [&str; 9] = [
    "ES256", "ES384", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "EdDSA",
];
/// How old a proof's `iat` may be.
pub const IAT_PAST: Duration = Duration::seconds(60);
/// How far ahead of our clock a proof's `iat` may be.
pub const IAT_FUTURE: Duration = Duration::seconds(10);
/// How long a `jti` is remembered: as long as its proof could be accepted.
pub const JTI_MEMORY: Duration = Duration::seconds(75);
/// How long a server nonce period lasts; a nonce works in its period and the next.
pub const NONCE_PERIOD_SECS: i64 = 120;
/// The longest `jti` accepted (a UUID or 32 random bytes fit well within).
const MAX_JTI: usize = 128;
/// Private members a JWK may carry (RSA, EC, OKP) or a symmetric key.
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

/// What the request a proof comes with is.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The HTTP method (`POST`, `GET` …).
    pub method: &'a str,
    /// The URL the request was sent to (our public URL of the endpoint).
    pub url: &'a str,
    /// Now.
    pub now: DateTime<Utc>,
    /// The access token presented with it, at a resource (its hash is `ath`).
    pub access_token: Option<&'a str>,
}

/// A proof that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The key's RFC 7638 SHA-256 thumbprint, base64url.
    pub jkt: String,
    /// The proof's id (for replay detection).
    pub jti: String,
    /// The server nonce it carries, if any.
    pub nonce: Option<String>,
}

/// Why a proof is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DpopRefusal {
    /// Not a compact JWS with a JSON header and claims.
    Malformed,
    /// `typ` is not `dpop+jwt`.
    WrongType,
    /// `none`, a symmetric algorithm or one we do not support.
    UnsupportedAlg,
    /// No `jwk` in the header, or one we cannot use.
    MissingKey,
    /// The `jwk` holds private or symmetric key material.
    PrivateKey,
    /// The key does not fit the algorithm.
    KeyMismatch,
    /// The signature does not verify with the header's key.
    BadSignature,
    /// A required claim (`jti`, `htm`, `htu`, `iat`) is missing or ill-typed.
    MissingClaim,
    /// `htm` is not the request's method.
    WrongMethod,
    /// `htu` is not the request's URL.
    WrongUrl,
    /// `iat` too far in the past.
    Stale,
    /// `iat` too far in the future.
    FromTheFuture,
    /// A token is presented but `ath` is missing or is not its hash.
    WrongAth,
}

impl DpopRefusal {
    /// The `error_description` (English, for integrators).
    pub fn description(self) -> &'static str {
        match self {
            Self::Malformed => "the DPoP proof is not a well-formed JWT",
            Self::WrongType => "the DPoP proof's typ must be dpop+jwt",
            Self::UnsupportedAlg => "the DPoP proof's alg is not supported (asymmetric only)",
            Self::MissingKey => "the DPoP proof's header must carry a usable public jwk",
            Self::PrivateKey => "the DPoP proof's jwk must not contain private key material",
            Self::KeyMismatch => "the DPoP proof's jwk does not fit its alg",
            Self::BadSignature => "the DPoP proof's signature is invalid",
            Self::MissingClaim => "the DPoP proof must carry jti, htm, htu and iat",
            Self::WrongMethod => "the DPoP proof's htm does not match the request method",
            Self::WrongUrl => "the DPoP proof's htu does not match the request URL",
            Self::Stale => "the DPoP proof's iat is too old",
            Self::FromTheFuture => "the DPoP proof's iat is in the future",
            Self::WrongAth => "the DPoP proof's ath does not match the access token",
        }
    }
}

#[derive(Deserialize)]
struct Claims {
    jti: String,
    htm: String,
    htu: String,
    iat: i64,
    #[serde(default)]
    ath: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

fn segment_json(segment: &str) -> Result<Value, DpopRefusal> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| DpopRefusal::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| DpopRefusal::Malformed)
}

fn member<'a>(jwk: &'a Value, name: &str) -> Option<&'a str> {
    jwk.get(name).and_then(Value::as_str)
}

/// Whether the public `jwk` fits `alg` (curve for EC and OKP, 2048 bits at least for RSA).
fn key_fits(alg: &str, jwk: &Value) -> bool {
    let kty = member(jwk, "kty");
    let crv = member(jwk, "crv");
    match alg {
        "ES256" => kty == Some("EC") && crv == Some("P-256"),
        "ES384" => kty == Some("EC") && crv == Some("P-384"),
        "EdDSA" => kty == Some("OKP") && crv == Some("Ed25519"),
        _ => {
            kty == Some("RSA")
                && member(jwk, "n")
                    .and_then(|n| URL_SAFE_NO_PAD.decode(n).ok())
                    .is_some_and(|n| n.len() >= 256)
        }
    }
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK (EC, RSA or OKP), base64url.
pub fn thumbprint(jwk: &Value) -> Option<String> {
    let text = |name: &str| member(jwk, name).map(|v| Value::String(v.to_owned()).to_string());
    let canonical = match member(jwk, "kty")? {
        "EC" => format!(
            r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
            text("crv")?,
            text("x")?,
            text("y")?
        ),
        "RSA" => format!(r#"{{"e":{},"kty":"RSA","n":{}}}"#, text("e")?, text("n")?),
        "OKP" => format!(
            r#"{{"crv":{},"kty":"OKP","x":{}}}"#,
            text("crv")?,
            text("x")?
        ),
        _ => return None,
    };
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

/// `ath`: base64url of SHA-256 of the access token.
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// A URL as `htu` compares it (RFC 9449 §4.3): scheme and host in lower
/// case, default port dropped, dot segments resolved, percent-encoding
/// normalised, without query and fragment.
pub fn normalize_htu(raw: &str) -> Option<String> {
    let mut url = url::Url::parse(raw).ok()?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return None;
    }
    url.set_query(None);
    url.set_fragment(None);
    Some(url.to_string())
}

fn check_header(header: &Value) -> Result<(&str, &Value), DpopRefusal> {
    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(DpopRefusal::WrongType);
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .filter(|a| ALGS.contains(a))
        .ok_or(DpopRefusal::UnsupportedAlg)?;
    let jwk = header
        .get("jwk")
        .filter(|j| j.is_object())
        .ok_or(DpopRefusal::MissingKey)?;
    if PRIVATE_MEMBERS.iter().any(|m| jwk.get(m).is_some()) {
        return Err(DpopRefusal::PrivateKey);
    }
    if !key_fits(alg, jwk) {
        return Err(DpopRefusal::KeyMismatch);
    }
    Ok((alg, jwk))
}

fn verify_signature(proof: &str, alg: &str, jwk: &Value) -> Result<(), DpopRefusal> {
    let key: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(jwk.clone()).map_err(|_| DpopRefusal::MissingKey)?;
    let key = jsonwebtoken::DecodingKey::from_jwk(&key).map_err(|_| DpopRefusal::MissingKey)?;
    let algorithm: jsonwebtoken::Algorithm =
        alg.parse().map_err(|_| DpopRefusal::UnsupportedAlg)?;
    let mut validation = jsonwebtoken::Validation::new(algorithm);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(proof, &key, &validation)
        .map(|_| ())
        .map_err(|_| DpopRefusal::BadSignature)
}

fn check_claims(claims: &Claims, expected: &Expected<'_>) -> Result<(), DpopRefusal> {
    if claims.jti.is_empty() || claims.jti.len() > MAX_JTI {
        return Err(DpopRefusal::MissingClaim);
    }
    if claims.htm != expected.method {
        return Err(DpopRefusal::WrongMethod);
    }
    match (normalize_htu(&claims.htu), normalize_htu(expected.url)) {
        (Some(got), Some(want)) if got == want => {}
        _ => return Err(DpopRefusal::WrongUrl),
    }
    let now = expected.now.timestamp();
    if claims.iat < now - IAT_PAST.num_seconds() {
        return Err(DpopRefusal::Stale);
    }
    if claims.iat > now + IAT_FUTURE.num_seconds() {
        return Err(DpopRefusal::FromTheFuture);
    }
    if let Some(token) = expected.access_token
        && claims.ath.as_deref() != Some(ath(token).as_str())
    {
        return Err(DpopRefusal::WrongAth);
    }
    Ok(())
}

/// Checks a proof for the `expected` request (not its nonce nor its `jti`'s
/// novelty, which need the server's key and memory).
pub fn check(proof: &str, expected: &Expected<'_>) -> Result<Proof, DpopRefusal> {
    let mut parts = proof.split('.');
    let (Some(header), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(DpopRefusal::Malformed);
    };
    let header = segment_json(header)?;
    let (alg, jwk) = check_header(&header)?;
    let claims: Claims =
        serde_json::from_value(segment_json(payload)?).map_err(|_| DpopRefusal::MissingClaim)?;
    verify_signature(proof, alg, jwk)?;
    check_claims(&claims, expected)?;
    Ok(Proof {
        jkt: thumbprint(jwk).ok_or(DpopRefusal::MissingKey)?,
        jti: claims.jti,
        nonce: claims.nonce,
    })
}

fn nonce_mac(key: &[u8], period: i64) -> Hmac<Sha256> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC takes any key length")
    };
    mac.update(b"dpop-nonce\n");
    mac.update(&period.to_be_bytes());
    mac
}

/// The server nonce to hand out at `now`: its period and a MAC of it.
pub fn nonce_for(key: &[u8], now: DateTime<Utc>) -> String {
    let period = now.timestamp().div_euclid(NONCE_PERIOD_SECS);
    let tag = nonce_mac(key, period).finalize().into_bytes();
    format!("{period}.{}", URL_SAFE_NO_PAD.encode(&tag[..18]))
}

/// Whether `nonce` is one of ours from this period or the previous one
/// (the MAC compared in constant time).
pub fn nonce_valid(key: &[u8], nonce: &str, now: DateTime<Utc>) -> bool {
    let current = now.timestamp().div_euclid(NONCE_PERIOD_SECS);
    let Some((period, tag)) = nonce.split_once('.') else {
        return false;
    };
    let (Ok(period), Ok(tag)) = (period.parse::<i64>(), URL_SAFE_NO_PAD.decode(tag)) else {
        return false;
    };
    (period == current || period == current - 1)
        && tag.len() == 18
        && nonce_mac(key, period).verify_truncated_left(&tag).is_ok()
}

#[cfg(test)]
#[path = "dpop_tests.rs"]
mod tests;
