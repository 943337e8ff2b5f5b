//! The catalog's tables: agencies, the city's calendar days, services and
//! which agencies handle them; and what an agency's admin sets on top: its
//! opening hours, its own days, which of its services it offers.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{agencies, agency_days, calendar_days, service_agencies, services};

/// An agency.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = agencies)]
pub struct AgencyRow {
    /// Official unit code (in receipt codes).
    pub code: String,
    /// Name.
    pub name: String,
    /// The agency above it.
    pub parent_code: Option<String>,
    /// `city`, `department`, `district`, `ward` …
    pub tier: String,
    /// A short name.
    pub abbreviation: Option<String>,
    /// Address.
    pub address: String,
    /// Contact email.
    pub email: Option<String>,
    /// Opening hours.
    pub working_hours: serde_json::Value,
    /// Sample data, not a real agency.
    pub sample: bool,
    /// Last loaded.
    pub updated_at: DateTime<Utc>,
}

/// A service.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = services)]
pub struct ServiceRow {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Folded name and field, for search.
    pub search_text: String,
    /// Field (lĩnh vực).
    pub field: String,
    /// Agency levels that handle it.
    pub agency_levels: Vec<String>,
    /// `full` or `partial`.
    pub service_level: String,
    /// Working days to process.
    pub processing_days: i32,
    /// Fee in VND, when known.
    pub fee_vnd: Option<i64>,
    /// About the fee.
    pub fee_note: Option<String>,
    /// Required documents.
    pub required_documents: serde_json::Value,
    /// What the result is.
    pub result_type: serde_json::Value,
    /// The form's fields.
    pub form: serde_json::Value,
    /// Sample data.
    pub sample: bool,
    /// Last loaded.
    pub updated_at: DateTime<Utc>,
    /// When its fee is asked for.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub fee_stage: crate::domain::payment::FeeStage,
    /// The procedure's code in the national database (mã TTHC), when known.
    pub national_code: Option<String>,
}

/// Inserts or updates agencies (parents before children). Opening hours an
/// agency's admin set are kept.
pub async fn upsert_agencies(conn: &mut AsyncPgConnection, rows: &[AgencyRow]) -> QueryResult<()> {
    let kept: std::collections::HashMap<String, serde_json::Value> = agencies::table
        .filter(agencies::hours_changed_at.is_not_null())
        .select((agencies::code, agencies::working_hours))
        .load(conn)
        .await?
        .into_iter()
        .collect();
    for row in rows {
        let mut row = row.clone();
        if let Some(hours) = kept.get(&row.code) {
            row.working_hours = hours.clone();
        }
        diesel::insert_into(agencies::table)
            .values(&row)
            .on_conflict(agencies::code)
            .do_update()
            .set(&row)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Replaces the calendar days of the given years.
pub async fn replace_calendar_days(
    conn: &mut AsyncPgConnection,
    from: NaiveDate,
    to: NaiveDate,
    days: &[(NaiveDate, String, String)],
) -> QueryResult<()> {
    diesel::delete(
        calendar_days::table
            .filter(calendar_days::day.ge(from))
            .filter(calendar_days::day.le(to)),
    )
    .execute(conn)
    .await?;
    let rows: Vec<_> = days
        .iter()
        .map(|(day, kind, name)| {
            (
                calendar_days::day.eq(*day),
                calendar_days::kind.eq(kind),
                calendar_days::name.eq(name),
            )
        })
        .collect();
    diesel::insert_into(calendar_days::table)
        .values(&rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(drop)
}

/// Inserts or updates services and sets the agencies handling each.
pub async fn upsert_services(
    conn: &mut AsyncPgConnection,
    rows: &[(ServiceRow, Vec<String>)],
) -> QueryResult<()> {
    for (row, handled_by) in rows {
        diesel::insert_into(services::table)
            .values(row.clone())
            .on_conflict(services::code)
            .do_update()
            .set(row.clone())
            .execute(conn)
            .await?;
        // Links the catalog no longer names go; the others keep whether
        // the agency offers the service.
        diesel::delete(
            service_agencies::table
                .filter(service_agencies::service_code.eq(&row.code))
                .filter(diesel::dsl::not(
                    service_agencies::agency_code.eq_any(handled_by),
                )),
        )
        .execute(conn)
        .await?;
        let links: Vec<_> = handled_by
            .iter()
            .map(|a| {
                (
                    service_agencies::service_code.eq(&row.code),
                    service_agencies::agency_code.eq(a),
                )
            })
            .collect();
        diesel::insert_into(service_agencies::table)
            .values(&links)
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    // A national code removed from the file goes here too (the changeset
    // leaves a column whose value is `None` as it was).
    let uncoded: Vec<&str> = rows
        .iter()
        .filter(|(row, _)| row.national_code.is_none())
        .map(|(row, _)| row.code.as_str())
        .collect();
    diesel::update(
        services::table
            .filter(services::code.eq_any(uncoded))
            .filter(services::national_code.is_not_null()),
    )
    .set(services::national_code.eq(None::<String>))
    .execute(conn)
    .await?;
    Ok(())
}

/// Every agency, by code.
pub async fn agencies(conn: &mut AsyncPgConnection) -> QueryResult<Vec<AgencyRow>> {
    agencies::table
        .order(agencies::code)
        .select(AgencyRow::as_select())
        .load(conn)
        .await
}

/// An agency by code.
pub async fn agency(conn: &mut AsyncPgConnection, code: &str) -> QueryResult<Option<AgencyRow>> {
    agencies::table
        .find(code)
        .select(AgencyRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The calendar days between two dates.
pub async fn calendar_days(
    conn: &mut AsyncPgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<(NaiveDate, String)>> {
    calendar_days::table
        .filter(calendar_days::day.ge(from))
        .filter(calendar_days::day.le(to))
        .select((calendar_days::day, calendar_days::kind))
        .load(conn)
        .await
}

/// A service by code.
pub async fn service(conn: &mut AsyncPgConnection, code: &str) -> QueryResult<Option<ServiceRow>> {
    services::table
        .find(code)
        .select(ServiceRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The agencies taking new dossiers for a service, by code.
pub async fn agencies_of(conn: &mut AsyncPgConnection, service: &str) -> QueryResult<Vec<String>> {
    service_agencies::table
        .filter(service_agencies::service_code.eq(service))
        .filter(service_agencies::offered)
        .order(service_agencies::agency_code)
        .select(service_agencies::agency_code)
        .load(conn)
        .await
}

/// Whether `agency` handles `service` and takes new dossiers for it.
pub async fn handles(
    conn: &mut AsyncPgConnection,
    agency: &str,
    service: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        service_agencies::table
            .find((service, agency))
            .filter(service_agencies::offered),
    ))
    .get_result(conn)
    .await
}

/// A service, and whether `agency` takes new dossiers for it (`None`: the
/// catalog does not assign it to the agency), in one read.
pub async fn service_offered_by(
    conn: &mut AsyncPgConnection,
    service: &str,
    agency: &str,
) -> QueryResult<Option<(ServiceRow, Option<bool>)>> {
    services::table
        .left_join(
            service_agencies::table.on(service_agencies::service_code
                .eq(services::code)
                .and(service_agencies::agency_code.eq(agency))),
        )
        .filter(services::code.eq(service))
        .select((
            ServiceRow::as_select(),
            service_agencies::offered.nullable(),
        ))
        .first(conn)
        .await
        .optional()
}

/// What a search asks for.
#[derive(Debug, Clone, Default)]
pub struct ServiceQuery {
    /// Folded words, all of which must appear.
    pub words: Vec<String>,
    /// The folded query, for ranking.
    pub folded: String,
    /// Only services this agency handles.
    pub agency: Option<String>,
    /// Only this field.
    pub field: Option<String>,
    /// Only this service level.
    pub level: Option<String>,
    /// How many.
    pub limit: i64,
    /// Skipped (search results are ranked, so pages are by offset, kept small).
    pub offset: i64,
}

/// Services matching a query, best first.
pub async fn search(
    conn: &mut AsyncPgConnection,
    q: &ServiceQuery,
) -> QueryResult<Vec<ServiceRow>> {
    diesel::define_sql_function!(fn word_similarity(a: diesel::sql_types::Text, b: diesel::sql_types::Text) -> diesel::sql_types::Float4);
    diesel::define_sql_function!(fn similarity(a: diesel::sql_types::Text, b: diesel::sql_types::Text) -> diesel::sql_types::Float4);
    diesel::define_sql_function!(fn char_length(a: diesel::sql_types::Text) -> diesel::sql_types::Integer);
    let mut query = services::table.select(ServiceRow::as_select()).into_boxed();
    for word in &q.words {
        query = query.filter(services::search_text.like(format!("%{}%", escape_like(word))));
    }
    if let Some(field) = &q.field {
        query = query.filter(services::field.eq(field));
    }
    if let Some(level) = &q.level {
        query = query.filter(services::service_level.eq(level));
    }
    if let Some(agency) = &q.agency {
        query = query.filter(diesel::dsl::exists(
            service_agencies::table
                .filter(service_agencies::service_code.eq(services::code))
                .filter(service_agencies::agency_code.eq(agency.clone()))
                .filter(service_agencies::offered),
        ));
    }
    query
        // All words match; then the closest whole name (shorter, fewer other
        // words) first, then the shorter name, then by name.
        .order((
            word_similarity(q.folded.clone(), services::search_text).desc(),
            similarity(q.folded.clone(), services::search_text).desc(),
            char_length(services::name),
            services::name,
        ))
        .limit(q.limit)
        .offset(q.offset)
        .load(conn)
        .await
}

fn escape_like(word: &str) -> String {
    word.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// `(code, name)` of these services.
pub async fn service_names(
    conn: &mut AsyncPgConnection,
    codes: &[String],
) -> QueryResult<Vec<(String, String)>> {
    services::table
        .filter(services::code.eq_any(codes))
        .select((services::code, services::name))
        .load(conn)
        .await
}

/// `(code, name)` of the services an agency takes new dossiers for, by name.
pub async fn services_of(
    conn: &mut AsyncPgConnection,
    agency: &str,
) -> QueryResult<Vec<(String, String)>> {
    service_agencies::table
        .inner_join(services::table.on(services::code.eq(service_agencies::service_code)))
        .filter(service_agencies::agency_code.eq(agency))
        .filter(service_agencies::offered)
        .select((services::code, services::name))
        .order(services::name.asc())
        .load(conn)
        .await
}

/// `(code, name)` of these agencies.
pub async fn agency_names(
    conn: &mut AsyncPgConnection,
    codes: &[String],
) -> QueryResult<Vec<(String, String)>> {
    agencies::table
        .filter(agencies::code.eq_any(codes))
        .select((agencies::code, agencies::name))
        .load(conn)
        .await
}

/// `(code, name, field)` of the services an agency handles, offered now or
/// not (its queue may still hold their dossiers), by name.
pub async fn services_with_fields(
    conn: &mut AsyncPgConnection,
    agency: &str,
) -> QueryResult<Vec<(String, String, String)>> {
    service_agencies::table
        .inner_join(services::table.on(services::code.eq(service_agencies::service_code)))
        .filter(service_agencies::agency_code.eq(agency))
        .select((services::code, services::name, services::field))
        .order(services::name.asc())
        .load(conn)
        .await
}

/// A service an agency handles, and whether it takes new dossiers for it.
#[derive(Debug, Clone, Queryable)]
pub struct OfferRow {
    /// Service code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Field (lĩnh vực).
    pub field: String,
    /// Taking new dossiers.
    pub offered: bool,
    /// When the agency's admin last changed it.
    pub changed_at: Option<DateTime<Utc>>,
}

/// The services the catalog assigns to an agency, by field then name.
pub async fn offers(conn: &mut AsyncPgConnection, agency: &str) -> QueryResult<Vec<OfferRow>> {
    service_agencies::table
        .inner_join(services::table.on(services::code.eq(service_agencies::service_code)))
        .filter(service_agencies::agency_code.eq(agency))
        .select((
            services::code,
            services::name,
            services::field,
            service_agencies::offered,
            service_agencies::changed_at,
        ))
        .order((services::field.asc(), services::name.asc()))
        .load(conn)
        .await
}

/// Sets whether an agency takes new dossiers for a service it handles;
/// false if the catalog does not assign the service to the agency.
pub async fn set_offered(
    conn: &mut AsyncPgConnection,
    agency: &str,
    service: &str,
    offered: bool,
    by: uuid::Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(service_agencies::table.find((service, agency)))
        .set((
            service_agencies::offered.eq(offered),
            service_agencies::changed_by.eq(by),
            service_agencies::changed_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// Sets an agency's opening hours (they then survive catalog reloads).
pub async fn set_working_hours(
    conn: &mut AsyncPgConnection,
    agency: &str,
    hours: &serde_json::Value,
    by: uuid::Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(agencies::table.find(agency))
        .set((
            agencies::working_hours.eq(hours),
            agencies::hours_changed_by.eq(by),
            agencies::hours_changed_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// The city's calendar days between two dates, with their names, by date.
pub async fn city_days(
    conn: &mut AsyncPgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<(NaiveDate, String, String)>> {
    calendar_days::table
        .filter(calendar_days::day.ge(from))
        .filter(calendar_days::day.le(to))
        .select((calendar_days::day, calendar_days::kind, calendar_days::name))
        .order(calendar_days::day)
        .load(conn)
        .await
}

/// A day one agency keeps differently from the city.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = agency_days)]
pub struct AgencyDayRow {
    /// The agency.
    pub agency_code: String,
    /// The date (local).
    pub day: NaiveDate,
    /// `closed` or `worked`.
    pub kind: String,
    /// Why (shown to staff).
    pub name: String,
    /// The admin who set it.
    pub changed_by: uuid::Uuid,
    /// When.
    pub changed_at: DateTime<Utc>,
}

/// An agency's own days between two dates, by date.
pub async fn agency_days(
    conn: &mut AsyncPgConnection,
    agency: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<AgencyDayRow>> {
    agency_days::table
        .filter(agency_days::agency_code.eq(agency))
        .filter(agency_days::day.ge(from))
        .filter(agency_days::day.le(to))
        .select(AgencyDayRow::as_select())
        .order(agency_days::day)
        .load(conn)
        .await
}

/// Adds an agency's day; false if the agency already set that date.
pub async fn insert_agency_day(
    conn: &mut AsyncPgConnection,
    row: &AgencyDayRow,
) -> QueryResult<bool> {
    diesel::insert_into(agency_days::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// Removes an agency's day; the removed row, if there was one.
pub async fn delete_agency_day(
    conn: &mut AsyncPgConnection,
    agency: &str,
    day: NaiveDate,
) -> QueryResult<Option<AgencyDayRow>> {
    diesel::delete(agency_days::table.find((agency, day)))
        .returning(AgencyDayRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}
