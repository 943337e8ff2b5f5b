//! Fee requests, payments and the log of payment callbacks.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{fee_requests, payment_callbacks, payments};
use crate::domain::payment::{Channel, FeeStage, PaymentStatus};

/// A fee asked of a dossier's applicant.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = fee_requests)]
pub struct FeeRequestRow {
    /// Id.
    pub id: Uuid,
    /// The dossier.
    pub dossier_id: Uuid,
    /// Amount in VND.
    pub amount_vnd: i64,
    /// At filing or on request.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub stage: FeeStage,
    /// What it is for (shown to the payer and on the receipt).
    pub description: String,
    /// Asked for.
    pub requested_at: DateTime<Utc>,
    /// Paid.
    pub paid_at: Option<DateTime<Utc>>,
}

/// A payment of a fee request.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    /// Id.
    pub id: Uuid,
    /// The fee request it pays.
    pub fee_request_id: Uuid,
    /// The dossier.
    pub dossier_id: Uuid,
    /// The payer (the applicant).
    pub payer_id: Uuid,
    /// Amount in VND.
    pub amount_vnd: i64,
    /// Online or at the counter.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub channel: Channel,
    /// Its state.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: PaymentStatus,
    /// Our transaction id at the platform.
    pub transaction_id: String,
    /// The platform's transaction id.
    pub platform_transaction_id: Option<String>,
    /// Where the payer pays.
    pub payment_url: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expires if still pending.
    pub expires_at: DateTime<Utc>,
    /// Paid, failed, cancelled or expired.
    pub settled_at: Option<DateTime<Utc>>,
    /// The electronic receipt in the payer's vault.
    pub receipt_document_id: Option<Uuid>,
    /// The receiver who took a counter payment.
    pub recorded_by: Option<Uuid>,
}

/// Records a fee request.
pub async fn insert_fee_request(
    conn: &mut AsyncPgConnection,
    row: &FeeRequestRow,
) -> QueryResult<()> {
    diesel::insert_into(fee_requests::table)
        .values(row.clone())
        .execute(conn)
        .await
        .map(drop)
}

/// The dossier's open (unpaid) fee request, locked.
pub async fn open_fee_for_update(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
) -> QueryResult<Option<FeeRequestRow>> {
    fee_requests::table
        .filter(fee_requests::dossier_id.eq(dossier))
        .filter(fee_requests::paid_at.is_null())
        .select(FeeRequestRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// A fee request, locked.
pub async fn fee_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<FeeRequestRow>> {
    fee_requests::table
        .find(id)
        .select(FeeRequestRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Marks a fee request paid.
pub async fn mark_fee_paid(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(fee_requests::table.find(id))
        .set(fee_requests::paid_at.eq(at))
        .execute(conn)
        .await
        .map(drop)
}

/// Records a payment.
pub async fn insert_payment(conn: &mut AsyncPgConnection, row: &PaymentRow) -> QueryResult<()> {
    diesel::insert_into(payments::table)
        .values(row.clone())
        .execute(conn)
        .await
        .map(drop)
}

/// The pending payment of a fee request, locked.
pub async fn pending_for_fee(
    conn: &mut AsyncPgConnection,
    fee: Uuid,
) -> QueryResult<Option<PaymentRow>> {
    payments::table
        .filter(payments::fee_request_id.eq(fee))
        .filter(payments::status.eq(PaymentStatus::Pending.as_str()))
        .select(PaymentRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// A payment by our transaction id, locked.
pub async fn by_transaction_for_update(
    conn: &mut AsyncPgConnection,
    transaction_id: &str,
) -> QueryResult<Option<PaymentRow>> {
    payments::table
        .filter(payments::transaction_id.eq(transaction_id))
        .select(PaymentRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// A dossier's payments, oldest first.
pub async fn of_dossier(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
) -> QueryResult<Vec<PaymentRow>> {
    payments::table
        .filter(payments::dossier_id.eq(dossier))
        .order((payments::created_at.asc(), payments::id.asc()))
        .select(PaymentRow::as_select())
        .load(conn)
        .await
}

/// Stores where the payer pays, once the platform answered.
pub async fn set_created(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    platform_transaction_id: &str,
    payment_url: &str,
) -> QueryResult<()> {
    diesel::update(payments::table.find(id))
        .set((
            payments::platform_transaction_id.eq(platform_transaction_id),
            payments::payment_url.eq(payment_url),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Settles a payment: its new status, when, its platform id and receipt.
pub async fn settle(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: PaymentStatus,
    at: DateTime<Utc>,
    platform_transaction_id: Option<&str>,
    receipt: Option<Uuid>,
) -> QueryResult<()> {
    diesel::update(payments::table.find(id))
        .set((
            payments::status.eq(status.as_str()),
            payments::settled_at.eq(at),
            payments::receipt_document_id.eq(receipt),
        ))
        .execute(conn)
        .await?;
    if let Some(platform_id) = platform_transaction_id {
        diesel::update(payments::table.find(id))
            .filter(payments::platform_transaction_id.is_null())
            .set(payments::platform_transaction_id.eq(platform_id))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Transaction ids of payments pending since before `before` (oldest first, at most `limit`).
pub async fn pending_since(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<String>> {
    payments::table
        .filter(payments::status.eq(PaymentStatus::Pending.as_str()))
        .filter(payments::created_at.lt(before))
        .order(payments::created_at.asc())
        .limit(limit)
        .select(payments::transaction_id)
        .load(conn)
        .await
}

/// Notes a callback received and what became of it.
pub async fn record_callback(
    conn: &mut AsyncPgConnection,
    at: DateTime<Utc>,
    transaction_id: Option<&str>,
    outcome: &str,
    detail: &str,
) -> QueryResult<()> {
    diesel::insert_into(payment_callbacks::table)
        .values((
            payment_callbacks::received_at.eq(at),
            payment_callbacks::transaction_id.eq(transaction_id),
            payment_callbacks::outcome.eq(outcome),
            payment_callbacks::detail.eq(detail),
        ))
        .execute(conn)
        .await
        .map(drop)
}

#[derive(QueryableByName)]
struct ChannelSum {
    #[diesel(sql_type = diesel::sql_types::Text)]
    channel: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    amount: i64,
}

/// Fees paid (VND) from day `from` to before day `to` (the city's days), of
/// `agency`'s dossiers or the city's: (online, at the counter).
pub async fn collected(
    conn: &mut AsyncPgConnection,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    agency: Option<&str>,
) -> QueryResult<(i64, i64)> {
    let rows: Vec<ChannelSum> = diesel::sql_query(
        "SELECT p.channel, coalesce(sum(p.amount_vnd), 0)::bigint AS amount \
         FROM payments p JOIN dossiers d ON d.id = p.dossier_id \
         WHERE p.status = 'paid' \
           AND p.settled_at >= ($1::date)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh' \
           AND p.settled_at < ($2::date)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh' \
           AND ($3::text IS NULL OR d.agency_code = $3) \
         GROUP BY p.channel",
    )
    .bind::<diesel::sql_types::Date, _>(from)
    .bind::<diesel::sql_types::Date, _>(to)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(agency)
    .load(conn)
    .await?;
    let of = |c: Channel| {
        rows.iter()
            .find(|r| r.channel == c.as_str())
            .map_or(0, |r| r.amount)
    };
    Ok((of(Channel::Online), of(Channel::Counter)))
}

/// A payment problem staff must see: a payment to refund, or a callback
/// refused for its amount or its checksum.
#[derive(Debug, Clone, QueryableByName)]
pub struct AlertRow {
    /// When.
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub at: DateTime<Utc>,
    /// `refund_due`, `wrong_amount` or `forged`.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub kind: String,
    /// The transaction named.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub transaction_id: Option<String>,
    /// Its dossier, when it is one of ours.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    pub dossier_id: Option<Uuid>,
    /// That dossier's receipt code.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub receipt_code: Option<String>,
    /// That dossier's agency.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub agency_code: Option<String>,
}

/// The latest payment problems (at most `limit`), of `agency`'s dossiers or,
/// for `None`, of the whole city (callbacks naming no payment of ours too).
pub async fn alerts(
    conn: &mut AsyncPgConnection,
    agency: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<AlertRow>> {
    diesel::sql_query(
        "SELECT * FROM ( \
           SELECT p.settled_at AS at, 'refund_due' AS kind, p.transaction_id, d.id AS dossier_id, \
                  d.receipt_code, d.agency_code \
           FROM payments p JOIN dossiers d ON d.id = p.dossier_id \
           WHERE p.status = 'refund_due' AND p.settled_at IS NOT NULL \
           UNION ALL \
           SELECT c.received_at, c.outcome, c.transaction_id, d.id, d.receipt_code, d.agency_code \
           FROM payment_callbacks c \
           LEFT JOIN payments p ON p.transaction_id = c.transaction_id \
           LEFT JOIN dossiers d ON d.id = p.dossier_id \
           WHERE c.outcome IN ('wrong_amount', 'forged') \
         ) a \
         WHERE $1::text IS NULL OR a.agency_code = $1 \
         ORDER BY a.at DESC LIMIT $2",
    )
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(agency)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)
    .await
}
