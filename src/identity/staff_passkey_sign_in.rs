//! The back office's passkey step: a right password with no code typed, for
//! a civil servant who has passkeys, opens a *pending staff sign-in* (kept
//! like a citizen's, `identity::second_step::Pending`; its own cookie) that
//! only one of their own passkeys turns into a session (`pwd` + `hwk`/`swk`).
//!
//! The challenge is bound to the pending sign-in's secret. A credential of
//! anyone else (a citizen, another civil servant) is refused before the
//! ceremony, so it charges nobody else's throttle; every failure counts
//! with the civil servant's password failures and the client address's.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use webauthn_rs::prelude::PublicKeyCredential;

use crate::identity::Identity;
use crate::infra::Core;
use crate::{
    domain::{assurance::Method, staff_event::StaffEvent},
    error::{AppError, AppResult},
    identity::{
        ClientInfo,
        passkeys::{self, ceremony},
        second_step,
        staff::open_session,
        staff_events::{self, Doer, Entry},
        throttle,
    },
    storage::{
        passkeys::{self as store, Owner},
        staff::{self, StaffRow},
    },
};

/// A right password waiting for its passkey.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingStaffSignIn {
    /// The civil servant.
    pub staff_id: Uuid,
    /// When the password was checked.
    pub created_at: DateTime<Utc>,
}

impl second_step::Pending for PendingStaffSignIn {
    const KIND: &'static str = "staff_signin_pending";
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// 400: the pending sign-in is gone (used, expired, or never there).
pub fn expired() -> AppError {
    AppError::bad_request("sign_in_expired")
        .with_detail("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.")
}

/// Opens a pending sign-in for `row`; returns its cookie token.
pub async fn begin(state: &Core, row: &StaffRow) -> AppResult<String> {
    let pending = PendingStaffSignIn {
        staff_id: row.id,
        created_at: state.clock.now(),
    };
    second_step::begin(state, &pending).await
}

/// The pending sign-in of a cookie token, if still open.
pub async fn pending(state: &Core, token: &str) -> AppResult<Option<PendingStaffSignIn>> {
    second_step::pending(state, token).await
}

/// Closes a pending sign-in (once: a second use finds nothing).
async fn take(state: &Core, token: &str) -> AppResult<Option<PendingStaffSignIn>> {
    second_step::finish(state, token).await
}

/// The request options for the pending sign-in of `token`: only the civil
/// servant's own passkeys may answer.
pub async fn start(state: &Identity, token: &str) -> AppResult<(String, serde_json::Value)> {
    let pending = pending(state, token).await?.ok_or_else(expired)?;
    ceremony::start_authentication(state, Some(Owner::Staff(pending.staff_id)), token).await
}

fn subject(row: &StaffRow) -> String {
    format!("staff:{}", row.username.to_lowercase())
}

fn doer<'a>(row: &'a StaffRow, client: &ClientInfo) -> Doer<'a> {
    Doer {
        staff_id: row.id,
        agency_code: &row.agency_code,
        client: client.clone(),
    }
}

/// Who owns the credential an assertion names, if anyone.
async fn owner_of(state: &Core, credential: &serde_json::Value) -> AppResult<Option<Owner>> {
    let Ok(parsed) = serde_json::from_value::<PublicKeyCredential>(credential.clone()) else {
        return Ok(None);
    };
    let mut conn = state.db.get().await?;
    match store::find_by_credential(&mut conn, parsed.get_credential_id()).await? {
        Some(row) => Ok(store::owner_of(&mut conn, row.user_handle).await?),
        None => Ok(None),
    }
}

/// Completes the pending sign-in of `token` with an assertion; returns the
/// new back-office session's token.
pub async fn finish(
    state: &Identity,
    token: &str,
    challenge_id: &str,
    credential: &serde_json::Value,
    client: &ClientInfo,
) -> AppResult<String> {
    let pending = pending(state, token).await?.ok_or_else(expired)?;
    let mut conn = state.db.get().await?;
    let row = staff::find(&mut conn, pending.staff_id).await?;
    drop(conn);
    if row.status != "active" {
        take(state, token).await?;
        return Err(expired());
    }
    let ip = client.ip.clone().unwrap_or_else(|| "-".into());
    if let Some(wait) = state
        .throttle
        .locked_for_any(&[
            (&throttle::SIGN_IN_ACCOUNT, &subject(&row)),
            (&throttle::SIGN_IN_IP, &ip),
        ])
        .await?
    {
        return Err(throttle::sign_in_locked(wait));
    }
    passkeys::check_sizes(credential, false)?;
    if owner_of(state, credential).await? != Some(Owner::Staff(row.id)) {
        // The challenge is spent all the same: one guess per challenge.
        let _ = passkeys::take_pending(state, challenge_id, token).await;
        state
            .throttle
            .fail(&throttle::SIGN_IN_ACCOUNT, &subject(&row))
            .await?;
        state.throttle.fail(&throttle::SIGN_IN_IP, &ip).await?;
        return Err(refused(state, &row, client, "not this civil servant's passkey").await);
    }
    let asserted =
        match ceremony::finish_authentication(state, token, challenge_id, credential, client).await
        {
            Ok(a) => a,
            Err(err) => {
                if err.kind() == crate::error::ErrorKind::Unauthorized {
                    staff_events::record_now(
                        state,
                        &doer(&row, client),
                        Entry::plain(StaffEvent::SignInFailed),
                    )
                    .await?;
                }
                return Err(err);
            }
        };
    if !asserted.confirmed || asserted.owner != Owner::Staff(row.id) {
        return Err(refused(
            state,
            &row,
            client,
            "not a confirmation of this civil servant",
        )
        .await);
    }
    take(state, token).await?.ok_or_else(expired)?;
    open_session(state, &row, client, &[Method::Pwd, asserted.method]).await
}

/// Records the failure in the agency's trail and refuses (401).
async fn refused(state: &Core, row: &StaffRow, client: &ClientInfo, why: &str) -> AppError {
    if let Err(e) = staff_events::record_now(
        state,
        &doer(row, client),
        Entry::plain(StaffEvent::SignInFailed),
    )
    .await
    {
        return e;
    }
    passkeys::invalid_assertion(why)
}
