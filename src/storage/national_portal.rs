//! What the National Public Service Portal has received: each dossier's
//! cursor (`national_portal_syncs`: the last log row acknowledged, the
//! failure for good), the backlog of dossiers with rows to send, the
//! supplement requests as they happened, and the few reads the portal's
//! records need (applicant, civil servants' names).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{
    accounts, businesses, dossiers, national_portal_backlog, national_portal_supplements,
    national_portal_syncs, services, staff,
};

/// A dossier's cursor.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = national_portal_syncs)]
pub struct SyncRow {
    /// The dossier.
    pub dossier_id: Uuid,
    /// The agency whose admins see it.
    pub agency_code: String,
    /// The last log row the portal acknowledged (or that was not for it).
    pub acked_seq: i32,
    /// The last log row the record the portal holds reflects.
    pub record_seq: i32,
    /// When it failed for good.
    pub failed_at: Option<DateTime<Utc>>,
    /// Why (Vietnamese, shown to admins).
    pub failure: Option<String>,
    /// Runs failed in a row by a passing problem.
    pub retries: i32,
    /// The last passing problem.
    pub last_error: Option<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Notes, in the transaction that appends it, that log row `seq` of
/// `dossier` is waiting for the portal.
pub async fn note_logged(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    seq: i32,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(national_portal_backlog::table)
        .values((
            national_portal_backlog::dossier_id.eq(dossier),
            national_portal_backlog::logged_seq.eq(seq),
            national_portal_backlog::logged_at.eq(at),
        ))
        .on_conflict(national_portal_backlog::dossier_id)
        .do_update()
        .set((
            national_portal_backlog::logged_seq.eq(diesel::dsl::sql::<diesel::sql_types::Integer>(
                "greatest(national_portal_backlog.logged_seq, excluded.logged_seq)",
            )),
            national_portal_backlog::logged_at.eq(at),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Forgets the backlog of `dossier` up to `acked` (a row logged meanwhile
/// keeps it).
pub async fn settle_backlog(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    acked: i32,
) -> QueryResult<()> {
    diesel::delete(
        national_portal_backlog::table
            .filter(national_portal_backlog::dossier_id.eq(dossier))
            .filter(national_portal_backlog::logged_seq.le(acked)),
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Dossiers whose rows logged before `before` the portal has not all
/// acknowledged, not failed for good: at most `limit`.
pub async fn left_behind(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Uuid>> {
    national_portal_backlog::table
        .left_join(
            national_portal_syncs::table
                .on(national_portal_syncs::dossier_id.eq(national_portal_backlog::dossier_id)),
        )
        .filter(national_portal_backlog::logged_at.lt(before))
        .filter(national_portal_syncs::failed_at.is_null())
        .filter(
            national_portal_syncs::acked_seq
                .is_null()
                .or(national_portal_syncs::acked_seq.lt(national_portal_backlog::logged_seq)),
        )
        .order(national_portal_backlog::logged_at)
        .limit(limit)
        .select(national_portal_backlog::dossier_id)
        .load(conn)
        .await
}

/// The cursor of `dossier` (created at zero for `agency` if missing; the
/// agency follows the dossier when it is forwarded).
pub async fn cursor(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    agency: &str,
    now: DateTime<Utc>,
) -> QueryResult<SyncRow> {
    diesel::insert_into(national_portal_syncs::table)
        .values((
            national_portal_syncs::dossier_id.eq(dossier),
            national_portal_syncs::agency_code.eq(agency),
            national_portal_syncs::updated_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    let row: SyncRow = national_portal_syncs::table
        .find(dossier)
        .select(SyncRow::as_select())
        .first(conn)
        .await?;
    if row.agency_code == agency {
        return Ok(row);
    }
    diesel::update(national_portal_syncs::table.find(dossier))
        .set(national_portal_syncs::agency_code.eq(agency))
        .returning(SyncRow::as_returning())
        .get_result(conn)
        .await
}

/// The cursor of `dossier`, locked until the end of the transaction (a run
/// holds it while one call to the portal is under way).
pub async fn lock(conn: &mut AsyncPgConnection, dossier: Uuid) -> QueryResult<SyncRow> {
    national_portal_syncs::table
        .find(dossier)
        .for_update()
        .select(SyncRow::as_select())
        .first(conn)
        .await
}

/// The portal acknowledged (or did not need) the log rows up to `seq`.
pub async fn advance(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    seq: i32,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        national_portal_syncs::table
            .find(dossier)
            .filter(national_portal_syncs::acked_seq.lt(seq)),
    )
    .set((
        national_portal_syncs::acked_seq.eq(seq),
        national_portal_syncs::updated_at.eq(now),
    ))
    .execute(conn)
    .await
    .map(drop)
}

/// The portal holds the record as of log row `seq`.
pub async fn record_sent(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    seq: i32,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(national_portal_syncs::table.find(dossier))
        .set((
            national_portal_syncs::record_seq.eq(seq),
            national_portal_syncs::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// A run sent everything: no failure, no passing problem.
pub async fn succeeded(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        national_portal_syncs::table.find(dossier).filter(
            national_portal_syncs::failed_at
                .is_not_null()
                .or(national_portal_syncs::retries.gt(0)),
        ),
    )
    .set((
        national_portal_syncs::failed_at.eq(None::<DateTime<Utc>>),
        national_portal_syncs::failure.eq(None::<String>),
        national_portal_syncs::retries.eq(0),
        national_portal_syncs::last_error.eq(None::<String>),
        national_portal_syncs::updated_at.eq(now),
    ))
    .execute(conn)
    .await
    .map(drop)
}

/// A run met a passing problem; returns how many runs failed in a row.
pub async fn passing_failure(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    error: &str,
    now: DateTime<Utc>,
) -> QueryResult<i32> {
    diesel::update(national_portal_syncs::table.find(dossier))
        .set((
            national_portal_syncs::retries.eq(national_portal_syncs::retries + 1),
            national_portal_syncs::last_error.eq(error),
            national_portal_syncs::updated_at.eq(now),
        ))
        .returning(national_portal_syncs::retries)
        .get_result(conn)
        .await
}

/// The dossier cannot be sent: why, for the admins, until it is sent again.
pub async fn failed(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    failure: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(national_portal_syncs::table.find(dossier))
        .set((
            national_portal_syncs::failed_at.eq(now),
            national_portal_syncs::failure.eq(failure),
            national_portal_syncs::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// An admin asks for the dossier to be sent again: the failure is
/// forgotten (the caller queues the run). False when `dossier` has no
/// failure in the agency (`None`: any agency).
pub async fn clear_failure(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    agency: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let mut query = diesel::update(national_portal_syncs::table)
        .filter(national_portal_syncs::dossier_id.eq(dossier))
        .filter(national_portal_syncs::failed_at.is_not_null())
        .into_boxed();
    if let Some(agency) = agency {
        query = query.filter(national_portal_syncs::agency_code.eq(agency));
    }
    query
        .set((
            national_portal_syncs::failed_at.eq(None::<DateTime<Utc>>),
            national_portal_syncs::failure.eq(None::<String>),
            national_portal_syncs::retries.eq(0),
            national_portal_syncs::last_error.eq(None::<String>),
            national_portal_syncs::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// A dossier the portal refused for good, as the admin page lists it.
#[derive(Debug, Clone, Queryable)]
pub struct FailureRow {
    /// The dossier.
    pub dossier_id: Uuid,
    /// Its agency.
    pub agency_code: String,
    /// Its receipt code.
    pub receipt_code: Option<String>,
    /// Its service's code.
    pub service_code: String,
    /// Its service's name.
    pub service_name: String,
    /// When it failed.
    pub failed_at: DateTime<Utc>,
    /// Why.
    pub failure: String,
    /// The log rows the portal has.
    pub acked_seq: i32,
}

/// The columns `failures` reads, in `FailureRow`'s order.
type FailureColumns = (
    Uuid,
    String,
    Option<String>,
    String,
    String,
    Option<DateTime<Utc>>,
    Option<String>,
    i32,
);

/// Failures of `agency` (`None`: every agency), newest first, after the
/// keyset `before` (failed_at, dossier).
pub async fn failures(
    conn: &mut AsyncPgConnection,
    agency: Option<&str>,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<FailureRow>> {
    let mut query = national_portal_syncs::table
        .inner_join(dossiers::table.inner_join(services::table))
        .filter(national_portal_syncs::failed_at.is_not_null())
        .into_boxed();
    if let Some(agency) = agency {
        query = query.filter(national_portal_syncs::agency_code.eq(agency));
    }
    if let Some((at, id)) = before {
        query = query.filter(
            national_portal_syncs::failed_at
                .lt(at)
                .or(national_portal_syncs::failed_at
                    .eq(at)
                    .and(national_portal_syncs::dossier_id.lt(id))),
        );
    }
    let rows: Vec<FailureColumns> = query
        .order((
            national_portal_syncs::failed_at.desc(),
            national_portal_syncs::dossier_id.desc(),
        ))
        .limit(limit)
        .select((
            national_portal_syncs::dossier_id,
            national_portal_syncs::agency_code,
            dossiers::receipt_code,
            dossiers::service_code,
            services::name,
            national_portal_syncs::failed_at,
            national_portal_syncs::failure,
            national_portal_syncs::acked_seq,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, agency, receipt, code, name, at, failure, acked)| {
            Some(FailureRow {
                dossier_id: id,
                agency_code: agency,
                receipt_code: receipt,
                service_code: code,
                service_name: name,
                failed_at: at?,
                failure: failure?,
                acked_seq: acked,
            })
        })
        .collect())
}

/// A supplement request as it happened.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = national_portal_supplements)]
pub struct SupplementRow {
    /// The dossier.
    pub dossier_id: Uuid,
    /// The request's log row.
    pub requested_seq: i32,
    /// When it was asked for.
    pub requested_at: DateTime<Utc>,
    /// The due date before the request.
    pub due_before: Option<DateTime<Utc>>,
    /// The supplement's log row.
    pub supplied_seq: Option<i32>,
    /// When it was supplied.
    pub supplied_at: Option<DateTime<Utc>>,
    /// The due date the supplement set.
    pub due_after: Option<DateTime<Utc>>,
}

/// Records a supplement request (log row `seq`) and the due date it found.
pub async fn supplement_requested(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    seq: i32,
    at: DateTime<Utc>,
    due_before: Option<DateTime<Utc>>,
) -> QueryResult<()> {
    diesel::insert_into(national_portal_supplements::table)
        .values((
            national_portal_supplements::dossier_id.eq(dossier),
            national_portal_supplements::requested_seq.eq(seq),
            national_portal_supplements::requested_at.eq(at),
            national_portal_supplements::due_before.eq(due_before),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(drop)
}

/// Records the supplement (log row `seq`) answering the open request, and
/// the due date it set.
pub async fn supplement_supplied(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    seq: i32,
    at: DateTime<Utc>,
    due_after: Option<DateTime<Utc>>,
) -> QueryResult<()> {
    let open: Option<i32> = national_portal_supplements::table
        .filter(national_portal_supplements::dossier_id.eq(dossier))
        .filter(national_portal_supplements::supplied_seq.is_null())
        .order(national_portal_supplements::requested_seq.desc())
        .select(national_portal_supplements::requested_seq)
        .first(conn)
        .await
        .optional()?;
    let Some(requested) = open else {
        return Ok(());
    };
    diesel::update(national_portal_supplements::table.find((dossier, requested)))
        .set((
            national_portal_supplements::supplied_seq.eq(seq),
            national_portal_supplements::supplied_at.eq(at),
            national_portal_supplements::due_after.eq(due_after),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The supplement requests of `dossier`, oldest first.
pub async fn supplements(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
) -> QueryResult<Vec<SupplementRow>> {
    national_portal_supplements::table
        .filter(national_portal_supplements::dossier_id.eq(dossier))
        .order(national_portal_supplements::requested_seq)
        .select(SupplementRow::as_select())
        .load(conn)
        .await
}

/// The due date a dossier has now.
pub async fn due_at(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
) -> QueryResult<Option<DateTime<Utc>>> {
    dossiers::table
        .find(dossier)
        .select(dossiers::due_at)
        .first(conn)
        .await
}

/// The applicant as the portal names them (`ChuHoSo`): a person's full name
/// and national ID, or a business's name and tax code.
pub async fn applicant(
    conn: &mut AsyncPgConnection,
    account: Uuid,
    business: Option<Uuid>,
) -> QueryResult<(String, String)> {
    match business {
        Some(id) => {
            businesses::table
                .find(id)
                .select((businesses::name, businesses::tax_code))
                .first(conn)
                .await
        }
        None => {
            accounts::table
                .find(account)
                .select((accounts::full_name, accounts::national_id))
                .first(conn)
                .await
        }
    }
}

/// The full names of civil servants and of accounts among `ids`.
pub async fn names(
    conn: &mut AsyncPgConnection,
    staff_ids: &[Uuid],
    account_ids: &[Uuid],
) -> QueryResult<std::collections::HashMap<Uuid, String>> {
    let mut names: std::collections::HashMap<Uuid, String> = staff::table
        .filter(staff::id.eq_any(staff_ids))
        .select((staff::id, staff::full_name))
        .load::<(Uuid, String)>(conn)
        .await?
        .into_iter()
        .collect();
    names.extend(
        accounts::table
            .filter(accounts::id.eq_any(account_ids))
            .select((accounts::id, accounts::full_name))
            .load::<(Uuid, String)>(conn)
            .await?,
    );
    Ok(names)
}
