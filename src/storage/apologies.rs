//! The `apology_letters` table: letters drafted for overdue dossiers and
//! approved by the agency.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{
    dossiers::DossierRow,
    schema::{apology_letters, dossiers},
};

/// An apology letter for an overdue dossier.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = apology_letters)]
pub struct ApologyRow {
    /// Id.
    pub id: Uuid,
    /// The dossier.
    pub dossier_id: Uuid,
    /// Its agency.
    pub agency_code: String,
    /// The due date missed.
    pub missed_due: DateTime<Utc>,
    /// The new appointment date.
    pub new_due: DateTime<Utc>,
    /// Why (the office's words).
    pub reason: Option<String>,
    /// `drafted` or `approved`.
    pub status: String,
    /// Drafted.
    pub drafted_at: DateTime<Utc>,
    /// The approver.
    pub approved_by: Option<Uuid>,
    /// Approved.
    pub approved_at: Option<DateTime<Utc>>,
}

/// Dossiers whose clock runs and whose due date passed before `now`, with no apology yet.
pub async fn overdue_without_apology(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<DossierRow>> {
    dossiers::table
        .filter(dossiers::status.eq_any(["accepted", "processing"]))
        .filter(dossiers::due_at.lt(now))
        .filter(dossiers::paused_at.is_null())
        .filter(diesel::dsl::not(diesel::dsl::exists(
            apology_letters::table.filter(apology_letters::dossier_id.eq(dossiers::id)),
        )))
        .order(dossiers::due_at)
        .select(DossierRow::as_select())
        .limit(limit)
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

/// Stores a drafted letter; false if the dossier has one.
pub async fn insert_apology(conn: &mut AsyncPgConnection, row: &ApologyRow) -> QueryResult<bool> {
    diesel::insert_into(apology_letters::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// An agency's letters in `status`, oldest first.
pub async fn apologies(
    conn: &mut AsyncPgConnection,
    agency: &str,
    status: &str,
) -> QueryResult<Vec<ApologyRow>> {
    apology_letters::table
        .filter(apology_letters::agency_code.eq(agency.to_owned()))
        .filter(apology_letters::status.eq(status.to_owned()))
        .order(apology_letters::drafted_at)
        .select(ApologyRow::as_select())
        .limit(500)
        .load(conn)
        .await
}

/// A letter, locked.
pub async fn apology_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<ApologyRow>> {
    apology_letters::table
        .find(id)
        .select(ApologyRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Marks a letter approved with its final date and reason.
pub async fn approve_apology(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    new_due: DateTime<Utc>,
    reason: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(apology_letters::table.find(id))
        .set((
            apology_letters::status.eq("approved"),
            apology_letters::new_due.eq(new_due),
            apology_letters::reason.eq(reason),
            apology_letters::approved_by.eq(by),
            apology_letters::approved_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(drop)
}
