//! The `staff`, `staff_recovery_codes` and `staff_events` tables.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{staff, staff_events, staff_recovery_codes};
use crate::domain::staff::StaffStatus;

/// A civil servant.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = staff)]
pub struct StaffRow {
    /// Id.
    pub id: Uuid,
    /// Sign-in name (lower-case).
    pub username: String,
    /// Full name.
    pub full_name: String,
    /// Agency unit code.
    pub agency_code: String,
    /// Roles.
    pub roles: Vec<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Base32 TOTP secret, once enrolled.
    pub totp_secret: Option<String>,
    /// Last accepted TOTP step.
    pub totp_last_step: Option<i64>,
    /// May they sign in.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: StaffStatus,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// Inserts a civil servant; `Ok(false)` if the username is taken.
pub async fn insert(conn: &mut AsyncPgConnection, row: &StaffRow) -> QueryResult<bool> {
    diesel::insert_into(staff::table)
        .values(row.clone())
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// Loads a civil servant.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<StaffRow> {
    staff::table
        .find(id)
        .select(StaffRow::as_select())
        .first(conn)
        .await
}

/// A civil servant of this agency, locked for the change that follows.
pub async fn find_in_agency(
    conn: &mut AsyncPgConnection,
    agency_code: &str,
    id: Uuid,
) -> QueryResult<Option<StaffRow>> {
    staff::table
        .find(id)
        .filter(staff::agency_code.eq(agency_code))
        .select(StaffRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// The civil servant with this (lower-case) username.
pub async fn find_by_username(
    conn: &mut AsyncPgConnection,
    username: &str,
) -> QueryResult<Option<StaffRow>> {
    staff::table
        .filter(staff::username.eq(username))
        .select(StaffRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Accepts TOTP step `step` only if it is later than the last one accepted
/// (atomically: a code works once, even under concurrent sign-ins).
pub async fn accept_totp_step(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    step: i64,
) -> QueryResult<bool> {
    diesel::update(
        staff::table.find(id).filter(
            staff::totp_last_step
                .is_null()
                .or(staff::totp_last_step.lt(step)),
        ),
    )
    .set(staff::totp_last_step.eq(step))
    .execute(conn)
    .await
    .map(|n| n == 1)
}

/// Stores recovery code hashes.
pub async fn insert_recovery_codes(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    hashes: &[Vec<u8>],
) -> QueryResult<()> {
    let rows: Vec<_> = hashes
        .iter()
        .map(|h| {
            (
                staff_recovery_codes::staff_id.eq(id),
                staff_recovery_codes::code_hash.eq(h.clone()),
            )
        })
        .collect();
    diesel::insert_into(staff_recovery_codes::table)
        .values(rows)
        .execute(conn)
        .await
        .map(drop)
}

/// Uses up a recovery code; false if unknown or already used.
pub async fn use_recovery_code(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    hash: &[u8],
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(
        staff_recovery_codes::table
            .filter(staff_recovery_codes::staff_id.eq(id))
            .filter(staff_recovery_codes::code_hash.eq(hash))
            .filter(staff_recovery_codes::used_at.is_null()),
    )
    .set(staff_recovery_codes::used_at.eq(now))
    .execute(conn)
    .await
    .map(|n| n == 1)
}

/// Replaces the password hash (a parameter upgrade).
pub async fn set_password_hash(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    hash: &str,
) -> QueryResult<()> {
    diesel::update(staff::table.find(id))
        .set(staff::password_hash.eq(hash))
        .execute(conn)
        .await
        .map(drop)
}

/// Stores the sealed TOTP secret of a civil servant not yet enrolled; false if already enrolled.
pub async fn enrol(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    sealed_secret: &str,
    step: i64,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(staff::table.find(id).filter(staff::totp_secret.is_null()))
        .set((
            staff::totp_secret.eq(sealed_secret),
            staff::totp_last_step.eq(step),
            staff::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// The civil servants of an agency, by username.
pub async fn of_agency(
    conn: &mut AsyncPgConnection,
    agency_code: &str,
) -> QueryResult<Vec<StaffRow>> {
    staff::table
        .filter(staff::agency_code.eq(agency_code))
        .order(staff::username)
        .select(StaffRow::as_select())
        .load(conn)
        .await
}

/// What an agency admin changes about a civil servant (unset fields stay).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = staff)]
pub struct StaffUpdate {
    /// New roles.
    pub roles: Option<Vec<String>>,
    /// New status (`active`, `disabled`).
    pub status: Option<String>,
    /// `Some(None)` forgets the second factor.
    pub totp_secret: Option<Option<String>>,
    /// `Some(None)` with it.
    pub totp_last_step: Option<Option<i64>>,
    /// Now.
    pub updated_at: DateTime<Utc>,
}

/// Applies `change` to a civil servant (locked and checked by the caller).
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    change: &StaffUpdate,
) -> QueryResult<()> {
    diesel::update(staff::table.find(id))
        .set(change)
        .execute(conn)
        .await
        .map(drop)
}

/// Deletes a civil servant's recovery codes (with a forgotten second factor).
pub async fn delete_recovery_codes(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::delete(staff_recovery_codes::table.filter(staff_recovery_codes::staff_id.eq(id)))
        .execute(conn)
        .await
        .map(drop)
}

/// One civil servant's event.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = staff_events)]
pub struct StaffEventRow {
    /// UUIDv7.
    pub id: Uuid,
    /// The civil servant's agency.
    pub agency_code: String,
    /// The civil servant.
    pub staff_id: Uuid,
    /// `signed_in`, `dossier.accept` … (domain::staff_event).
    pub kind: String,
    /// The dossier concerned.
    pub dossier_id: Option<Uuid>,
    /// Another thing concerned (a username, a service code, a date).
    pub subject: Option<String>,
    /// Details without personal data.
    pub detail: serde_json::Value,
    /// Client address.
    pub ip: Option<String>,
    /// Client software.
    pub user_agent: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Appends an event.
pub async fn insert_event(conn: &mut AsyncPgConnection, row: &StaffEventRow) -> QueryResult<()> {
    diesel::insert_into(staff_events::table)
        .values(row)
        .execute(conn)
        .await
        .map(drop)
}

/// What the audit page asks for.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// The agency (always set: admins see their own agency).
    pub agency_code: String,
    /// Only this civil servant.
    pub staff_id: Option<Uuid>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this dossier.
    pub dossier_id: Option<Uuid>,
    /// From this instant on.
    pub from: Option<DateTime<Utc>>,
    /// Before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Keyset: older than this id.
    pub before: Option<Uuid>,
    /// How many.
    pub limit: i64,
}

/// An agency's events, newest first, with the civil servant's username.
pub async fn events(
    conn: &mut AsyncPgConnection,
    q: &EventQuery,
) -> QueryResult<Vec<(StaffEventRow, String)>> {
    let mut query = staff_events::table
        .inner_join(staff::table)
        .filter(staff_events::agency_code.eq(&q.agency_code))
        .select((StaffEventRow::as_select(), staff::username))
        .into_boxed();
    if let Some(id) = q.staff_id {
        query = query.filter(staff_events::staff_id.eq(id));
    }
    if let Some(kind) = &q.kind {
        query = query.filter(staff_events::kind.eq(kind.clone()));
    }
    if let Some(id) = q.dossier_id {
        query = query.filter(staff_events::dossier_id.eq(id));
    }
    if let Some(from) = q.from {
        query = query.filter(staff_events::created_at.ge(from));
    }
    if let Some(to) = q.to {
        query = query.filter(staff_events::created_at.lt(to));
    }
    if let Some(before) = q.before {
        query = query.filter(staff_events::id.lt(before));
    }
    query
        .order(staff_events::id.desc())
        .limit(q.limit)
        .load(conn)
        .await
}
