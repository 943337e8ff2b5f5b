//! Client authentication at the token, PAR, revocation and introspection
//! endpoints (RFC 6749 §2.3, OpenID Connect Core §9): `client_secret_basic`
//! and `client_secret_post` (secrets stored as SHA-256, compared in constant
//! time), `private_key_jwt` (RFC 7523: an assertion signed with a key the
//! client registered, for our issuer identifier; each `jti` is accepted once,
//! remembered in PostgreSQL and cached in Redis), and `none` for public
//! clients. Each client has exactly one method.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};

use crate::domain::oauth::ClientProfile;
use serde::Deserialize;

use crate::infra::Core;
use crate::oidc::Provider;
use crate::{
    crypto::tokens,
    domain::oauth::AuthMethod,
    error::AppError,
    oidc::{clients, error::OAuthError},
    storage::{oidc::ClientRow, revocations},
};

/// The only assertion type we accept (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// An assertion may not claim to live longer than this.
const MAX_ASSERTION_LIFETIME_SECS: i64 = 600;
/// Tolerated clock skew for `iat` and `nbf`.
const SKEW_SECS: i64 = 60;
/// The algorithms FAPI 2.0 Security Profile §5.4 allows.
const FAPI2_ALGS: [Algorithm; 3] = [Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA];

/// Asymmetric algorithms a client may sign its assertions with. Symmetric
/// ones (HS256 with our public key as the secret) and `none` are refused.
const ASSERTION_ALGS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// How the client presented itself.
#[derive(Debug, Default)]
pub struct ClientCredentials {
    /// The id (from Basic or the form).
    pub client_id: Option<String>,
    /// The secret, if any.
    pub secret: Option<String>,
    /// `client_assertion_type`.
    pub assertion_type: Option<String>,
    /// `client_assertion`.
    pub assertion: Option<String>,
}

/// Whether a client holds credentials (may use client credentials and introspection).
pub fn is_confidential(client: &ClientRow) -> bool {
    client.auth_method.is_confidential()
}

fn unauthenticated(description: &str) -> OAuthError {
    OAuthError::new("invalid_client", description)
}

#[derive(Deserialize)]
struct Unverified {
    sub: Option<String>,
}

/// The `sub` of an assertion, read before its signature is checked (only to find the client).
fn claimed_client(assertion: &str) -> Option<String> {
    let payload = assertion.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice::<Unverified>(&bytes).ok()?.sub
}

/// Authenticates the client with its one registered method.
pub async fn authenticate(
    state: &Provider,
    creds: &ClientCredentials,
) -> Result<ClientRow, OAuthError> {
    let assertion = match (creds.assertion_type.as_deref(), creds.assertion.as_deref()) {
        (None, None) => None,
        (Some(JWT_BEARER), Some(a)) => Some(a),
        (Some(_), Some(_)) => {
            return Err(unauthenticated(
                "unsupported client_assertion_type; use urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ));
        }
        _ => {
            return Err(OAuthError::new(
                "invalid_request",
                "client_assertion and client_assertion_type go together",
            ));
        }
    };
    if assertion.is_some() && creds.secret.is_some() {
        return Err(OAuthError::new(
            "invalid_request",
            "use one client authentication method",
        ));
    }
    let id = match (&creds.client_id, assertion) {
        (Some(id), _) => id.clone(),
        (None, Some(a)) => claimed_client(a)
            .ok_or_else(|| unauthenticated("the client assertion names no client"))?,
        (None, None) => return Err(unauthenticated("client authentication is required")),
    };
    if id.len() > 100 {
        return Err(unauthenticated("unknown client"));
    }
    let client = clients::find(state, &id)
        .await?
        .ok_or_else(|| unauthenticated("unknown client"))?;
    match client.auth_method {
        AuthMethod::ClientSecret => {
            let (Some(stored), Some(given)) = (&client.secret_hash, &creds.secret) else {
                return Err(unauthenticated(
                    "this client authenticates with its secret (client_secret_basic or client_secret_post)",
                ));
            };
            let given = tokens::hash(given);
            if subtle::ConstantTimeEq::ct_eq(stored.as_slice(), given.as_slice()).into() {
                Ok(client)
            } else {
                Err(unauthenticated("client authentication failed"))
            }
        }
        AuthMethod::PrivateKeyJwt => {
            let assertion = assertion
                .ok_or_else(|| unauthenticated("this client authenticates with private_key_jwt"))?;
            verify_assertion(state, &client, assertion).await?;
            Ok(client)
        }
        AuthMethod::None => {
            if creds.secret.is_some() || assertion.is_some() {
                Err(unauthenticated("a public client has no credentials"))
            } else {
                Ok(client)
            }
        }
    }
}

#[derive(Deserialize)]
struct AssertionClaims {
    exp: i64,
    aud: serde_json::Value,
    iat: Option<i64>,
    nbf: Option<i64>,
    jti: Option<String>,
}

fn replay_key(state: &Core, jti_hash: &[u8]) -> String {
    state
        .kv
        .key(&format!("oidc_assertion_jti:{}", tokens::hex(jti_hash)))
}

/// Accepts an assertion's jti once until `expires_at`: Redis first (a replay
/// it still remembers is refused at once), then PostgreSQL, which decides,
/// so a Redis flush or outage does not make an assertion replayable.
async fn accept_once(
    state: &Core,
    client: &ClientRow,
    jti: &str,
    ttl: i64,
) -> Result<bool, OAuthError> {
    let now = state.clock.now();
    let jti_hash = tokens::hash(&format!("{}\n{jti}", client.client_id));
    let ttl_secs = u64::try_from(ttl).unwrap_or(1).max(1);
    let cached: redis::RedisResult<Option<String>> = match state.kv.conn().await {
        Ok(mut kv) => {
            redis::cmd("SET")
                .arg(replay_key(state, &jti_hash))
                .arg(1)
                .arg("NX")
                .arg("EX")
                .arg(ttl_secs)
                .query_async(&mut kv)
                .await
        }
        Err(err) => Err(err),
    };
    match cached {
        Ok(None) => return Ok(false),
        Ok(Some(_)) => {}
        Err(err) => {
            tracing::warn!(error = %err, "assertion replay cache unavailable; asking the database");
        }
    }
    let mut conn = state.db.get().await.map_err(AppError::from)?;
    Ok(revocations::remember_assertion(
        &mut conn,
        &jti_hash,
        now + chrono::Duration::seconds(ttl.max(1)),
        now,
    )
    .await?)
}

/// An assertion lives at most ten minutes and is valid now (with some skew).
fn check_lifetime(claims: &AssertionClaims, now: i64) -> Result<(), OAuthError> {
    if claims.exp <= now {
        return Err(unauthenticated("the client assertion has expired"));
    }
    if claims.exp > now + MAX_ASSERTION_LIFETIME_SECS {
        return Err(unauthenticated(
            "the client assertion lives too long (at most 10 minutes)",
        ));
    }
    if claims.iat.is_some_and(|iat| iat > now + SKEW_SECS)
        || claims.nbf.is_some_and(|nbf| nbf > now + SKEW_SECS)
    {
        return Err(unauthenticated("the client assertion is not valid yet"));
    }
    Ok(())
}

async fn verify_assertion(
    state: &Core,
    client: &ClientRow,
    assertion: &str,
) -> Result<(), OAuthError> {
    if assertion.len() > 8 * 1024 {
        return Err(unauthenticated("the client assertion is too large"));
    }
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| unauthenticated("the client assertion is not a valid JWT"))?;
    if !ASSERTION_ALGS.contains(&header.alg) {
        return Err(unauthenticated(
            "the client assertion must be signed with an asymmetric algorithm",
        ));
    }
    if client.profile == ClientProfile::Fapi2 && !FAPI2_ALGS.contains(&header.alg) {
        return Err(unauthenticated(
            "FAPI 2.0: the client assertion must be signed with PS256, ES256 or EdDSA",
        ));
    }
    let set: JwkSet = client
        .jwks
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| unauthenticated("the client has no usable keys"))?;
    let mut validation = Validation::new(header.alg);
    validation.algorithms = vec![header.alg];
    validation.set_issuer(&[&client.client_id]);
    validation.sub = Some(client.client_id.clone());
    // The audience is checked below: our issuer identifier, as a string.
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    // Time is checked below against our clock (tests move it), not the system's.
    validation.validate_exp = false;
    validation.leeway = 0;
    let candidates = set
        .keys
        .iter()
        .filter(|k| match (&header.kid, &k.common.key_id) {
            (Some(wanted), Some(id)) => wanted == id,
            (Some(_), None) => false,
            (None, _) => true,
        });
    let mut claims = None;
    for jwk in candidates {
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        if let Ok(data) = jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &validation) {
            claims = Some(data.claims);
            break;
        }
    }
    let claims = claims
        .ok_or_else(|| unauthenticated("the client assertion's signature or claims are invalid"))?;
    // RFC 7523bis and FAPI 2.0: the audience is the issuer identifier alone,
    // so an assertion made for another server (or another endpoint) cannot
    // be replayed here.
    if claims.aud.as_str() != Some(state.settings.issuer().as_str()) {
        return Err(unauthenticated(
            "the client assertion's audience is invalid: it must be the issuer identifier",
        ));
    }
    let now = state.clock.now().timestamp();
    check_lifetime(&claims, now)?;
    let jti = claims
        .jti
        .filter(|j| (1..=256).contains(&j.len()))
        .ok_or_else(|| unauthenticated("the client assertion needs a jti"))?;
    // Remember the jti until the assertion expires (and a little longer): once only.
    if !accept_once(state, client, &jti, claims.exp - now + SKEW_SECS).await? {
        return Err(unauthenticated("the client assertion was already used"));
    }
    Ok(())
}
