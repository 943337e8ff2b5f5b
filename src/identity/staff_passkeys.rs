//! Civil servants' passkeys: registering and removing their own (after a
//! sign-in in the last ten minutes), the agency's policy that requires them,
//! and what that policy does to a sign-in and to a session.
//!
//! With the policy on, a civil servant who has a passkey signs in only with
//! it (password + passkey); one without a passkey yet may sign in with TOTP,
//! but may then only register one (`enrolment_required`). Every addition,
//! removal and change of policy is in the agency's audit trail.

use diesel_async::AsyncConnection;
use serde_json::json;
use uuid::Uuid;

use crate::{
    domain::{assurance::RECENT_STRONG, staff::StaffRole, staff_event::StaffEvent},
    error::{AppError, AppResult},
    identity::{
        passkeys::{ceremony, clean_name, manage::PasskeyView},
        staff::StaffSession,
        staff_events::{self, Entry},
        staff_passkey_sign_in,
    },
    storage::{
        passkeys::{self as store, Owner},
        staff,
        staff_passkeys::{self as policy},
    },
};

/// 403 for a civil servant who must use a passkey to sign in.
pub fn totp_refused() -> AppError {
    AppError::from(Code::PasskeySignInRequired)
}

/// 403 for a session that must register a passkey before anything else.
pub fn passkey_required() -> AppError {
    AppError::from(Code::PasskeyRequired)
}

/// 401: adding or removing a passkey needs a sign-in in the last ten minutes.
pub fn recent_sign_in_required() -> AppError {
    AppError::from(Code::RecentSignInRequired)
}

use crate::error::Code;
use crate::identity::Identity;
use crate::identity::passkeys::manage::not_found;
use crate::infra::Core;

/// Whether the session signed in within the last ten minutes (staff
/// sessions always have two factors).
pub fn recent(state: &Core, session: &StaffSession) -> bool {
    let now = state.clock.now();
    now - session.created_at <= RECENT_STRONG && session.created_at <= now
}

/// What a right password leads to: `Some(token)` of a passkey step (no
/// code typed, the caller can take the step, and there are passkeys),
/// `None` to check the code as before, or 403 when the agency requires
/// passkeys of one who has them.
pub async fn after_password(
    state: &Core,
    row: &staff::StaffRow,
    second_factor: &str,
    passkey_step: bool,
) -> AppResult<Option<String>> {
    let mut conn = state.db.get().await?;
    let has_passkeys = store::count(&mut conn, Owner::Staff(row.id)).await? > 0;
    if !has_passkeys {
        return Ok(None);
    }
    let required = policy::required(&mut conn, &row.agency_code).await?;
    drop(conn);
    if passkey_step && second_factor.trim().is_empty() {
        return Ok(Some(staff_passkey_sign_in::begin(state, row).await?));
    }
    if required {
        return Err(totp_refused());
    }
    Ok(None)
}

/// Whether this session may only register a passkey: it did not sign in
/// with one, the agency requires them, and the civil servant has none yet.
pub async fn enrolment_required(state: &Core, session: &StaffSession) -> AppResult<bool> {
    if session.used_passkey() {
        return Ok(false);
    }
    let mut conn = state.db.get().await?;
    if !policy::required(&mut conn, &session.agency_code).await? {
        return Ok(false);
    }
    Ok(store::count(&mut conn, Owner::Staff(session.staff_id)).await? == 0)
}

/// The civil servant's passkeys, newest first.
pub async fn list(state: &Core, session: &StaffSession) -> AppResult<Vec<PasskeyView>> {
    let mut conn = state.db.get().await?;
    Ok(store::list(&mut conn, Owner::Staff(session.staff_id))
        .await?
        .into_iter()
        .map(PasskeyView::from)
        .collect())
}

/// Starts registering a passkey, bound to the session's token.
pub async fn start(
    state: &Identity,
    session: &StaffSession,
    token: &str,
) -> AppResult<(String, serde_json::Value)> {
    if !recent(state, session) {
        return Err(recent_sign_in_required());
    }
    let mut conn = state.db.get().await?;
    let row = staff::find(&mut conn, session.staff_id).await?;
    drop(conn);
    ceremony::start_registration(
        state,
        Owner::Staff(row.id),
        &format!("{}@{}", row.username, row.agency_code),
        &row.full_name,
        token,
    )
    .await
}

/// Finishes registering: stored and recorded in the agency's trail.
pub async fn finish(
    state: &Identity,
    session: &StaffSession,
    token: &str,
    challenge_id: &str,
    name: &str,
    credential: &serde_json::Value,
) -> AppResult<PasskeyView> {
    if !recent(state, session) {
        return Err(recent_sign_in_required());
    }
    let name = clean_name(name)?;
    let owner = Owner::Staff(session.staff_id);
    let ip = session.ip.clone().unwrap_or_else(|| "-".into());
    let row =
        ceremony::finish_registration(state, owner, token, challenge_id, &name, credential, &ip)
            .await?;
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        ceremony::store_new(c, owner, &row).await?;
        staff_events::record(
            c,
            &session.into(),
            Entry::about(StaffEvent::PasskeyAdded, row.name.clone())
                .with(json!({ "passkey_id": row.id, "synced": row.synced })),
            now,
        )
        .await
    })
    .await?;
    Ok(row.into())
}

/// Removes one of the civil servant's own passkeys; another's id is 404.
/// The last one stays while the agency requires passkeys.
pub async fn remove(state: &Core, session: &StaffSession, id: Uuid) -> AppResult<()> {
    if !recent(state, session) {
        return Err(recent_sign_in_required());
    }
    let owner = Owner::Staff(session.staff_id);
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let required = policy::required(c, &session.agency_code).await?;
        if required && store::count(c, owner).await? <= 1 {
            return Err(AppError::from(Code::LastPasskey));
        }
        let row = store::delete(c, owner, id).await?.ok_or_else(not_found)?;
        staff_events::record(
            c,
            &session.into(),
            Entry::about(StaffEvent::PasskeyRemoved, row.name.clone())
                .with(json!({ "passkey_id": row.id, "synced": row.synced })),
            now,
        )
        .await
    })
    .await
}

/// The agency's policy and how many passkeys each of its civil servants
/// has (for the admin's staff page).
pub async fn agency_overview(
    state: &Core,
    admin: &StaffSession,
) -> AppResult<(bool, std::collections::HashMap<Uuid, i64>)> {
    admin.require(
        StaffRole::AgencyAdmin,
        "Chỉ quản trị đơn vị được xem danh sách cán bộ.",
    )?;
    let mut conn = state.db.get().await?;
    Ok((
        policy::required(&mut conn, &admin.agency_code).await?,
        policy::counts_in_agency(&mut conn, &admin.agency_code).await?,
    ))
}

/// An agency admin requires passkeys of their own agency's civil servants,
/// or stops requiring them (`agency` as their form named it: another
/// agency's is refused). Only an admin who has a passkey may require them
/// (they are under the policy too). Requiring them ends the sessions of the
/// agency's other civil servants, so each signs in again under the policy.
pub async fn set_policy(
    state: &Identity,
    admin: &StaffSession,
    agency: &str,
    required: bool,
) -> AppResult<()> {
    if !admin.has(StaffRole::AgencyAdmin) || agency != admin.agency_code {
        return Err(AppError::from(Code::RoleRequired)
            .with_detail("Chỉ quản trị của đơn vị được đổi yêu cầu passkey của đơn vị mình."));
    }
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    if required && store::count(&mut conn, Owner::Staff(admin.staff_id)).await? == 0 {
        return Err(AppError::from(Code::OwnPasskeyRequired));
    }
    let changed = conn
        .transaction::<_, AppError, _>(async |c| {
            let before = policy::set_required(c, agency, required)
                .await?
                .ok_or_else(|| AppError::from(Code::AgencyNotFound))?;
            if before == required {
                return Ok(false);
            }
            staff_events::record(
                c,
                &admin.into(),
                Entry::about(StaffEvent::PasskeyPolicyChanged, agency.to_owned())
                    .with(json!({ "before": before, "after": required })),
                now,
            )
            .await?;
            Ok(true)
        })
        .await?;
    if changed && required {
        let others = staff::of_agency(&mut conn, agency).await?;
        drop(conn);
        for other in others.iter().filter(|s| s.id != admin.staff_id) {
            state
                .staff_sessions
                .revoke_all(&other.id.to_string(), None)
                .await?;
        }
    }
    Ok(())
}
