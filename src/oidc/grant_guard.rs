//! Guards of the token endpoint's grants: what a replayed authorization code
//! revokes (from its durable record), and who may no longer refresh.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Duration;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;

use crate::infra::Core;
use crate::{
    crypto::tokens,
    error::AppError,
    oidc::{
        jwt,
        token::{OAuthError, audit_token},
    },
    storage::{
        oidc::{self as store, ClientRow, RefreshTokenRow},
        revocations,
    },
};

/// How long an exchanged code is remembered, so that its replay revokes
/// what it issued (codes themselves live a minute).
pub(crate) const CODE_REPLAY_MEMORY: Duration = Duration::minutes(10);

/// The jti and expiry of an access token this process has just signed.
pub(crate) fn issued_jti(access_token: &str) -> Option<(String, i64)> {
    #[derive(serde::Deserialize)]
    struct Issued {
        jti: String,
        exp: i64,
    }
    let payload = access_token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let issued: Issued = serde_json::from_slice(&bytes).ok()?;
    Some((issued.jti, issued.exp))
}

/// A code that is not (or no longer) redeemable came back: if it was
/// exchanged, revoke its refresh-token family and the access token it issued.
/// The record is in PostgreSQL, so this works after a Redis flush too.
pub(crate) async fn revoke_replayed_code(
    state: &Core,
    client: &ClientRow,
    code: &str,
) -> Result<(), OAuthError> {
    if !tokens::well_formed(code) {
        return Ok(());
    }
    let now = state.clock.now();
    let mut conn = state.db.get().await.map_err(AppError::from)?;
    let Some(used) = revocations::used_code(&mut conn, &tokens::hash(code), now).await? else {
        return Ok(());
    };
    conn.transaction::<_, OAuthError, _>(async |c| {
        store::revoke_family(c, used.family_id, now).await?;
        revocations::revoke_access_token(c, &used.access_jti_hash, used.access_expires_at).await?;
        audit_token(
            c,
            used.account_id,
            "oidc_code_replayed",
            client,
            json!({}),
            now,
        )
        .await
    })
    .await?;
    drop(conn);
    let ttl = u64::try_from((used.access_expires_at - now).num_seconds()).unwrap_or(0);
    if ttl > 0 {
        jwt::cache_revocation(state, &used.access_jti_hash, ttl).await;
    }
    tracing::warn!(client_id = %client.client_id, "authorization code replayed; its tokens are revoked");
    Ok(())
}

/// Why the holder of a refresh token may no longer refresh, if so: the
/// account is not active (pending or disabled), or its password changed
/// after the family began. A family begins with its first token (the code
/// exchange), not at `auth_time`: a password change keeps the session it
/// was made in, and grants that session gives afterwards are legitimate.
pub(crate) async fn holder_refusal(
    conn: &mut AsyncPgConnection,
    row: &RefreshTokenRow,
) -> Result<Option<&'static str>, OAuthError> {
    let account = crate::storage::accounts::find(conn, row.account_id).await?;
    if account.status != "active" {
        return Ok(Some("account_not_active"));
    }
    let started = store::family_started_at(conn, row.family_id)
        .await?
        .unwrap_or(row.created_at);
    if account
        .password_changed_at
        .is_some_and(|changed| changed > started)
    {
        return Ok(Some("password_changed"));
    }
    Ok(None)
}
