//! The authorization_code grant (RFC 6749 §4.1.3, RFC 7636): a single-use
//! code, bound to its client and redirect URI, answered with PKCE. A code
//! presented again revokes the refresh tokens and the access token issued
//! from it.

use chrono::DateTime;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;
use uuid::Uuid;

use super::{PersonGrant, TokenResponse, audit_token, mint, new_refresh_token};
use crate::oidc::Provider;
use crate::{
    crypto::tokens,
    domain::oauth::{
        code::{self, CodeRefusal, IssuedCode},
        pkce,
    },
    error::AppError,
    oidc::{audience, error::OAuthError, flow::CodeGrant, grant_guard},
    storage::{
        oidc::{self as store, ClientRow},
        revocations::{self, UsedCodeRow},
    },
};

/// The parameters of the grant.
#[derive(Debug, Clone, Copy, Default)]
pub struct CodeRequest<'a> {
    /// `code`.
    pub code: Option<&'a str>,
    /// `redirect_uri`.
    pub redirect_uri: Option<&'a str>,
    /// `code_verifier` (PKCE).
    pub code_verifier: Option<&'a str>,
    /// `resource` (RFC 8707).
    pub resource: Option<&'a str>,
    /// The DPoP key the request proved it holds, if any.
    pub jkt: Option<&'a str>,
}

fn refused(why: CodeRefusal) -> OAuthError {
    OAuthError::new(
        "invalid_grant",
        match why {
            CodeRefusal::Expired => "the code is invalid, expired or already used",
            CodeRefusal::OtherClient => "the code was issued to another client",
            CodeRefusal::RedirectMismatch => {
                "redirect_uri does not match the authorization request"
            }
        },
    )
}

/// Checks the code's binding and PKCE answer.
fn check(
    grant: &CodeGrant,
    client: &ClientRow,
    req: &CodeRequest<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), OAuthError> {
    let issued = IssuedCode {
        client_id: &grant.client_id,
        redirect_uri: &grant.redirect_uri,
        issued_at: grant.issued_at,
    };
    code::check(&issued, &client.client_id, req.redirect_uri, now).map_err(refused)?;
    if grant.code_challenge.is_empty() {
        // A request without PKCE (an exempted client): a verifier now would
        // be a downgrade attempt (RFC 9700 §4.8.2).
        return match req.code_verifier {
            None => Ok(()),
            Some(_) => Err(OAuthError::new(
                "invalid_grant",
                "code_verifier sent for a request without code_challenge",
            )),
        };
    }
    let verifier = req
        .code_verifier
        .ok_or_else(|| OAuthError::new("invalid_request", "code_verifier is required (PKCE)"))?;
    if !pkce::verify(&grant.code_challenge, verifier) {
        return Err(OAuthError::new(
            "invalid_grant",
            "code_verifier does not match the code_challenge",
        ));
    }
    Ok(())
}

/// Exchanges an authorization code.
pub async fn exchange(
    state: &Provider,
    client: &ClientRow,
    req: CodeRequest<'_>,
) -> Result<TokenResponse, OAuthError> {
    let code = req
        .code
        .ok_or_else(|| OAuthError::new("invalid_request", "code is required"))?;
    let Some(grant) = crate::oidc::flow::take_code(state, code).await? else {
        grant_guard::revoke_replayed_code(state, client, code).await?;
        return Err(refused(CodeRefusal::Expired));
    };
    check(&grant, client, &req, state.clock.now())?;
    // A code bound to a key at the authorization request (`dpop_jkt`, RFC 9449 §10).
    crate::oidc::dpop::require_key(grant.dpop_jkt.as_deref(), req.jkt)?;
    let minting = PersonGrant {
        account: grant.account_id,
        scopes: &grant.scopes,
        auth_time: grant.auth_time,
        level: grant.level,
        amr: &grant.amr,
        sid: &grant.sid,
        nonce: grant.nonce.as_deref(),
        acting_for: grant.acting_for,
        audience: Some(audience::for_code(state, grant.resource.as_deref(), req.resource).await?),
        jkt: req.jkt,
    };
    let (access_token, id_token) = mint(state, client, &minting, true).await?;
    let mut conn = state.db.get().await.map_err(AppError::from)?;
    let refresh_token = conn
        .transaction::<_, OAuthError, _>(async |c| {
            record(state, c, client, code, &grant, &minting, &access_token).await
        })
        .await?;
    drop(conn);
    Ok(TokenResponse {
        id_token,
        refresh_token,
        ..TokenResponse::bearer(access_token, &grant.scopes).bound(req.jkt)
    })
}

/// What an exchange leaves behind, in one transaction: the refresh token
/// (with `offline_access`), the session's client (for back-channel logout),
/// the used code (so that its replay revokes what it issued), the audit.
async fn record(
    state: &Provider,
    c: &mut AsyncPgConnection,
    client: &ClientRow,
    code: &str,
    grant: &CodeGrant,
    minting: &PersonGrant<'_>,
    access_token: &str,
) -> Result<Option<String>, OAuthError> {
    let (jti, exp) = grant_guard::issued_jti(access_token)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("minted access token unreadable")))?;
    let now = state.clock.now();
    let family = Uuid::now_v7();
    let offline = grant.scopes.iter().any(|s| s == "offline_access");
    // A public client's refresh token is bound to its DPoP key (RFC 9449 §5);
    // a confidential client's is bound by its authentication.
    let binding = minting
        .jkt
        .filter(|_| !client.auth_method.is_confidential());
    let refresh = if offline {
        Some(new_refresh_token(c, family, client, minting, binding, now).await?)
    } else {
        None
    };
    if client.backchannel_logout_uri.is_some() {
        store::record_session_client(c, &grant.sid, &client.client_id, grant.account_id, now)
            .await?;
    }
    let used = UsedCodeRow {
        code_hash: tokens::hash(code),
        family_id: family,
        account_id: grant.account_id,
        access_jti_hash: tokens::hash(&jti),
        access_expires_at: DateTime::from_timestamp(exp, 0).unwrap_or(now),
        expires_at: now + grant_guard::CODE_REPLAY_MEMORY,
    };
    revocations::record_used_code(c, &used).await?;
    let detail = json!({ "scopes": grant.scopes, "refresh_token": offline });
    audit_token(
        c,
        grant.account_id,
        "oidc_tokens_issued",
        client,
        detail,
        now,
    )
    .await?;
    Ok(refresh)
}
