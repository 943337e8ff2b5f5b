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
    for view in [
        "dossier_monthly_stats",
        "dossier_service_stats",
        "dossier_agency_stats",
    ] {
        diesel::sql_query(format!("REFRESH MATERIALIZED VIEW CONCURRENTLY {view}"))
            .execute(conn)
            .await?;
    }
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

/// Figures of one month and one key (a service or an agency).
#[derive(Debug, Clone, QueryableByName)]
pub struct KeyedRow {
    /// The service or agency code.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub key: String,
    /// First day of the month.
    #[diesel(sql_type = diesel::sql_types::Date)]
    pub month: NaiveDate,
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

/// How figures are keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The whole city, by service (`dossier_service_stats`).
    CityService,
    /// The whole city, by agency (`dossier_agency_stats`).
    CityAgency,
}

/// The city's figures of months in `[from, to)`, keyed by service or agency.
pub async fn city(
    conn: &mut AsyncPgConnection,
    by: By,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<KeyedRow>> {
    let (view, key) = match by {
        By::CityService => ("dossier_service_stats", "service_code"),
        By::CityAgency => ("dossier_agency_stats", "agency_code"),
    };
    diesel::sql_query(format!(
        "SELECT {key} AS key, month, received, online, decided, on_time, overdue \
         FROM {view} WHERE month >= $1 AND month < $2"
    ))
    .bind::<diesel::sql_types::Date, _>(from)
    .bind::<diesel::sql_types::Date, _>(to)
    .load(conn)
    .await
}
