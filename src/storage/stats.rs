//! The dashboard's precomputed figures (`dossier_monthly_stats`, a
//! materialized view) and when they were refreshed.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{dossier_monthly_stats as stats, stats_refreshes};

/// Figures of one agency, service and month.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = stats)]
pub struct StatRow {
    /// The agency.
    pub agency_code: String,
    /// The service.
    pub service_code: String,
    /// First day of the month of filing.
    pub month: NaiveDate,
    /// Filed.
    pub received: i64,
    /// Filed online.
    pub online: i64,
    /// Decided.
    pub decided: i64,
    /// Decided by the due date.
    pub on_time: i64,
    /// Overdue at the refresh.
    pub overdue: i64,
}

/// Recomputes the figures (readers keep reading the old ones meanwhile).
pub async fn refresh(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::sql_query("REFRESH MATERIALIZED VIEW CONCURRENTLY dossier_monthly_stats")
        .execute(conn)
        .await?;
    diesel::insert_into(stats_refreshes::table)
        .values((
            stats_refreshes::name.eq("dossier_monthly_stats"),
            stats_refreshes::refreshed_at.eq(now),
        ))
        .on_conflict(stats_refreshes::name)
        .do_update()
        .set(stats_refreshes::refreshed_at.eq(now))
        .execute(conn)
        .await
        .map(|_| ())
}

/// When the figures were last refreshed.
pub async fn refreshed_at(conn: &mut AsyncPgConnection) -> QueryResult<Option<DateTime<Utc>>> {
    stats_refreshes::table
        .find("dossier_monthly_stats")
        .select(stats_refreshes::refreshed_at)
        .first(conn)
        .await
        .optional()
}

/// The rows of months in `[from, to)`, of one agency or of all.
pub async fn rows(
    conn: &mut AsyncPgConnection,
    from: NaiveDate,
    to: NaiveDate,
    agency: Option<&str>,
) -> QueryResult<Vec<StatRow>> {
    let mut query = stats::table
        .filter(stats::month.ge(from))
        .filter(stats::month.lt(to))
        .select(StatRow::as_select())
        .into_boxed();
    if let Some(a) = agency {
        query = query.filter(stats::agency_code.eq(a.to_owned()));
    }
    query.load(conn).await
}

/// Sums of one group: a month, a service or an agency (the others `None`).
#[derive(Debug, Clone, QueryableByName)]
pub struct GroupRow {
    /// The month, for a month's group.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    pub month: Option<NaiveDate>,
    /// The service, for a service's group.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub service_code: Option<String>,
    /// The agency, for an agency's group.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub agency_code: Option<String>,
    /// Filed.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub received: i64,
    /// Filed online.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub online: i64,
    /// Decided.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub decided: i64,
    /// Decided by the due date.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub on_time: i64,
    /// Overdue.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub overdue: i64,
}

/// The months' `[from, to)` figures summed by month, by service and by
/// agency in one pass (of one agency, or of all).
pub async fn grouped(
    conn: &mut AsyncPgConnection,
    from: NaiveDate,
    to: NaiveDate,
    agency: Option<&str>,
) -> QueryResult<Vec<GroupRow>> {
    diesel::sql_query(
        "SELECT month, service_code, agency_code, \
                sum(received)::bigint AS received, sum(online)::bigint AS online, \
                sum(decided)::bigint AS decided, sum(on_time)::bigint AS on_time, \
                sum(overdue)::bigint AS overdue \
         FROM dossier_monthly_stats \
         WHERE month >= $1 AND month < $2 AND ($3::text IS NULL OR agency_code = $3) \
         GROUP BY GROUPING SETS ((month), (service_code), (agency_code))",
    )
    .bind::<diesel::sql_types::Date, _>(from)
    .bind::<diesel::sql_types::Date, _>(to)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(agency)
    .load(conn)
    .await
}
