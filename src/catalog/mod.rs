//! The service catalog: agencies (a tree of any depth, each with its opening
//! hours), the city's holidays, and the services with their forms. Loaded
//! from data/catalog by `eservices seed` (docs/CATALOG.md), read by the
//! public catalog API and, later, by dossiers (which services an agency
//! offers, their forms, their deadlines in the agency's working time).

pub mod agency_admin;
pub mod loader;

use chrono::{Datelike, NaiveTime};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::Code;
use crate::infra::Core;
use crate::{
    domain::{
        calendar::{Calendar, DayKind, Opening},
        form::FormField,
        search,
    },
    error::{AppError, AppResult},
    storage::catalog::{self as store, AgencyRow, ServiceQuery, ServiceRow},
};

/// An agency, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgencyView {
    /// Official unit code (appears in receipt codes).
    pub code: String,
    /// Name.
    pub name: String,
    /// The agency above it.
    pub parent: Option<String>,
    /// `city`, `department`, `district`, `ward` …
    pub tier: String,
    /// Address.
    pub address: String,
    /// Opening hours: `{weekday: 1..7, open: "07:30", close: "11:30"}`.
    #[schema(value_type = Vec<Object>)]
    pub working_hours: serde_json::Value,
    /// Sample data rather than a real agency.
    pub sample: bool,
}

impl From<AgencyRow> for AgencyView {
    fn from(row: AgencyRow) -> Self {
        Self {
            code: row.code,
            name: row.name,
            parent: row.parent_code,
            tier: row.tier,
            address: row.address,
            working_hours: row.working_hours,
            sample: row.sample,
        }
    }
}

/// A service in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceSummary {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Field (lĩnh vực).
    pub field: String,
    /// `full` (toàn trình) or `partial` (một phần).
    pub service_level: String,
    /// Processing time in working days.
    pub processing_days: i32,
    /// Fee in VND, when known.
    pub fee_vnd: Option<i64>,
    /// Sample data rather than a real procedure.
    pub sample: bool,
}

/// A service with everything needed to file it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceDetail {
    /// The summary.
    #[serde(flatten)]
    pub summary: ServiceSummary,
    /// Agency levels that handle it.
    pub agency_levels: Vec<String>,
    /// The agencies handling it, by code.
    pub agencies: Vec<String>,
    /// About the fee.
    pub fee_note: Option<String>,
    /// Required documents: `{type_code, name, copies, required}`.
    #[schema(value_type = Vec<Object>)]
    pub required_documents: serde_json::Value,
    /// What the result is: `{type_code, name}`.
    #[schema(value_type = Object)]
    pub result_type: serde_json::Value,
    /// The form's fields.
    #[schema(value_type = Vec<Object>)]
    pub form: serde_json::Value,
    /// The procedure's code in the national database (mã TTHC, e.g.
    /// `1.001193`), null when the catalog does not know it.
    #[schema(example = "1.001193")]
    pub national_code: Option<String>,
}

fn summary(row: &ServiceRow) -> ServiceSummary {
    ServiceSummary {
        code: row.code.clone(),
        name: row.name.clone(),
        field: row.field.clone(),
        service_level: row.service_level.clone(),
        processing_days: row.processing_days,
        fee_vnd: row.fee_vnd,
        sample: row.sample,
    }
}

/// Every agency.
pub async fn agencies(state: &Core) -> AppResult<Vec<AgencyView>> {
    let mut conn = state.db.get().await?;
    Ok(store::agencies(&mut conn)
        .await?
        .into_iter()
        .map(AgencyView::from)
        .collect())
}

/// A search of the catalog.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Words, with or without diacritics.
    pub q: Option<String>,
    /// Only services this agency handles.
    pub agency: Option<String>,
    /// Only this field.
    pub field: Option<String>,
    /// `full` or `partial`.
    pub level: Option<String>,
    /// Page size (1–100, default 20).
    pub limit: Option<i64>,
    /// Results skipped (at most 1,000).
    pub offset: Option<i64>,
}

/// Services matching a search, best first.
pub async fn search(state: &Core, s: &Search) -> AppResult<Vec<ServiceSummary>> {
    let q = s.q.as_deref().unwrap_or_default();
    if q.chars().count() > 200 {
        return Err(AppError::from(Code::QueryTooLong));
    }
    if let Some(level) = &s.level
        && !matches!(level.as_str(), "full" | "partial")
    {
        return Err(AppError::from(Code::InvalidServiceLevel));
    }
    let limit = s.limit.unwrap_or(20);
    let offset = s.offset.unwrap_or(0);
    if !(1..=100).contains(&limit) || !(0..=1000).contains(&offset) {
        return Err(AppError::from(Code::InvalidPage)
            .with_detail("limit từ 1 đến 100; offset từ 0 đến 1000."));
    }
    let query = ServiceQuery {
        words: search::words(q),
        folded: search::fold(q),
        agency: s.agency.clone(),
        field: s.field.clone(),
        level: s.level.clone(),
        limit,
        offset,
    };
    let mut conn = state.db.get().await?;
    Ok(store::search(&mut conn, &query)
        .await?
        .iter()
        .map(summary)
        .collect())
}

/// One service, with the agencies handling it and its form.
pub async fn service(state: &Core, code: &str) -> AppResult<ServiceDetail> {
    let not_found = || AppError::from(Code::ServiceNotFound);
    if code.len() > 32 {
        return Err(not_found());
    }
    let mut conn = state.db.get().await?;
    let row = store::service(&mut conn, code)
        .await?
        .ok_or_else(not_found)?;
    let agencies = store::agencies_of(&mut conn, code).await?;
    Ok(ServiceDetail {
        summary: summary(&row),
        agency_levels: row.agency_levels,
        agencies,
        fee_note: row.fee_note,
        required_documents: row.required_documents,
        result_type: row.result_type,
        form: row.form,
        national_code: row.national_code,
    })
}

/// A service's form fields.
pub fn form_of(row: &ServiceRow) -> AppResult<Vec<FormField>> {
    serde_json::from_value(row.form.clone()).map_err(AppError::internal)
}

/// What a decision establishes for one vault key: a form value or a constant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Establish {
    /// The form field whose filed value it takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A constant value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// What a service's decision issues (`result_type` in services.json).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResultType {
    /// The document type code of the result paper.
    pub type_code: String,
    /// Its name.
    pub name: String,
    /// Required-document codes of other services it stands for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub satisfies: Vec<String>,
    /// How long it is valid, in days (none: without limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_days: Option<u32>,
    /// Vault records the decision establishes, by vault key.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub establishes: std::collections::BTreeMap<String, Establish>,
}

/// The service's result, if it issues one.
pub fn result_of(row: &ServiceRow) -> AppResult<Option<ResultType>> {
    if row.result_type.is_null() {
        return Ok(None);
    }
    serde_json::from_value(row.result_type.clone())
        .map(Some)
        .map_err(AppError::internal)
}

/// The service's required documents: `(type code, required)`.
pub fn required_documents(row: &ServiceRow) -> Vec<(String, bool)> {
    row.required_documents
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|d| {
                    Some((
                        d.get("type_code")?.as_str()?.to_owned(),
                        d.get("required")
                            .and_then(serde_json::Value::as_bool)
                            .unwrap_or(true),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Parses stored opening hours (`[{weekday, open, close}]`).
pub fn openings(hours: &serde_json::Value) -> Result<Vec<Opening>, String> {
    let list = hours.as_array().ok_or("working_hours must be a list")?;
    list.iter()
        .map(|h| {
            let day = h["weekday"]
                .as_u64()
                .and_then(crate::domain::calendar::weekday)
                .ok_or("weekday must be 1 (Monday) … 7 (Sunday)")?;
            let time = |key: &str| {
                h[key]
                    .as_str()
                    .and_then(|s| NaiveTime::parse_from_str(s, "%H:%M").ok())
                    .ok_or(format!("{key} must be HH:MM"))
            };
            Ok(Opening {
                weekday: day,
                open: time("open")?,
                close: time("close")?,
            })
        })
        .collect()
}

/// The working calendar of an agency around `year` (that year and the next
/// two): its opening hours, the city's days, and its own days over those.
pub async fn calendar_for(
    conn: &mut diesel_async::AsyncPgConnection,
    agency: &AgencyRow,
    year: i32,
) -> AppResult<Calendar> {
    let from = chrono::NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    let to = chrono::NaiveDate::from_ymd_opt(year + 2, 12, 31).unwrap_or_default();
    let mut days: std::collections::BTreeMap<chrono::NaiveDate, DayKind> =
        store::calendar_days(conn, from, to)
            .await?
            .into_iter()
            .map(|(d, kind)| (d, day_kind(&kind)))
            .collect();
    for own in store::agency_days(conn, &agency.code, from, to).await? {
        days.insert(own.day, day_kind(&own.kind));
    }
    let openings =
        openings(&agency.working_hours).map_err(|e| AppError::internal(anyhow::anyhow!(e)))?;
    Calendar::new(openings, days).map_err(AppError::internal)
}

/// A stored day kind (the tables' CHECK allows only the two).
pub fn day_kind(kind: &str) -> DayKind {
    DayKind::parse(kind).unwrap_or(DayKind::Closed)
}

/// Opening hours as stored (`[{weekday, open, close}]`).
pub fn openings_json(openings: &[Opening]) -> serde_json::Value {
    serde_json::Value::Array(
        openings
            .iter()
            .map(|o| {
                serde_json::json!({
                    "weekday": o.weekday.number_from_monday(),
                    "open": o.open.format("%H:%M").to_string(),
                    "close": o.close.format("%H:%M").to_string(),
                })
            })
            .collect(),
    )
}

/// The year of a date in the city (for calendar look-ups).
pub fn city_year(at: chrono::DateTime<chrono::Utc>) -> i32 {
    at.with_timezone(&crate::domain::calendar::city_tz()).year()
}
