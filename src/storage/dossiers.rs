//! Dossiers, their progress log, receipt counters and idempotency keys.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{dossier_events, dossier_files, dossiers, idempotency_keys, receipt_counters};

pub use super::apologies::{
    ApologyRow, apologies, apology_for_update, approve_apology, insert_apology,
    overdue_without_apology,
};

/// A dossier.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dossiers)]
pub struct DossierRow {
    /// Id.
    pub id: Uuid,
    /// The service.
    pub service_code: String,
    /// The agency filed at.
    pub agency_code: String,
    /// The applicant's account.
    pub applicant_id: Uuid,
    /// The business filed for.
    pub business_id: Option<Uuid>,
    /// Status name.
    pub status: String,
    /// National status code.
    pub status_code: i16,
    /// `online` or `counter`.
    pub channel: String,
    /// The form's values.
    pub form_values: serde_json::Value,
    /// Version (ETag).
    pub version: i32,
    /// Receipt code, once filed.
    pub receipt_code: Option<String>,
    /// Filed.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Taken in.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Due.
    pub due_at: Option<DateTime<Utc>>,
    /// Clock paused since.
    pub paused_at: Option<DateTime<Utc>>,
    /// Decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// `approved` or `rejected`.
    pub decision: Option<String>,
    /// Order in the agency's queue.
    pub queue_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Where each form value came from (vault or self-declared).
    pub value_sources: serde_json::Value,
}

/// What a change sets (the status fields and timestamps a transition touches).
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = dossiers)]
pub struct DossierChange {
    /// New status.
    pub status: Option<String>,
    /// New national code.
    pub status_code: Option<i16>,
    /// New values.
    pub form_values: Option<serde_json::Value>,
    /// Where the values came from.
    pub value_sources: Option<serde_json::Value>,
    /// Receipt code.
    pub receipt_code: Option<String>,
    /// Filed.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Taken in.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Due.
    pub due_at: Option<DateTime<Utc>>,
    /// Paused since (`Some(None)` resumes).
    pub paused_at: Option<Option<DateTime<Utc>>>,
    /// Decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Decision.
    pub decision: Option<String>,
    /// Order in the agency's queue.
    pub queue_at: Option<DateTime<Utc>>,
}

/// A progress-log row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dossier_events)]
pub struct EventRow {
    /// The dossier.
    pub dossier_id: Uuid,
    /// Position.
    pub seq: i32,
    /// When.
    pub at: DateTime<Utc>,
    /// `applicant`, `staff`, `system`.
    pub actor_kind: String,
    /// Who.
    pub actor_id: Option<Uuid>,
    /// What.
    pub action: String,
    /// From status.
    pub from_status: Option<String>,
    /// To status.
    pub to_status: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Shown to the applicant.
    pub visible: bool,
    /// Chain hash.
    pub hash: Vec<u8>,
}

/// Stores a new dossier.
pub async fn insert(conn: &mut AsyncPgConnection, row: &DossierRow) -> QueryResult<()> {
    diesel::insert_into(dossiers::table)
        .values(row)
        .execute(conn)
        .await
        .map(drop)
}

/// A dossier by id.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<DossierRow>> {
    dossiers::table
        .find(id)
        .select(DossierRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// A dossier by id, locked for this transaction.
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<DossierRow>> {
    dossiers::table
        .find(id)
        .select(DossierRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Applies a change and bumps the version.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    change: &DossierChange,
    now: DateTime<Utc>,
) -> QueryResult<DossierRow> {
    diesel::update(dossiers::table.find(id))
        .set((
            change,
            dossiers::version.eq(dossiers::version + 1),
            dossiers::updated_at.eq(now),
        ))
        .returning(DossierRow::as_returning())
        .get_result(conn)
        .await
}

/// The next receipt number of `agency` on `day` (locks the counter row).
pub async fn next_receipt_number(
    conn: &mut AsyncPgConnection,
    agency: &str,
    day: NaiveDate,
) -> QueryResult<i32> {
    diesel::insert_into(receipt_counters::table)
        .values((
            receipt_counters::agency_code.eq(agency),
            receipt_counters::day.eq(day),
            receipt_counters::last.eq(1),
        ))
        .on_conflict((receipt_counters::agency_code, receipt_counters::day))
        .do_update()
        .set(receipt_counters::last.eq(receipt_counters::last + 1))
        .returning(receipt_counters::last)
        .get_result(conn)
        .await
}

/// The last log row of a dossier (its seq and hash).
pub async fn last_event(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
) -> QueryResult<Option<(i32, Vec<u8>)>> {
    dossier_events::table
        .filter(dossier_events::dossier_id.eq(dossier))
        .order(dossier_events::seq.desc())
        .select((dossier_events::seq, dossier_events::hash))
        .first(conn)
        .await
        .optional()
}

/// Appends a log row.
pub async fn append_event(conn: &mut AsyncPgConnection, row: &EventRow) -> QueryResult<()> {
    diesel::insert_into(dossier_events::table)
        .values(row)
        .execute(conn)
        .await
        .map(drop)
}

/// A dossier's log, oldest first; only the applicant-visible rows when `visible_only`.
pub async fn events(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    visible_only: bool,
) -> QueryResult<Vec<EventRow>> {
    let mut query = dossier_events::table
        .filter(dossier_events::dossier_id.eq(dossier))
        .select(EventRow::as_select())
        .order(dossier_events::seq)
        .into_boxed();
    if visible_only {
        query = query.filter(dossier_events::visible.eq(true));
    }
    query.load(conn).await
}

/// An applicant's dossiers, newest first, after the keyset `before` (created_at, id).
pub async fn of_applicant(
    conn: &mut AsyncPgConnection,
    applicant: Uuid,
    status: Option<&str>,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<DossierRow>> {
    let mut query = dossiers::table
        .filter(dossiers::applicant_id.eq(applicant))
        .select(DossierRow::as_select())
        .order((dossiers::created_at.desc(), dossiers::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(dossiers::status.eq(status.to_owned()));
    }
    if let Some((at, id)) = before {
        query = query.filter(
            dossiers::created_at
                .lt(at)
                .or(dossiers::created_at.eq(at).and(dossiers::id.lt(id))),
        );
    }
    query.load(conn).await
}

/// An agency's dossiers in `statuses`, in queue order, after the keyset `(queue_at, id)`.
/// One index range scan per status (agency, status, queue_at, id), merged:
/// each reads at most `limit` rows, whatever the size of the agency.
pub async fn queue(
    conn: &mut AsyncPgConnection,
    agency: &str,
    statuses: &[&str],
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<DossierRow>> {
    queue_filtered(
        conn,
        agency,
        statuses,
        &QueueFilter::default(),
        after,
        limit,
    )
    .await
}

/// What a queue page is narrowed to (every part optional).
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// One service.
    pub service_code: Option<String>,
    /// One of these services (a field's).
    pub service_codes: Option<Vec<String>>,
    /// `online` or `counter`.
    pub channel: Option<String>,
    /// Filed on or after.
    pub filed_from: Option<DateTime<Utc>>,
    /// Filed before.
    pub filed_to: Option<DateTime<Utc>>,
    /// Exactly this receipt code.
    pub receipt_code: Option<String>,
    /// Filed by one of these accounts.
    pub applicants: Option<Vec<Uuid>>,
}

/// An agency's queue narrowed by `filter`: one index scan per status, merged
/// in queue order (keyset after `after`).
pub async fn queue_filtered(
    conn: &mut AsyncPgConnection,
    agency: &str,
    statuses: &[&str],
    filter: &QueueFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<DossierRow>> {
    let mut rows = Vec::new();
    for status in statuses {
        let mut query = dossiers::table
            .filter(dossiers::agency_code.eq(agency.to_owned()))
            .filter(dossiers::status.eq((*status).to_owned()))
            .filter(dossiers::queue_at.is_not_null())
            .select(DossierRow::as_select())
            .order((dossiers::queue_at, dossiers::id))
            .limit(limit)
            .into_boxed();
        if let Some((at, id)) = after {
            query = query.filter(
                dossiers::queue_at
                    .gt(at)
                    .or(dossiers::queue_at.eq(at).and(dossiers::id.gt(id))),
            );
        }
        if let Some(s) = &filter.service_code {
            query = query.filter(dossiers::service_code.eq(s.clone()));
        }
        if let Some(codes) = &filter.service_codes {
            query = query.filter(dossiers::service_code.eq_any(codes.clone()));
        }
        if let Some(c) = &filter.channel {
            query = query.filter(dossiers::channel.eq(c.clone()));
        }
        if let Some(from) = filter.filed_from {
            query = query.filter(dossiers::submitted_at.ge(from));
        }
        if let Some(to) = filter.filed_to {
            query = query.filter(dossiers::submitted_at.lt(to));
        }
        if let Some(r) = &filter.receipt_code {
            query = query.filter(dossiers::receipt_code.eq(r.clone()));
        }
        if let Some(ids) = &filter.applicants {
            query = query.filter(dossiers::applicant_id.eq_any(ids.clone()));
        }
        rows.extend(query.load(conn).await?);
    }
    rows.sort_by_key(|r| (r.queue_at, r.id));
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(rows)
}

/// A stored answer to an idempotent request.
#[derive(Debug, Clone, Queryable)]
pub struct StoredAnswer {
    /// SHA-256 of the request it answered.
    pub request_hash: Vec<u8>,
    /// HTTP status.
    pub status: i16,
    /// Body.
    pub response: serde_json::Value,
}

/// The stored answer for `(account, key)`, if any.
pub async fn idempotent_answer(
    conn: &mut AsyncPgConnection,
    account: Uuid,
    key: &str,
) -> QueryResult<Option<StoredAnswer>> {
    idempotency_keys::table
        .find((account, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status,
            idempotency_keys::response,
        ))
        .first(conn)
        .await
        .optional()
}

/// Stores the answer for `(account, key)`; false if one was stored first.
pub async fn store_answer(
    conn: &mut AsyncPgConnection,
    account: Uuid,
    key: &str,
    answer: &StoredAnswer,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::account_id.eq(account),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(&answer.request_hash),
            idempotency_keys::status.eq(answer.status),
            idempotency_keys::response.eq(&answer.response),
            idempotency_keys::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// A filed dossier by receipt code.
pub async fn by_receipt(
    conn: &mut AsyncPgConnection,
    receipt_code: &str,
) -> QueryResult<Option<DossierRow>> {
    dossiers::table
        .filter(dossiers::receipt_code.eq(receipt_code))
        .select(DossierRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Dossier ids after `after`, in order (for walking every dossier in batches).
pub async fn ids_after(
    conn: &mut AsyncPgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Uuid>> {
    let mut query = dossiers::table
        .select(dossiers::id)
        .order(dossiers::id)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(dossiers::id.gt(after));
    }
    query.load(conn).await
}

/// A file attached to a dossier.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dossier_files)]
pub struct FileRow {
    /// Id.
    pub id: Uuid,
    /// The dossier.
    pub dossier_id: Uuid,
    /// Safe display name.
    pub name: String,
    /// Recognised type.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the bytes.
    pub sha256: Vec<u8>,
    /// Document type code.
    pub document_type: Option<String>,
    /// Uploaded.
    pub uploaded_at: DateTime<Utc>,
}

/// Stores a file's row.
pub async fn insert_file(conn: &mut AsyncPgConnection, row: &FileRow) -> QueryResult<()> {
    diesel::insert_into(dossier_files::table)
        .values(row)
        .execute(conn)
        .await
        .map(drop)
}

/// A dossier's files, oldest first.
pub async fn files(conn: &mut AsyncPgConnection, dossier: Uuid) -> QueryResult<Vec<FileRow>> {
    dossier_files::table
        .filter(dossier_files::dossier_id.eq(dossier))
        .order(dossier_files::uploaded_at)
        .select(FileRow::as_select())
        .load(conn)
        .await
}

/// One file of a dossier.
pub async fn file(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    id: Uuid,
) -> QueryResult<Option<FileRow>> {
    dossier_files::table
        .filter(dossier_files::dossier_id.eq(dossier))
        .filter(dossier_files::id.eq(id))
        .select(FileRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Moves a dossier to another agency in `status` (forwarding), bumping its version.
pub async fn move_to_agency(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    agency: &str,
    status: crate::domain::dossier::Status,
    now: DateTime<Utc>,
) -> QueryResult<DossierRow> {
    diesel::update(dossiers::table.find(id))
        .set((
            dossiers::agency_code.eq(agency),
            dossiers::status.eq(status.as_str()),
            dossiers::status_code.eq(status.national_code()),
            dossiers::version.eq(dossiers::version + 1),
            dossiers::updated_at.eq(now),
        ))
        .returning(DossierRow::as_returning())
        .get_result(conn)
        .await
}
