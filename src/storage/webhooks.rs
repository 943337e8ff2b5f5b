//! Webhook subscribers, their deliveries (one per subscriber and dossier
//! log row) and every attempt at sending one.

use chrono::{DateTime, Utc};
use diesel::{
    dsl::sql,
    prelude::*,
    sql_types::{Bool, Text, Uuid as SqlUuid},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{
    accounts, dossiers, jobs, webhook_attempts, webhook_deliveries, webhook_subscribers,
};
use crate::domain::webhook::{EventType, SubscriberState};

/// A subscriber.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_subscribers)]
pub struct SubscriberRow {
    /// Id.
    pub id: Uuid,
    /// What the administrator calls it.
    pub name: String,
    /// Where events are posted.
    pub url: String,
    /// The signing secret, sealed (context `webhook.secret:<id>`).
    pub secret: String,
    /// Service codes followed (empty: all).
    pub services: Vec<String>,
    /// Agency codes followed (empty: all).
    pub agencies: Vec<String>,
    /// Event types followed, as stored names of
    /// [`EventType`] (empty: all).
    pub event_types: Vec<String>,
    /// Whether the payload may name the applicant.
    pub personal_data: bool,
    /// Active or paused.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub state: SubscriberState,
    /// Registered.
    pub created_at: DateTime<Utc>,
    /// Last paused or resumed.
    pub updated_at: DateTime<Utc>,
}

/// A delivery: one event for one subscriber.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    /// Id (the `webhook-id` header).
    pub id: Uuid,
    /// The subscriber.
    pub subscriber_id: Uuid,
    /// The dossier.
    pub dossier_id: Uuid,
    /// The progress-log row the event is.
    pub seq: i32,
    /// The event.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub event_type: EventType,
    /// The body, exactly as signed and sent.
    pub payload: String,
    /// Queued.
    pub created_at: DateTime<Utc>,
    /// Answered with a 2xx (cleared by a replay).
    pub delivered_at: Option<DateTime<Utc>>,
    /// Attempts so far.
    pub attempts: i32,
    /// What the last attempt got (`200`, `HTTP 500`, `timed out` …).
    pub last_outcome: Option<String>,
}

/// One attempt at a delivery.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    /// The delivery.
    pub delivery_id: Uuid,
    /// 1 for the first.
    pub attempt: i32,
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// The subscriber's HTTP status, if it answered.
    pub http_status: Option<i16>,
    /// Why it did not answer (a timeout, a refused connection).
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i32,
}

/// What a payload says of a dossier.
#[derive(Debug, Clone, Queryable)]
pub struct DossierFacts {
    /// Its receipt code, once filed.
    pub receipt_code: Option<String>,
    /// The service.
    pub service_code: String,
    /// The agency handling it.
    pub agency_code: String,
    /// The applicant's name.
    pub applicant_name: String,
}

/// Registers a subscriber.
pub async fn insert_subscriber(
    conn: &mut AsyncPgConnection,
    row: &SubscriberRow,
) -> QueryResult<()> {
    diesel::insert_into(webhook_subscribers::table)
        .values(row.clone())
        .execute(conn)
        .await
        .map(drop)
}

/// Every subscriber, oldest first.
pub async fn subscribers(conn: &mut AsyncPgConnection) -> QueryResult<Vec<SubscriberRow>> {
    webhook_subscribers::table
        .order((webhook_subscribers::created_at, webhook_subscribers::id))
        .select(SubscriberRow::as_select())
        .load(conn)
        .await
}

/// One subscriber.
pub async fn subscriber(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<SubscriberRow>> {
    webhook_subscribers::table
        .find(id)
        .select(SubscriberRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Sets a subscriber's state; false for an unknown subscriber.
pub async fn set_state(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    state: SubscriberState,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(webhook_subscribers::table.find(id))
        .set((
            webhook_subscribers::state.eq(state.as_str()),
            webhook_subscribers::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// The subscribers (active or paused) following `event` of a dossier of
/// `service` at `agency`: `(id, personal data allowed)`.
pub async fn followers(
    conn: &mut AsyncPgConnection,
    service: &str,
    agency: &str,
    event: EventType,
) -> QueryResult<Vec<(Uuid, bool)>> {
    let follows = |column: &'static str, value: &str| {
        sql::<Bool>(&format!("(cardinality({column}) = 0 OR "))
            .bind::<Text, _>(value.to_owned())
            .sql(&format!(" = ANY({column}))"))
    };
    webhook_subscribers::table
        .filter(follows("services", service))
        .filter(follows("agencies", agency))
        .filter(follows("event_types", event.as_str()))
        .order(webhook_subscribers::id)
        .select((webhook_subscribers::id, webhook_subscribers::personal_data))
        .load(conn)
        .await
}

/// The dossier's facts a payload carries, `None` for an unknown dossier.
pub async fn dossier_facts(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
) -> QueryResult<Option<DossierFacts>> {
    dossiers::table
        .inner_join(accounts::table.on(accounts::id.eq(dossiers::applicant_id)))
        .filter(dossiers::id.eq(dossier))
        .select((
            dossiers::receipt_code,
            dossiers::service_code,
            dossiers::agency_code,
            accounts::full_name,
        ))
        .first(conn)
        .await
        .optional()
}

/// Inserts a delivery; false when the subscriber already has one for that
/// log row.
pub async fn insert_delivery(conn: &mut AsyncPgConnection, row: &DeliveryRow) -> QueryResult<bool> {
    diesel::insert_into(webhook_deliveries::table)
        .values(row.clone())
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// Whether an event of the dossier before `seq` still waits to reach the
/// subscriber. Locks those deliveries, so a concurrent success that would
/// queue the next one is seen either way (it commits first, or it waits).
pub async fn waits_behind(
    conn: &mut AsyncPgConnection,
    subscriber: Uuid,
    dossier: Uuid,
    seq: i32,
) -> QueryResult<bool> {
    let pending: Vec<Uuid> = webhook_deliveries::table
        .filter(webhook_deliveries::subscriber_id.eq(subscriber))
        .filter(webhook_deliveries::dossier_id.eq(dossier))
        .filter(webhook_deliveries::seq.lt(seq))
        .filter(webhook_deliveries::delivered_at.is_null())
        .select(webhook_deliveries::id)
        .for_update()
        .load(conn)
        .await?;
    Ok(!pending.is_empty())
}

/// A delivery and its subscriber.
pub async fn delivery(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<(DeliveryRow, SubscriberRow)>> {
    webhook_deliveries::table
        .inner_join(webhook_subscribers::table)
        .filter(webhook_deliveries::id.eq(id))
        .select((DeliveryRow::as_select(), SubscriberRow::as_select()))
        .first(conn)
        .await
        .optional()
}

/// What one attempt got.
#[derive(Debug, Clone)]
pub struct Attempted<'a> {
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// The subscriber's HTTP status, if it answered.
    pub http_status: Option<i16>,
    /// Why it did not answer.
    pub error: Option<&'a str>,
    /// How long it took.
    pub duration_ms: i32,
    /// A 2xx: the delivery is done.
    pub delivered: bool,
    /// The short outcome kept on the delivery.
    pub outcome: &'a str,
}

/// Records an attempt on the delivery (and marks it delivered on a 2xx);
/// returns the attempt's number. Call it in a transaction.
pub async fn record_attempt(
    conn: &mut AsyncPgConnection,
    delivery: Uuid,
    attempt: &Attempted<'_>,
) -> QueryResult<i32> {
    let number: i32 = diesel::update(webhook_deliveries::table.find(delivery))
        .set((
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::last_outcome.eq(attempt.outcome),
        ))
        .returning(webhook_deliveries::attempts)
        .get_result(conn)
        .await?;
    if attempt.delivered {
        diesel::update(webhook_deliveries::table.find(delivery))
            .set(webhook_deliveries::delivered_at.eq(attempt.at))
            .execute(conn)
            .await?;
    }
    diesel::insert_into(webhook_attempts::table)
        .values(AttemptRow {
            delivery_id: delivery,
            attempt: number,
            at: attempt.at,
            http_status: attempt.http_status,
            error: attempt.error.map(str::to_owned),
            duration_ms: attempt.duration_ms,
        })
        .execute(conn)
        .await?;
    Ok(number)
}

/// The next event of the dossier still to reach the subscriber after `seq`.
pub async fn next_pending(
    conn: &mut AsyncPgConnection,
    subscriber: Uuid,
    dossier: Uuid,
    seq: i32,
) -> QueryResult<Option<Uuid>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::subscriber_id.eq(subscriber))
        .filter(webhook_deliveries::dossier_id.eq(dossier))
        .filter(webhook_deliveries::seq.gt(seq))
        .filter(webhook_deliveries::delivered_at.is_null())
        .order(webhook_deliveries::seq)
        .select(webhook_deliveries::id)
        .first(conn)
        .await
        .optional()
}

/// The first undelivered event of each of the subscriber's dossiers (the
/// ones that go next; the rest follow them).
pub async fn pending_heads(
    conn: &mut AsyncPgConnection,
    subscriber: Uuid,
) -> QueryResult<Vec<Uuid>> {
    #[derive(QueryableByName)]
    struct Head {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    diesel::sql_query(
        "SELECT DISTINCT ON (dossier_id) id FROM webhook_deliveries \
         WHERE subscriber_id = $1 AND delivered_at IS NULL \
         ORDER BY dossier_id, seq",
    )
    .bind::<SqlUuid, _>(subscriber)
    .load::<Head>(conn)
    .await
    .map(|rows| rows.into_iter().map(|r| r.id).collect())
}

/// Marks a delivery to be sent again; its subscriber, `None` for an unknown
/// delivery.
pub async fn reopen(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Uuid>> {
    diesel::update(webhook_deliveries::table.find(id))
        .set(webhook_deliveries::delivered_at.eq(None::<DateTime<Utc>>))
        .returning(webhook_deliveries::subscriber_id)
        .get_result(conn)
        .await
        .optional()
}

/// Marks the subscriber's deliveries queued since `since` to be sent again;
/// how many.
pub async fn reopen_since(
    conn: &mut AsyncPgConnection,
    subscriber: Uuid,
    since: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::subscriber_id.eq(subscriber))
            .filter(webhook_deliveries::created_at.ge(since)),
    )
    .set(webhook_deliveries::delivered_at.eq(None::<DateTime<Utc>>))
    .execute(conn)
    .await
}

/// Makes the queued jobs of `kind` for these deliveries (their dedup key is
/// the delivery id) due now: a resumed subscriber or a replay does not wait
/// for a backoff computed while it was paused or failing.
pub async fn bring_forward(
    conn: &mut AsyncPgConnection,
    kind: &str,
    deliveries: &[Uuid],
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let keys: Vec<String> = deliveries.iter().map(Uuid::to_string).collect();
    diesel::update(
        jobs::table
            .filter(jobs::kind.eq(kind))
            .filter(jobs::state.eq(crate::domain::outbox::JobState::Queued.as_str()))
            .filter(jobs::dedup_key.eq_any(keys)),
    )
    .set(jobs::run_at.eq(now))
    .execute(conn)
    .await
}

/// A subscriber's deliveries, oldest first.
pub async fn deliveries_of(
    conn: &mut AsyncPgConnection,
    subscriber: Uuid,
) -> QueryResult<Vec<DeliveryRow>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::subscriber_id.eq(subscriber))
        .order((
            webhook_deliveries::created_at,
            webhook_deliveries::dossier_id,
            webhook_deliveries::seq,
        ))
        .select(DeliveryRow::as_select())
        .load(conn)
        .await
}

/// A delivery's attempts, first first.
pub async fn attempts_of(
    conn: &mut AsyncPgConnection,
    delivery: Uuid,
) -> QueryResult<Vec<AttemptRow>> {
    webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq(delivery))
        .order(webhook_attempts::attempt)
        .select(AttemptRow::as_select())
        .load(conn)
        .await
}

/// How many deliveries each subscriber still has to receive.
pub async fn pending_counts(
    conn: &mut AsyncPgConnection,
) -> QueryResult<std::collections::HashMap<Uuid, i64>> {
    let rows: Vec<(Uuid, i64)> = webhook_deliveries::table
        .filter(webhook_deliveries::delivered_at.is_null())
        .group_by(webhook_deliveries::subscriber_id)
        .select((webhook_deliveries::subscriber_id, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    Ok(rows.into_iter().collect())
}
