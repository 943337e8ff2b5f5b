//! The token endpoint (RFC 6749 §3.2, OpenID Connect Core §3.1.3): client
//! authentication, the grants (authorization_code with PKCE, refresh_token
//! with rotation and reuse detection, client_credentials), and the tokens.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::oidc::Provider;
use crate::{
    crypto::tokens,
    domain::AccountId,
    error::AppError,
    identity::{ClientInfo, audit},
    oidc::{
        audience,
        client_auth::is_confidential,
        flow, grant_guard,
        jwt::{self, ACCESS_TOKEN_TTL, AccessClaims, ID_TOKEN_TTL, IdClaims, acr_for},
        keys::Alg,
        subject,
        token_context::{self, TokenContext},
    },
    storage::{
        oidc::{self as store, ClientRow, RefreshTokenRow},
        revocations::{self, UsedCodeRow},
    },
};

/// How long a refresh token lives unused (each use issues a new one).
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);
/// A rotated refresh token presented again within this window (concurrent
/// requests of the same client) is honoured, and the successor issued before
/// is revoked (one live token per family); later, it revokes its family.
pub const REFRESH_REUSE_GRACE: Duration = Duration::seconds(10);
/// Scopes that concern a person, meaningless for client credentials.
const PERSON_SCOPES: [&str; 8] = [
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "national_id",
    "business",
    "offline_access",
];

/// An OAuth error answer (RFC 6749 §5.2).
#[derive(Debug)]
pub struct OAuthError {
    /// HTTP status (400, or 401 for client authentication).
    pub status: u16,
    /// The error code.
    pub error: &'static str,
    /// A description for developers.
    pub description: String,
}

impl OAuthError {
    /// An error with the status RFC 6749 gives it.
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status: if error == "invalid_client" { 401 } else { 400 },
            error,
            description: description.into(),
        }
    }
}

impl From<AppError> for OAuthError {
    fn from(err: AppError) -> Self {
        let status = err.kind().status().as_u16();
        Self {
            status: if status == 503 { 503 } else { 500 },
            error: if status == 503 {
                "temporarily_unavailable"
            } else {
                "server_error"
            },
            description: err.detail().to_owned(),
        }
    }
}

impl From<diesel::result::Error> for OAuthError {
    fn from(err: diesel::result::Error) -> Self {
        AppError::from(err).into()
    }
}

/// A successful token response.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// The access token (JWT).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The ID token (not for client credentials).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// A refresh token, when `offline_access` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Granted scopes.
    pub scope: String,
}

/// What a person-bound token is minted from.
struct Grant<'a> {
    account: Uuid,
    scopes: &'a [String],
    auth_time: DateTime<Utc>,
    level: u8,
    amr: &'a [String],
    sid: &'a str,
    nonce: Option<&'a str>,
    acting_for: Option<Uuid>,
    /// The token's audience; the API's when `None`.
    audience: Option<String>,
}

/// The level a refresh keeps asserting: the stored one, and never more
/// than the stored sign-in methods support (a family begun by a password
/// alone stays at level 1, whatever was stored for it).
fn refreshed_level(stored: i16, amr: &[String]) -> u8 {
    let methods = crate::domain::assurance::methods_from_amr(amr);
    crate::domain::assurance::session_level(u8::try_from(stored).unwrap_or(1), &methods)
}

/// The algorithm of a client's ID tokens (and logout tokens).
pub(crate) fn id_token_alg(client: &ClientRow) -> Alg {
    if client.id_token_alg == "ES256" {
        Alg::Es256
    } else {
        Alg::Rs256
    }
}

/// Records a token event in the account's audit trail (which its owner reads).
pub(crate) async fn audit_token(
    conn: &mut AsyncPgConnection,
    account: Uuid,
    kind: &str,
    client: &ClientRow,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), OAuthError> {
    let mut detail = detail;
    detail["client_id"] = json!(client.client_id);
    audit::record(
        conn,
        AccountId::from(account),
        kind,
        &ClientInfo::default(),
        detail,
        now,
    )
    .await?;
    Ok(())
}

/// An access token and, when `with_id_token`, an ID token. A refresh
/// answers without one (OpenID Connect Core §12.2): the sign-in it would
/// describe has not changed, and an RSA signature is most of a grant's cost.
async fn mint(
    state: &Provider,
    client: &ClientRow,
    grant: &Grant<'_>,
    with_id_token: bool,
) -> Result<(String, Option<String>), OAuthError> {
    let now = state.clock.now();
    let issuer = state.settings.issuer();
    let sub = subject::subject(state, client, grant.account).await?;
    let jti = tokens::generate();
    // No internal id in the token: the account and business are sealed for us alone.
    let ctx = token_context::seal(
        state,
        TokenContext {
            account: grant.account,
            acting_for: grant.acting_for,
        },
        &jti,
    )
    .await?;
    let access = AccessClaims {
        iss: issuer.clone(),
        sub: sub.clone(),
        aud: grant
            .audience
            .clone()
            .unwrap_or_else(|| jwt::api_audience(state)),
        client_id: client.client_id.clone(),
        scope: grant.scopes.join(" "),
        acr: acr_for(grant.level).to_owned(),
        auth_time: Some(grant.auth_time.timestamp()),
        amr: Some(grant.amr.to_vec()),
        ctx: Some(ctx),
        account_id: None,
        acting_for: None,
        jti,
        iat: now.timestamp(),
        exp: (now + ACCESS_TOKEN_TTL).timestamp(),
    };
    let access_token = jwt::sign(state, jwt::ACCESS_TOKEN_ALG, "at+jwt", &access).await?;
    if !with_id_token {
        return Ok((access_token, None));
    }
    let id_claims = IdClaims {
        iss: &issuer,
        sub: &sub,
        aud: &client.client_id,
        iat: now.timestamp(),
        exp: (now + ID_TOKEN_TTL).timestamp(),
        auth_time: grant.auth_time.timestamp(),
        nonce: grant.nonce,
        acr: acr_for(grant.level),
        amr: grant.amr,
        sid: grant.sid,
        at_hash: jwt::at_hash(&access_token),
    };
    let id_token = jwt::sign(state, id_token_alg(client), "JWT", &id_claims).await?;
    Ok((access_token, Some(id_token)))
}

async fn new_refresh_token(
    conn: &mut diesel_async::AsyncPgConnection,
    family: Uuid,
    client: &ClientRow,
    grant: &Grant<'_>,
    now: DateTime<Utc>,
) -> Result<String, OAuthError> {
    let token = tokens::generate();
    store::insert_refresh(
        conn,
        &RefreshTokenRow {
            id: Uuid::now_v7(),
            family_id: family,
            token_hash: tokens::hash(&token),
            client_id: client.client_id.clone(),
            account_id: grant.account,
            scopes: grant.scopes.to_vec(),
            auth_time: grant.auth_time,
            level: i16::from(grant.level),
            amr: grant.amr.to_vec(),
            sid: grant.sid.to_owned(),
            created_at: now,
            expires_at: now + REFRESH_TOKEN_TTL,
            used_at: None,
            revoked_at: None,
            acting_for: grant.acting_for,
        },
    )
    .await?;
    Ok(token)
}

/// Exchanges an authorization code. A code presented again revokes the
/// refresh tokens and the access token issued from it.
pub async fn authorization_code(
    state: &Provider,
    client: &ClientRow,
    code: Option<&str>,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    resource: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let code = code.ok_or_else(|| OAuthError::new("invalid_request", "code is required"))?;
    let Some(grant) = flow::take_code(state, code).await? else {
        grant_guard::revoke_replayed_code(state, client, code).await?;
        return Err(OAuthError::new(
            "invalid_grant",
            "the code is invalid, expired or already used",
        ));
    };
    if grant.client_id != client.client_id {
        return Err(OAuthError::new(
            "invalid_grant",
            "the code was issued to another client",
        ));
    }
    if redirect_uri != Some(grant.redirect_uri.as_str()) {
        return Err(OAuthError::new(
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        ));
    }
    let verifier = code_verifier
        .ok_or_else(|| OAuthError::new("invalid_request", "code_verifier is required (PKCE)"))?;
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if !tokens::equal(&challenge, &grant.code_challenge) {
        return Err(OAuthError::new(
            "invalid_grant",
            "code_verifier does not match the code_challenge",
        ));
    }
    let minting = Grant {
        account: grant.account_id,
        scopes: &grant.scopes,
        auth_time: grant.auth_time,
        level: grant.level,
        amr: &grant.amr,
        sid: &grant.sid,
        nonce: grant.nonce.as_deref(),
        acting_for: grant.acting_for,
        audience: Some(audience::for_code(state, grant.resource.as_deref(), resource).await?),
    };
    let (access_token, id_token) = mint(state, client, &minting, true).await?;
    let (jti, exp) = grant_guard::issued_jti(&access_token)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("minted access token unreadable")))?;
    let now = state.clock.now();
    let family = Uuid::now_v7();
    let offline = grant.scopes.iter().any(|s| s == "offline_access");
    let mut conn = state.db.get().await.map_err(AppError::from)?;
    let refresh_token = conn
        .transaction::<_, OAuthError, _>(async |c| {
            let refresh = if offline {
                Some(new_refresh_token(c, family, client, &minting, now).await?)
            } else {
                None
            };
            if client.backchannel_logout_uri.is_some() {
                store::record_session_client(
                    c,
                    &grant.sid,
                    &client.client_id,
                    grant.account_id,
                    now,
                )
                .await?;
            }
            revocations::record_used_code(
                c,
                &UsedCodeRow {
                    code_hash: tokens::hash(code),
                    family_id: family,
                    account_id: grant.account_id,
                    access_jti_hash: tokens::hash(&jti),
                    access_expires_at: DateTime::from_timestamp(exp, 0).unwrap_or(now),
                    expires_at: now + grant_guard::CODE_REPLAY_MEMORY,
                },
            )
            .await?;
            audit_token(
                c,
                grant.account_id,
                "oidc_tokens_issued",
                client,
                json!({ "scopes": grant.scopes, "refresh_token": offline }),
                now,
            )
            .await?;
            Ok(refresh)
        })
        .await?;
    drop(conn);
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL.num_seconds(),
        id_token,
        refresh_token,
        scope: grant.scopes.join(" "),
    })
}

/// Exchanges a refresh token for new tokens and a new refresh token (rotation).
pub async fn refresh(
    state: &Provider,
    client: &ClientRow,
    token: Option<&str>,
    scope: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let token =
        token.ok_or_else(|| OAuthError::new("invalid_request", "refresh_token is required"))?;
    let now = state.clock.now();
    let hash = tokens::hash(token);
    let mut conn = state.db.get().await.map_err(AppError::from)?;
    let outcome = conn
        .transaction::<_, OAuthError, _>(async |c| {
            // The family's lock first, then the token's row: concurrent
            // refreshes of one family (of the same token or of several) run
            // one after the other, so the family never grows two live branches.
            let Some(family) = store::refresh_by_hash(c, &hash).await?.map(|r| r.family_id) else {
                return Ok(Err(OAuthError::new(
                    "invalid_grant",
                    "unknown refresh token",
                )));
            };
            store::lock_family(c, family).await?;
            let Some(row) = store::refresh_for_update(c, &hash).await? else {
                return Ok(Err(OAuthError::new(
                    "invalid_grant",
                    "unknown refresh token",
                )));
            };
            if row.client_id != client.client_id {
                return Ok(Err(OAuthError::new(
                    "invalid_grant",
                    "the refresh token was issued to another client",
                )));
            }
            if row.revoked_at.is_some() || row.expires_at <= now {
                return Ok(Err(OAuthError::new(
                    "invalid_grant",
                    "the refresh token is revoked or expired",
                )));
            }
            if let Some(used) = row.used_at
                && now - used > REFRESH_REUSE_GRACE
            {
                // A rotated token came back: someone else holds a copy. End the family.
                store::revoke_family(c, row.family_id, now).await?;
                audit_token(
                    c,
                    row.account_id,
                    "oidc_refresh_reuse_detected",
                    client,
                    json!({}),
                    now,
                )
                .await?;
                return Ok(Err(OAuthError::new(
                    "invalid_grant",
                    "refresh token reuse detected; the grant is revoked",
                )));
            }
            if let Some(why) = grant_guard::holder_refusal(c, &row).await? {
                // Access must end: the person may no longer use the account,
                // or the grant began before the password changed.
                store::revoke_family(c, row.family_id, now).await?;
                audit_token(
                    c,
                    row.account_id,
                    "oidc_refresh_refused",
                    client,
                    json!({ "reason": why }),
                    now,
                )
                .await?;
                return Ok(Err(OAuthError::new(
                    "invalid_grant",
                    "the grant has ended; sign in again",
                )));
            }
            let scopes: Vec<String> = match scope {
                None => row.scopes.clone(),
                Some(requested) => {
                    let requested: Vec<String> =
                        requested.split_whitespace().map(str::to_owned).collect();
                    if let Some(extra) = requested.iter().find(|s| !row.scopes.contains(s)) {
                        return Ok(Err(OAuthError::new(
                            "invalid_scope",
                            format!("scope {extra} was not granted"),
                        )));
                    }
                    requested
                }
            };
            if row.used_at.is_none() {
                store::mark_refresh_used(c, row.id, now).await?;
            } else {
                // A repeat within the grace window: its earlier successor
                // ends, the new one is the family's only live token.
                store::revoke_live_successors(c, row.family_id, row.id, now).await?;
            }
            let grant = Grant {
                account: row.account_id,
                scopes: &scopes,
                auth_time: row.auth_time,
                level: refreshed_level(row.level, &row.amr),
                amr: &row.amr,
                sid: &row.sid,
                nonce: None,
                acting_for: row.acting_for,
                audience: None,
            };
            let successor = new_refresh_token(c, row.family_id, client, &grant, now).await?;
            audit_token(
                c,
                row.account_id,
                "oidc_tokens_refreshed",
                client,
                json!({ "scopes": scopes }),
                now,
            )
            .await?;
            Ok(Ok((row, scopes, successor)))
        })
        .await?;
    // Give the connection back before signing: concurrent refreshes of one
    // family wait for its lock holding theirs, and minting may need one.
    drop(conn);
    let (row, scopes, successor) = outcome?;
    let grant = Grant {
        account: row.account_id,
        scopes: &scopes,
        auth_time: row.auth_time,
        level: refreshed_level(row.level, &row.amr),
        amr: &row.amr,
        sid: &row.sid,
        nonce: None,
        acting_for: row.acting_for,
        audience: None,
    };
    let (access_token, _) = mint(state, client, &grant, false).await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL.num_seconds(),
        id_token: None,
        refresh_token: Some(successor),
        scope: scopes.join(" "),
    })
}

/// Issues a system-to-system access token (no person) to a confidential client.
pub async fn client_credentials(
    state: &Provider,
    client: &ClientRow,
    scope: Option<&str>,
    resource: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    if !is_confidential(client) {
        return Err(OAuthError::new(
            "unauthorized_client",
            "public clients cannot use client_credentials",
        ));
    }
    let allowed: Vec<&String> = client
        .scopes
        .iter()
        .filter(|s| {
            !PERSON_SCOPES.contains(&s.as_str()) && *s != "vault" && !s.starts_with("vault:")
        })
        .collect();
    let scopes: Vec<String> = match scope {
        None => allowed.iter().map(|s| (*s).clone()).collect(),
        Some(requested) => {
            let requested: Vec<String> = requested.split_whitespace().map(str::to_owned).collect();
            if let Some(bad) = requested.iter().find(|s| !allowed.contains(s)) {
                return Err(OAuthError::new(
                    "invalid_scope",
                    format!("scope {bad} is not available to client credentials"),
                ));
            }
            requested
        }
    };
    let aud = audience::resolve(state, resource).await?.ok_or_else(|| {
        audience::invalid_target("no resource server is registered for this resource")
    })?;
    let now = state.clock.now();
    let claims = AccessClaims {
        iss: state.settings.issuer(),
        sub: client.client_id.clone(),
        aud,
        client_id: client.client_id.clone(),
        scope: scopes.join(" "),
        acr: "urn:vn:hcm:eservices:client".into(),
        auth_time: None,
        amr: None,
        ctx: None,
        account_id: None,
        acting_for: None,
        jti: tokens::generate(),
        iat: now.timestamp(),
        exp: (now + ACCESS_TOKEN_TTL).timestamp(),
    };
    Ok(TokenResponse {
        access_token: jwt::sign(state, jwt::ACCESS_TOKEN_ALG, "at+jwt", &claims).await?,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL.num_seconds(),
        id_token: None,
        refresh_token: None,
        scope: scopes.join(" "),
    })
}
