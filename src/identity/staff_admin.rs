//! An agency admin's work on their own civil servants: adding one (who
//! enrols a second factor at first sign-in), changing roles, disabling,
//! enabling, resetting the second factor, and the list of the agency's staff.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use secrecy::SecretString;
use uuid::Uuid;

use super::staff::NewStaff;
use crate::error::Code;
use crate::{
    domain::{
        staff::{StaffRole, StaffStatus},
        staff_event::StaffEvent,
    },
    error::{AppError, AppResult, FieldErrors},
    identity::{
        Identity,
        staff::StaffSession,
        staff_events::{self, Entry},
    },
    infra::Core,
    storage::{passkeys, staff},
};

/// Creates a civil servant of the admin's own agency, without a second factor
/// yet: they enrol at their first sign-in.
pub async fn create_by_agency_admin(
    state: &Identity,
    admin: &StaffSession,
    username: &str,
    full_name: &str,
    roles: &[String],
    password: SecretString,
) -> AppResult<staff::StaffRow> {
    admin.require(
        StaffRole::AgencyAdmin,
        "Chỉ quản trị đơn vị được thêm cán bộ.",
    )?;
    let new = NewStaff::parse(username, full_name, &admin.agency_code, roles, password)?;
    let hash = state.hasher.hash(new.password).await?;
    let now = state.clock.now();
    let row = staff::StaffRow {
        id: Uuid::now_v7(),
        username: new.username.as_str().to_owned(),
        full_name: new.full_name.as_str().to_owned(),
        agency_code: admin.agency_code.clone(),
        roles: new.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        password_hash: hash,
        totp_secret: None,
        totp_last_step: None,
        status: StaffStatus::Active,
        created_at: now,
        updated_at: now,
    };
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        if !staff::insert(c, &row).await? {
            return Err(AppError::from(Code::UsernameTaken).with_field(
                "username",
                "username_taken",
                "Tên đăng nhập này đã được dùng.",
            ));
        }
        staff_events::record(
            c,
            &admin.into(),
            Entry::about(StaffEvent::StaffCreated, row.username.clone())
                .with(serde_json::json!({ "roles": row.roles })),
            now,
        )
        .await
    })
    .await?;
    Ok(row)
}

/// What an agency admin changes about one of their civil servants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffChange {
    /// Replace the roles (at least one).
    Roles(Vec<String>),
    /// Disable the account (sign-in refused, sessions ended).
    Disable,
    /// Enable it again.
    Enable,
    /// Forget the second factor: they enrol again at their next sign-in.
    ResetSecondFactor,
}

/// Applies `change` to a civil servant of the admin's agency, records it in
/// the agency's trail and ends the civil servant's sessions (they sign in
/// again with what changed). An admin cannot lock themselves out.
pub async fn change_by_agency_admin(
    state: &Identity,
    admin: &StaffSession,
    target: Uuid,
    change: StaffChange,
) -> AppResult<()> {
    admin.require(
        StaffRole::AgencyAdmin,
        "Chỉ quản trị đơn vị được thay đổi tài khoản cán bộ.",
    )?;
    let roles = match &change {
        StaffChange::Roles(raw) => parse_roles(raw)?,
        _ => Vec::new(),
    };
    let self_lockout = target == admin.staff_id
        && match &change {
            StaffChange::Roles(_) => !roles.contains(&StaffRole::AgencyAdmin),
            StaffChange::Disable | StaffChange::ResetSecondFactor => true,
            StaffChange::Enable => false,
        };
    if self_lockout {
        return Err(AppError::from(Code::OwnAccount));
    }
    let now = state.clock.now();
    let not_found = || AppError::from(Code::StaffNotFound);
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let before = staff::find_in_agency(c, &admin.agency_code, target)
            .await?
            .ok_or_else(not_found)?;
        let (update, event, detail) = planned(c, &before, target, &change, &roles, now).await?;
        staff::update(c, target, &update).await?;
        staff_events::record(
            c,
            &admin.into(),
            Entry::about(event, before.username.clone()).with(detail),
            now,
        )
        .await
    })
    .await?;
    if change != StaffChange::Enable {
        state
            .staff_sessions
            .revoke_all(&target.to_string(), None)
            .await?;
    }
    Ok(())
}

/// The civil servants of the admin's agency.
pub async fn agency_staff(state: &Core, admin: &StaffSession) -> AppResult<Vec<staff::StaffRow>> {
    admin.require(
        StaffRole::AgencyAdmin,
        "Chỉ quản trị đơn vị được xem danh sách cán bộ.",
    )?;
    let mut conn = state.db.get().await?;
    Ok(staff::of_agency(&mut conn, &admin.agency_code).await?)
}

/// The roles an admin typed: known ones, at least one, each once.
fn parse_roles(raw: &[String]) -> AppResult<Vec<StaffRole>> {
    let mut errors = FieldErrors::default();
    let roles = super::staff::take_roles(&mut errors, raw);
    errors.into_result()?;
    Ok(roles)
}

/// The row update and the trail entry of `change` (a second-factor reset
/// also deletes recovery codes and passkeys, in the caller's transaction).
async fn planned(
    c: &mut AsyncPgConnection,
    before: &staff::StaffRow,
    target: Uuid,
    change: &StaffChange,
    roles: &[StaffRole],
    now: DateTime<Utc>,
) -> AppResult<(staff::StaffUpdate, StaffEvent, serde_json::Value)> {
    let mut update = staff::StaffUpdate {
        roles: None,
        status: None,
        totp_secret: None,
        totp_last_step: None,
        updated_at: now,
    };
    let (event, detail) = match change {
        StaffChange::Roles(_) => {
            let names: Vec<String> = roles.iter().map(|r| r.as_str().to_owned()).collect();
            let detail = serde_json::json!({ "before": before.roles, "after": names });
            update.roles = Some(names);
            (StaffEvent::StaffRolesChanged, detail)
        }
        StaffChange::Disable => {
            update.status = Some(StaffStatus::Disabled.into());
            (
                StaffEvent::StaffDisabled,
                serde_json::json!({ "before": before.status }),
            )
        }
        StaffChange::Enable => {
            update.status = Some(StaffStatus::Active.into());
            (
                StaffEvent::StaffEnabled,
                serde_json::json!({ "before": before.status }),
            )
        }
        StaffChange::ResetSecondFactor => {
            update.totp_secret = Some(None);
            update.totp_last_step = Some(None);
            staff::delete_recovery_codes(c, target).await?;
            // Every second factor goes: a lost phone may hold the passkey too.
            let passkeys = passkeys::delete_all(c, passkeys::Owner::Staff(target)).await?;
            (
                StaffEvent::StaffSecondFactorReset,
                serde_json::json!({ "was_enrolled": before.totp_secret.is_some(), "passkeys_removed": passkeys }),
            )
        }
    };
    Ok((update, event, detail))
}
