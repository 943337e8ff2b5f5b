//! The refresh_token grant (RFC 6749 §6) with rotation and reuse detection:
//! each use issues a successor; a rotated token presented again after a
//! short grace window ends its family; a holder who may no longer sign in
//! (account disabled, password changed) ends it too. The checks themselves
//! are [`crate::domain::oauth::refresh`].

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;

use super::{PersonGrant, TokenResponse, audit_token, mint, new_refresh_token};
use crate::domain::oauth::ClientProfile;
use crate::oidc::Provider;
use crate::{
    crypto::tokens,
    domain::oauth::refresh::{self, RefreshRefusal, RefreshUse, StoredRefresh},
    error::AppError,
    oidc::{error::OAuthError, grant_guard},
    storage::oidc::{self as store, ClientRow, RefreshTokenRow},
};

/// The level a refresh keeps asserting: the stored one, and never more
/// than the stored sign-in methods support (a family begun by a password
/// alone stays at level 1, whatever was stored for it).
fn refreshed_level(stored: i16, amr: &[String]) -> u8 {
    let methods = crate::domain::assurance::methods_from_amr(amr);
    crate::domain::assurance::session_level(u8::try_from(stored).unwrap_or(1), &methods)
}

fn person_grant<'a>(
    row: &'a RefreshTokenRow,
    scopes: &'a [String],
    jkt: Option<&'a str>,
) -> PersonGrant<'a> {
    PersonGrant {
        account: row.account_id,
        scopes,
        auth_time: row.auth_time,
        level: refreshed_level(row.level, &row.amr),
        amr: &row.amr,
        sid: &row.sid,
        nonce: None,
        acting_for: row.acting_for,
        audience: None,
        jkt,
    }
}

fn unknown() -> OAuthError {
    OAuthError::new("invalid_grant", "unknown refresh token")
}

fn refused(why: RefreshRefusal) -> OAuthError {
    OAuthError::new(
        "invalid_grant",
        match why {
            RefreshRefusal::OtherClient => "the refresh token was issued to another client",
            RefreshRefusal::RevokedOrExpired => "the refresh token is revoked or expired",
            RefreshRefusal::Reused => "refresh token reuse detected; the grant is revoked",
        },
    )
}

/// Ends the token's family and says why in the account's audit trail.
async fn end_family(
    c: &mut AsyncPgConnection,
    row: &RefreshTokenRow,
    client: &ClientRow,
    kind: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), OAuthError> {
    store::revoke_family(c, row.family_id, now).await?;
    audit_token(c, row.account_id, kind, client, detail, now).await
}

/// What a successful refresh yields: the used row, the scopes, the
/// successor (`None`: the presented token stays, for FAPI 2.0 clients).
type Rotated = (RefreshTokenRow, Vec<String>, Option<String>);

/// Checks and rotates the token with hash `hash`. A refusal is `Ok(Err)`:
/// what it revoked is committed.
async fn rotate(
    c: &mut AsyncPgConnection,
    client: &ClientRow,
    hash: &[u8],
    scope: Option<&str>,
    jkt: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Result<Rotated, OAuthError>, OAuthError> {
    // The family's lock first, then the token's row: concurrent refreshes
    // of one family (of the same token or of several) run one after the
    // other, so the family never grows two live branches.
    let Some(family) = store::refresh_by_hash(c, hash).await?.map(|r| r.family_id) else {
        return Ok(Err(unknown()));
    };
    store::lock_family(c, family).await?;
    let Some(row) = store::refresh_for_update(c, hash).await? else {
        return Ok(Err(unknown()));
    };
    let stored = StoredRefresh {
        client_id: &row.client_id,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        used_at: row.used_at,
    };
    let use_kind = match refresh::check(&stored, &client.client_id, now) {
        Ok(kind) => kind,
        Err(why) => {
            if why.revokes_family() {
                // A rotated token came back: someone else holds a copy.
                end_family(
                    c,
                    &row,
                    client,
                    "oidc_refresh_reuse_detected",
                    json!({}),
                    now,
                )
                .await?;
            }
            return Ok(Err(refused(why)));
        }
    };
    if let Some(refusal) = holder_may_not(c, &row, client, jkt, now).await? {
        return Ok(Err(refusal));
    }
    let scopes = match refresh::narrow_scopes(&row.scopes, scope) {
        Ok(scopes) => scopes,
        Err(extra) => {
            let description = format!("scope {extra} was not granted");
            return Ok(Err(OAuthError::new("invalid_scope", description)));
        }
    };
    // FAPI 2.0 SP §5.3.2.1: no rotation; the token is bound to the
    // client's authentication (and its access tokens to its DPoP key).
    let rotates = client.profile != ClientProfile::Fapi2;
    let successor = if rotates {
        Some(successor(c, &row, client, &scopes, use_kind, jkt, now).await?)
    } else {
        None
    };
    let detail = json!({ "scopes": scopes, "rotated": rotates });
    audit_token(
        c,
        row.account_id,
        "oidc_tokens_refreshed",
        client,
        detail,
        now,
    )
    .await?;
    Ok(Ok((row, scopes, successor)))
}

/// Why the presenter of a valid `row` may not refresh, if so: no proof of
/// the DPoP key the token is bound to (a stolen copy is useless without
/// the key, RFC 9449 §5), or a holder who may no longer sign in (their
/// family ends).
async fn holder_may_not(
    c: &mut AsyncPgConnection,
    row: &RefreshTokenRow,
    client: &ClientRow,
    jkt: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<OAuthError>, OAuthError> {
    if let Err(refusal) = crate::oidc::dpop::require_key(row.dpop_jkt.as_deref(), jkt) {
        return Ok(Some(refusal));
    }
    let Some(why) = grant_guard::holder_refusal(c, row).await? else {
        return Ok(None);
    };
    // Access must end: the person may no longer use the account, or the
    // grant began before the password changed.
    let detail = json!({ "reason": why });
    end_family(c, row, client, "oidc_refresh_refused", detail, now).await?;
    Ok(Some(OAuthError::new(
        "invalid_grant",
        "the grant has ended; sign in again",
    )))
}

/// Marks `row` used (or, for a repeat in the grace window, ends its earlier
/// successor) and issues the family's next token, bound as `row` was.
async fn successor(
    c: &mut AsyncPgConnection,
    row: &RefreshTokenRow,
    client: &ClientRow,
    scopes: &[String],
    use_kind: RefreshUse,
    jkt: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String, OAuthError> {
    match use_kind {
        RefreshUse::First => store::mark_refresh_used(c, row.id, now).await?,
        // A repeat within the grace window: its earlier successor ends,
        // the new one is the family's only live token.
        RefreshUse::Repeat => {
            store::revoke_live_successors(c, row.family_id, row.id, now).await?;
        }
    }
    let grant = person_grant(row, scopes, jkt);
    new_refresh_token(
        c,
        row.family_id,
        client,
        &grant,
        row.dpop_jkt.as_deref(),
        now,
    )
    .await
}

/// Exchanges a refresh token for new tokens and a new refresh token (rotation).
pub async fn exchange(
    state: &Provider,
    client: &ClientRow,
    token: Option<&str>,
    scope: Option<&str>,
    jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let token =
        token.ok_or_else(|| OAuthError::new("invalid_request", "refresh_token is required"))?;
    let now = state.clock.now();
    let hash = tokens::hash(token);
    let mut conn = state.db.get().await.map_err(AppError::from)?;
    let outcome = conn
        .transaction::<_, OAuthError, _>(async |c| rotate(c, client, &hash, scope, jkt, now).await)
        .await?;
    // Give the connection back before signing: concurrent refreshes of one
    // family wait for its lock holding theirs, and minting may need one.
    drop(conn);
    let (row, scopes, successor) = outcome?;
    let (access_token, _) = mint(state, client, &person_grant(&row, &scopes, jkt), false).await?;
    Ok(TokenResponse {
        refresh_token: Some(successor.unwrap_or_else(|| token.to_owned())),
        ..TokenResponse::bearer(access_token, &scopes).bound(jkt)
    })
}
