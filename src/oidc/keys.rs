//! Signing keys: RS256 and ES256 key pairs, private halves sealed under the
//! vault master key in PostgreSQL. A rotated-in key is published in the JWKS
//! before it signs anything (so relying parties with a cached JWKS fetch it in
//! time) and a rotated-out key stays published until every token it signed
//! has expired.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncConnection;
use jsonwebtoken::EncodingKey;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::Code;
use crate::infra::Core;
use crate::oidc::Provider;
use crate::{
    error::{AppError, AppResult},
    storage::oidc::{self as store, SigningKeyRow},
};

/// How long a retired key stays published: longer than any token it signed lives.
pub const RETIRED_KEY_LIFETIME: Duration = Duration::hours(24);

/// A signing algorithm we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (ID tokens by default, for the widest support).
    Rs256,
    /// ECDSA P-256 with SHA-256.
    Es256,
}

impl Alg {
    /// Both algorithms.
    pub const ALL: [Self; 2] = [Self::Rs256, Self::Es256];

    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }
}

impl From<crate::domain::oauth::IdTokenAlg> for Alg {
    fn from(alg: crate::domain::oauth::IdTokenAlg) -> Self {
        match alg {
            crate::domain::oauth::IdTokenAlg::Rs256 => Self::Rs256,
            crate::domain::oauth::IdTokenAlg::Es256 => Self::Es256,
        }
    }
}

/// A freshly generated key pair.
struct Generated {
    kid: String,
    private_pem: String,
    public_jwk: serde_json::Value,
}

/// RFC 7638 thumbprint of the members that define the key, as the key id.
fn thumbprint(canonical: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.to_string().as_bytes()))
}

fn generate(alg: Alg) -> anyhow::Result<Generated> {
    match alg {
        Alg::Rs256 => {
            use rsa::{pkcs8::EncodePrivateKey, traits::PublicKeyParts};
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)?;
            let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
            let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
            // Members in lexicographic order, as RFC 7638 wants.
            let kid = thumbprint(&json!({ "e": e, "kty": "RSA", "n": n }));
            Ok(Generated {
                private_pem: key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)?.to_string(),
                public_jwk: json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e }),
                kid,
            })
        }
        Alg::Es256 => {
            use p256::{elliptic_curve::sec1::ToEncodedPoint, pkcs8::EncodePrivateKey};
            let key = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
            let point = key.public_key().to_encoded_point(false);
            let (Some(x), Some(y)) = (point.x(), point.y()) else {
                anyhow::bail!("P-256 public key without coordinates");
            };
            let x = URL_SAFE_NO_PAD.encode(x);
            let y = URL_SAFE_NO_PAD.encode(y);
            let kid = thumbprint(&json!({ "crv": "P-256", "kty": "EC", "x": x, "y": y }));
            Ok(Generated {
                private_pem: key.to_pkcs8_pem(p256::pkcs8::LineEnding::LF)?.to_string(),
                public_jwk: json!({ "kty": "EC", "use": "sig", "alg": "ES256", "kid": kid, "crv": "P-256", "x": x, "y": y }),
                kid,
            })
        }
    }
}

fn sealing_context(kid: &str) -> String {
    format!("oidc.signing_key:{kid}")
}

/// Generates a key of `alg` that signs from `activates_at` on and schedules
/// the retirement of the older ones at that moment. Returns its key id.
async fn add_key(
    state: &Core,
    alg: Alg,
    now: DateTime<Utc>,
    activates_at: DateTime<Utc>,
) -> AppResult<String> {
    let generated = tokio::task::spawn_blocking(move || generate(alg))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let row = SigningKeyRow {
        kid: generated.kid.clone(),
        alg: alg.as_str().to_owned(),
        private_key: state.settings.keyring.seal(
            generated.private_pem.as_bytes(),
            &sealing_context(&generated.kid),
        ),
        public_jwk: generated.public_jwk,
        created_at: now,
        activates_at,
        retired_at: None,
        expires_at: None,
    };
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        store::insert_key(c, &row).await?;
        store::retire_others(
            c,
            alg.as_str(),
            &row.kid,
            activates_at,
            activates_at + RETIRED_KEY_LIFETIME,
        )
        .await?;
        Ok(())
    })
    .await?;
    Ok(generated.kid)
}

/// Makes sure each algorithm has a signing key (first start, `seed`).
pub async fn ensure(state: &Core) -> AppResult<Vec<String>> {
    let now = state.clock.now();
    let mut created = Vec::new();
    for alg in Alg::ALL {
        let mut conn = state.db.get().await?;
        if store::signing_key(&mut conn, alg.as_str(), now)
            .await?
            .is_none()
        {
            drop(conn);
            created.push(add_key(state, alg, now, now).await?);
        }
    }
    Ok(created)
}

/// Rotates both keys: the new ones are published now and sign after
/// `publish_delay`; the old ones stop signing then and stay published for
/// [`RETIRED_KEY_LIFETIME`] more. Without a current key, the new one signs at once.
pub async fn rotate(
    state: &Core,
    publish_delay: Duration,
) -> AppResult<Vec<(Alg, String, DateTime<Utc>)>> {
    let now = state.clock.now();
    let mut out = Vec::new();
    for alg in Alg::ALL {
        let mut conn = state.db.get().await?;
        let has_current = store::signing_key(&mut conn, alg.as_str(), now)
            .await?
            .is_some();
        drop(conn);
        let activates_at = if has_current {
            now + publish_delay
        } else {
            now
        };
        out.push((
            alg,
            add_key(state, alg, now, activates_at).await?,
            activates_at,
        ));
    }
    Ok(out)
}

/// The JWKS document: every published key.
pub async fn jwks(state: &Core) -> AppResult<serde_json::Value> {
    let mut conn = state.db.get().await?;
    let keys: Vec<_> = store::published_keys(&mut conn, state.clock.now())
        .await?
        .into_iter()
        .map(|k| k.public_jwk)
        .collect();
    Ok(json!({ "keys": keys }))
}

/// How long cached keys are used before PostgreSQL is asked again: much
/// shorter than any publish delay, so a rotation made by another process is
/// seen before its new key signs.
pub const CACHE_MAX_AGE: Duration = Duration::seconds(30);

#[derive(Clone)]
struct CachedSigner {
    kid: String,
    key: EncodingKey,
    fetched: DateTime<Utc>,
    /// When the key stops signing, as known at fetch time.
    retires: Option<DateTime<Utc>>,
}

#[derive(Clone)]
struct CachedVerifiers {
    keys: std::collections::HashMap<String, (String, jsonwebtoken::DecodingKey)>,
    fetched: DateTime<Utc>,
}

/// Signing and verification keys of this process, so a token is not a
/// database read, an unsealing and a PEM parse away.
#[derive(Default)]
pub struct KeyCache {
    signers: std::sync::RwLock<std::collections::HashMap<&'static str, CachedSigner>>,
    verifiers: std::sync::RwLock<Option<CachedVerifiers>>,
    /// The pairwise subject salt (never changes once generated).
    pub(crate) pairwise_salt: tokio::sync::OnceCell<crate::oidc::subject::PairwiseSalt>,
    /// The key sealing access tokens' context (never changes once generated).
    pub(crate) token_context_key: tokio::sync::OnceCell<crate::crypto::keyring::DataKey>,
    /// The key of DPoP server nonces (never changes once generated).
    pub(crate) dpop_nonce_key: tokio::sync::OnceCell<[u8; 32]>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyCache")
    }
}

impl KeyCache {
    /// Forgets everything (after a rotation in this process).
    pub fn clear(&self) {
        self.signers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        *self.verifiers.write().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// The key that signs with `alg` now, as its id and an encoding key.
pub async fn signer(state: &Provider, alg: Alg) -> AppResult<(String, EncodingKey)> {
    let now = state.clock.now();
    let cached = state
        .key_cache
        .signers
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(alg.as_str())
        .cloned();
    if let Some(c) = cached
        && now - c.fetched < CACHE_MAX_AGE
        && c.fetched <= now
        && c.retires.is_none_or(|r| now < r)
    {
        return Ok((c.kid, c.key));
    }
    let mut conn = state.db.get().await?;
    let row = store::signing_key(&mut conn, alg.as_str(), now)
        .await?
        .ok_or_else(|| AppError::from(Code::NoSigningKey))?;
    let pem = state
        .settings
        .keyring
        .open(&row.private_key, &sealing_context(&row.kid))
        .map_err(|e| AppError::internal(anyhow::anyhow!("signing key {}: {e}", row.kid)))?;
    let key = match alg {
        Alg::Rs256 => EncodingKey::from_rsa_pem(&pem),
        Alg::Es256 => EncodingKey::from_ec_pem(&pem),
    }
    .map_err(AppError::internal)?;
    state
        .key_cache
        .signers
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .insert(
            alg.as_str(),
            CachedSigner {
                kid: row.kid.clone(),
                key: key.clone(),
                fetched: now,
                retires: row.retired_at,
            },
        );
    Ok((row.kid, key))
}

/// The published key `kid` as (its `alg`, a decoding key), if we published it.
/// An unknown id refreshes the cache at most every few seconds, so random ids
/// cannot turn every request into a database read.
pub async fn verifier(
    state: &Provider,
    kid: &str,
) -> AppResult<Option<(String, jsonwebtoken::DecodingKey)>> {
    let now = state.clock.now();
    let cached = state
        .key_cache
        .verifiers
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if let Some(c) = &cached
        && now - c.fetched < CACHE_MAX_AGE
        && c.fetched <= now
        && (c.keys.contains_key(kid) || now - c.fetched < Duration::seconds(5))
    {
        return Ok(c.keys.get(kid).cloned());
    }
    let mut conn = state.db.get().await?;
    let mut keys = std::collections::HashMap::new();
    for row in store::published_keys(&mut conn, now).await? {
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(row.public_jwk).map_err(AppError::internal)?;
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(AppError::internal)?;
        keys.insert(row.kid, (row.alg, key));
    }
    let found = keys.get(kid).cloned();
    *state
        .key_cache
        .verifiers
        .write()
        .unwrap_or_else(|p| p.into_inner()) = Some(CachedVerifiers { keys, fetched: now });
    Ok(found)
}
