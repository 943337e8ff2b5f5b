//! The grants of the token endpoint, one per file, and what they share:
//! minting the tokens of a person's grant, storing a refresh token, the
//! audit trail, the token response.

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::oidc::Provider;
use crate::{
    crypto::tokens,
    domain::{AccountId, oauth::refresh::REFRESH_TOKEN_TTL},
    identity::{ClientInfo, audit},
    oidc::{
        error::OAuthError,
        jwt::{self, ACCESS_TOKEN_TTL, AccessClaims, ID_TOKEN_TTL, IdClaims, acr_for},
        subject,
        token_context::{self, TokenContext},
    },
    storage::oidc::{self as store, ClientRow, RefreshTokenRow},
};

/// A successful token response.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// The access token (JWT).
    pub access_token: String,
    /// `DPoP` for a token bound to the client's key, else `Bearer`.
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

impl TokenResponse {
    /// A bearer response for `access_token` and the granted `scopes`.
    pub(crate) fn bearer(access_token: String, scopes: &[String]) -> Self {
        Self {
            access_token,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_TTL.num_seconds(),
            id_token: None,
            refresh_token: None,
            scope: scopes.join(" "),
        }
    }

    /// Says `DPoP` when the access token is bound to a key (RFC 9449 §5).
    pub(crate) fn bound(mut self, jkt: Option<&str>) -> Self {
        if jkt.is_some() {
            self.token_type = "DPoP";
        }
        self
    }
}

/// What a person-bound token is minted from.
pub(crate) struct PersonGrant<'a> {
    pub(crate) account: Uuid,
    pub(crate) scopes: &'a [String],
    pub(crate) auth_time: DateTime<Utc>,
    pub(crate) level: u8,
    pub(crate) amr: &'a [String],
    pub(crate) sid: &'a str,
    pub(crate) nonce: Option<&'a str>,
    pub(crate) acting_for: Option<Uuid>,
    /// The token's audience; the API's when `None`.
    pub(crate) audience: Option<String>,
    /// The DPoP key the access token is bound to.
    pub(crate) jkt: Option<&'a str>,
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
pub(crate) async fn mint(
    state: &Provider,
    client: &ClientRow,
    grant: &PersonGrant<'_>,
    with_id_token: bool,
) -> Result<(String, Option<String>), OAuthError> {
    let now = state.clock.now();
    let issuer = state.settings.issuer();
    let sub = subject::subject(state, client, grant.account).await?;
    let jti = tokens::generate();
    // No internal id in the token: the account and business are sealed for us alone.
    let context = TokenContext {
        account: grant.account,
        acting_for: grant.acting_for,
    };
    let ctx = token_context::seal(state, context, &jti).await?;
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
        cnf: jwt::Confirmation::of(grant.jkt),
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
    let alg = client.id_token_alg.into();
    let id_token = jwt::sign(state, alg, "JWT", &id_claims).await?;
    Ok((access_token, Some(id_token)))
}

/// Stores a new refresh token of `family` for `grant`, bound to the DPoP
/// key `dpop_jkt` if any, and returns it.
pub(crate) async fn new_refresh_token(
    conn: &mut AsyncPgConnection,
    family: Uuid,
    client: &ClientRow,
    grant: &PersonGrant<'_>,
    dpop_jkt: Option<&str>,
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
            dpop_jkt: dpop_jkt.map(str::to_owned),
        },
    )
    .await?;
    Ok(token)
}
