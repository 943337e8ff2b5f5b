//! Tokens we sign: ID tokens (OpenID Connect Core) and access tokens as JWTs
//! (RFC 9068, `typ: at+jwt`), and the verification of our own access tokens.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Code;
use crate::infra::Core;
use crate::oidc::Provider;
use crate::{
    error::{AppError, AppResult},
    oidc::keys::{self, Alg},
};

/// Access tokens live this long.
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(5);
/// ID tokens live this long.
pub const ID_TOKEN_TTL: Duration = Duration::hours(1);
/// How access tokens are signed. ES256: a P-256 signature costs a small
/// fraction of an RSA-2048 one, and every grant signs one; resource servers
/// find the key in the JWKS like any other (RFC 9068 only asks that RS256 be
/// supported, which it is: ID tokens use it by default).
pub const ACCESS_TOKEN_ALG: Alg = Alg::Es256;
/// Verified access tokens remembered per process (a resource server
/// introspects, and the API checks, the same token many times in its life).
const VERIFIED_CAPACITY: usize = 50_000;

/// Access tokens this process has verified, by SHA-256, with their claims.
/// Expiry and revocation are still checked on every use.
#[derive(Default)]
pub struct VerifiedTokens {
    entries: std::sync::RwLock<std::collections::HashMap<[u8; 32], AccessClaims>>,
}

impl std::fmt::Debug for VerifiedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifiedTokens")
    }
}

impl VerifiedTokens {
    fn get(&self, digest: &[u8; 32]) -> Option<AccessClaims> {
        self.entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(digest)
            .cloned()
    }

    fn put(&self, digest: [u8; 32], claims: &AccessClaims, now: DateTime<Utc>) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= VERIFIED_CAPACITY {
            // Drop what has expired; if that is not enough, start over.
            entries.retain(|_, c| c.exp > now.timestamp());
            if entries.len() >= VERIFIED_CAPACITY {
                entries.clear();
            }
        }
        entries.insert(digest, claims.clone());
    }
}

/// The assurance level as an `acr` value.
pub fn acr_for(level: u8) -> &'static str {
    if level >= 2 { ACR_LEVEL_2 } else { ACR_LEVEL_1 }
}
pub use crate::domain::assurance::{ACR_LEVEL_1, ACR_LEVEL_2, ACR_MFA};

/// The audience of our access tokens: the JSON API.
pub fn api_audience(state: &Core) -> String {
    format!("{}/api", state.settings.issuer())
}

/// Claims of an access token (RFC 9068).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// The subject as this client sees it.
    pub sub: String,
    /// The API.
    pub aud: String,
    /// The client.
    pub client_id: String,
    /// Space-separated scopes.
    pub scope: String,
    /// Assurance.
    pub acr: String,
    /// When the person signed in (RFC 9068 §2.2.1); absent for client credentials.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub auth_time: Option<i64>,
    /// How they signed in (RFC 9068 §2.2.1); absent for client credentials.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub amr: Option<Vec<String>>,
    /// The account and business of the grant, sealed for this server only
    /// (`oidc::token_context`); absent for client credentials.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ctx: Option<String>,
    /// Account id: never in the token, recovered from `ctx` on verification.
    #[serde(skip)]
    pub account_id: Option<uuid::Uuid>,
    /// The business the person acts for in this grant: never in the token,
    /// recovered from `ctx` on verification.
    #[serde(skip)]
    pub acting_for: Option<uuid::Uuid>,
    /// The DPoP key the token is bound to (RFC 9449 §6.1); absent for bearer tokens.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cnf: Option<Confirmation>,
    /// Token id.
    pub jti: String,
    /// Issued at.
    pub iat: i64,
    /// Expires.
    pub exp: i64,
}

/// A token's confirmation claim (RFC 7800): the JWK SHA-256 thumbprint of its DPoP key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Confirmation {
    /// RFC 7638 thumbprint, base64url.
    pub jkt: String,
}

impl Confirmation {
    /// The confirmation of `jkt`, if bound.
    pub fn of(jkt: Option<&str>) -> Option<Self> {
        jkt.map(|jkt| Self {
            jkt: jkt.to_owned(),
        })
    }
}

/// Claims of an ID token.
#[derive(Debug, Clone, Serialize)]
pub struct IdClaims<'a> {
    /// Issuer.
    pub iss: &'a str,
    /// Subject.
    pub sub: &'a str,
    /// The client.
    pub aud: &'a str,
    /// Issued at.
    pub iat: i64,
    /// Expires.
    pub exp: i64,
    /// When the person authenticated.
    pub auth_time: i64,
    /// The request's nonce.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<&'a str>,
    /// Assurance.
    pub acr: &'a str,
    /// How they authenticated.
    pub amr: &'a [String],
    /// Session id.
    pub sid: &'a str,
    /// Left half of SHA-256 of the access token.
    pub at_hash: String,
}

fn jwt_alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::ES256 => "ES256",
        Algorithm::RS256 => "RS256",
        _ => "",
    }
}

fn jwt_alg(alg: Alg) -> Algorithm {
    match alg {
        Alg::Rs256 => Algorithm::RS256,
        Alg::Es256 => Algorithm::ES256,
    }
}

/// `at_hash`: base64url of the left half of SHA-256 of the token (RS256/ES256).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// Signs claims with the current key of `alg`, with header `typ`.
pub async fn sign<T: Serialize>(
    state: &Provider,
    alg: Alg,
    typ: &str,
    claims: &T,
) -> AppResult<String> {
    let (kid, key) = keys::signer(state, alg).await?;
    let mut header = Header::new(jwt_alg(alg));
    header.kid = Some(kid);
    header.typ = Some(typ.to_owned());
    jsonwebtoken::encode(&header, claims, &key).map_err(AppError::internal)
}

fn invalid_token(description: &str) -> AppError {
    AppError::from(Code::InvalidAccessToken).with_header(
        actix_web::http::header::WWW_AUTHENTICATE,
        format!("Bearer error=\"invalid_token\", error_description=\"{description}\""),
    )
}

/// Verifies one of our access tokens at `now`.
pub async fn verify_access_token(
    state: &Provider,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<AccessClaims> {
    let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let claims = match state.verified_tokens.get(&digest) {
        Some(claims) => claims,
        None => {
            let claims = verify_signature_and_claims(state, token).await?;
            state.verified_tokens.put(digest, &claims, now);
            claims
        }
    };
    if claims.exp <= now.timestamp() {
        return Err(invalid_token("expired"));
    }
    if is_revoked(state, &claims.jti).await? {
        return Err(invalid_token("revoked"));
    }
    Ok(claims)
}

/// Verifies an access token for our own JSON API (and UserInfo): one of
/// ours, whose audience is the API (not another resource server's).
pub async fn verify_api_token(
    state: &Provider,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<AccessClaims> {
    let claims = verify_access_token(state, token, now).await?;
    if claims.aud != api_audience(state) {
        return Err(invalid_token("not for this audience"));
    }
    Ok(claims)
}

/// The signature, header and fixed claims of an access token (not its
/// expiry, nor its audience: the callers check it), with its sealed context opened.
async fn verify_signature_and_claims(state: &Provider, token: &str) -> AppResult<AccessClaims> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid_token("malformed"))?;
    if header.typ.as_deref() != Some("at+jwt") {
        return Err(invalid_token("not an access token"));
    }
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
        return Err(invalid_token("unexpected algorithm"));
    }
    let kid = header.kid.ok_or_else(|| invalid_token("no key id"))?;
    let (key_alg, key) = keys::verifier(state, &kid)
        .await?
        .ok_or_else(|| invalid_token("unknown key"))?;
    if jwt_alg_name(header.alg) != key_alg {
        return Err(invalid_token("algorithm does not match the key"));
    }
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[state.settings.issuer()]);
    // The audience is the API's or a registered resource server's: callers check it.
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    // Expiry is checked against our clock (tests move it), not the system's.
    validation.validate_exp = false;
    let data = jsonwebtoken::decode::<AccessClaims>(token, &key, &validation)
        .map_err(|_| invalid_token("signature or claims invalid"))?;
    let mut claims = data.claims;
    if let Some(sealed) = &claims.ctx {
        let context = crate::oidc::token_context::open(state, sealed, &claims.jti)
            .await?
            .ok_or_else(|| invalid_token("context invalid"))?;
        claims.account_id = Some(context.account);
        claims.acting_for = context.acting_for;
    }
    Ok(claims)
}

/// The Redis key caching the revocation of the access token whose jti has
/// this SHA-256 (the same digest keys the database row).
fn revoked_key(state: &Core, jti_hash: &[u8]) -> String {
    state.kv.key(&format!(
        "oidc_revoked_jti:{}",
        crate::crypto::tokens::hex(jti_hash)
    ))
}

/// How long the cache may vouch for being complete before it is rebuilt
/// from the database: it bounds how long a revocation whose cache write was
/// lost (Redis unreachable for a moment, then back with its old data) goes
/// unseen.
const COMPLETE_FOR_SECONDS: u64 = 60;

fn complete_key(state: &Core) -> String {
    state.kv.key("oidc_revoked_jti:complete")
}

/// Whether an access token was revoked (RFC 7009) before it expired.
///
/// PostgreSQL holds every revocation; Redis holds a copy of them and a
/// marker saying the copy is complete. One Redis round trip answers: the
/// token's key (revoked), or the marker without it (not revoked). Without the
/// marker (Redis was flushed or restarted, or the marker aged out) the copy is
/// rebuilt from the database first; if Redis fails, the database answers.
/// So neither a flush nor an outage makes a revoked token valid again, and a
/// valid token costs no database read.
pub async fn is_revoked(state: &Core, jti: &str) -> AppResult<bool> {
    let jti_hash = crate::crypto::tokens::hash(jti);
    let cached: redis::RedisResult<(bool, bool)> = match state.kv.conn().await {
        Ok(mut kv) => {
            redis::pipe()
                .exists(revoked_key(state, &jti_hash))
                .exists(complete_key(state))
                .query_async(&mut kv)
                .await
        }
        Err(err) => Err(err),
    };
    match cached {
        Ok((true, _)) => return Ok(true),
        Ok((false, true)) => return Ok(false),
        Ok((false, false)) => {
            if rebuild_cache(state).await.is_ok() {
                return revoked_in_database(state, &jti_hash).await;
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, "revocation cache unavailable; asking the database");
        }
    }
    revoked_in_database(state, &jti_hash).await
}

async fn revoked_in_database(state: &Core, jti_hash: &[u8]) -> AppResult<bool> {
    let mut conn = state.db.get().await?;
    Ok(
        crate::storage::revocations::access_token_revoked_until(&mut conn, jti_hash)
            .await?
            .is_some(),
    )
}

/// Copies every revocation in force into Redis, then marks the copy
/// complete (revocations made meanwhile write their own key, so none is lost).
async fn rebuild_cache(state: &Core) -> AppResult<()> {
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let revoked = crate::storage::revocations::access_tokens_revoked_at(&mut conn, now).await?;
    drop(conn);
    let mut pipe = redis::pipe();
    for (jti_hash, until) in &revoked {
        let ttl = u64::try_from(until.timestamp() - now.timestamp()).unwrap_or(0);
        if ttl > 0 {
            pipe.set_ex(revoked_key(state, jti_hash), 1, ttl).ignore();
        }
    }
    pipe.set_ex(complete_key(state), 1, COMPLETE_FOR_SECONDS)
        .ignore();
    let mut kv = state.kv.conn().await?;
    let _: () = pipe.query_async(&mut kv).await?;
    Ok(())
}

/// Revokes an access token until it would have expired anyway: durably in
/// PostgreSQL first, then in the Redis cache (best effort: a failure there is
/// covered by the database).
pub async fn revoke_access_token(
    state: &Core,
    claims: &AccessClaims,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let ttl = u64::try_from(claims.exp - now.timestamp()).unwrap_or(0);
    if ttl == 0 {
        return Ok(());
    }
    let jti_hash = crate::crypto::tokens::hash(&claims.jti);
    let expires_at = DateTime::from_timestamp(claims.exp, 0).unwrap_or(now);
    let mut conn = state.db.get().await?;
    crate::storage::revocations::revoke_access_token(&mut conn, &jti_hash, expires_at).await?;
    drop(conn);
    cache_revocation(state, &jti_hash, ttl).await;
    Ok(())
}

/// Caches for `ttl` seconds the revocation of the access token whose jti has
/// this SHA-256 (best effort: the database holds the revocation).
pub(crate) async fn cache_revocation(state: &Core, jti_hash: &[u8], ttl: u64) {
    use redis::AsyncCommands;
    let cached: redis::RedisResult<()> = match state.kv.conn().await {
        Ok(mut kv) => kv.set_ex(revoked_key(state, jti_hash), 1, ttl).await,
        Err(err) => Err(err),
    };
    if let Err(err) = cached {
        tracing::warn!(error = %err, "could not cache a revocation; the database has it");
    }
}
