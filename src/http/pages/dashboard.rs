//! The dashboard page and its CSV export (figures from `dossiers::stats`).

use actix_web::{HttpResponse, http::StatusCode, http::header, web};
use askama::Template;
use chrono::Datelike;
use serde::Deserialize;

use super::{PageResult, desk::local, html, render, staff_guard::SignedInStaff};
use crate::{
    domain::chart,
    dossiers::stats::{self, Dashboard, Figures},
    http::AppState,
};

/// `?year=2026&agency=CODE` (the agency only for the city's view).
#[derive(Debug, Deserialize)]
pub struct DashboardQuery {
    year: Option<i32>,
    #[serde(default)]
    agency: String,
}

#[derive(Template)]
#[template(path = "backoffice/dashboard.html")]
struct DashboardPage<'a> {
    d: &'a Dashboard,
    chart: String,
    refreshed: String,
    csv: String,
    city: bool,
    /// The viewer may see every agency (a city admin).
    city_admin: bool,
}

impl DashboardPage<'_> {
    fn pct(&self, v: Option<f64>) -> String {
        v.map_or_else(|| "–".to_owned(), |p| format!("{p:.1} %").replace('.', ","))
    }
    fn vnd(&self, amount: impl std::borrow::Borrow<i64>) -> String {
        crate::dossiers::fees::vnd(*amount.borrow())
    }
    fn online_ok(&self, f: &Figures) -> bool {
        f.online_pct().is_some_and(|p| p >= 60.0)
    }
}

fn year_of(state: &AppState, query: &DashboardQuery) -> i32 {
    query.year.unwrap_or_else(|| {
        state
            .clock
            .now()
            .with_timezone(&crate::domain::calendar::city_tz())
            .year()
    })
}

fn agency_param(raw: &str) -> Option<&str> {
    Some(raw.trim()).filter(|a| !a.is_empty())
}

/// `GET /backoffice/dashboard`.
pub async fn page(
    state: web::Data<AppState>,
    SignedInStaff(session): SignedInStaff,
    query: web::Query<DashboardQuery>,
) -> PageResult {
    let agency = stats::scope(&session, agency_param(&query.agency))?;
    let year = year_of(&state, &query);
    let d = stats::dashboard(&state, year, agency.as_deref()).await?;
    let groups: Vec<(String, i64, i64)> = d
        .by_month
        .iter()
        .map(|(m, f)| (format!("T{m}"), f.received, f.online))
        .collect();
    let mut csv = format!("/backoffice/dashboard.csv?year={year}");
    if let Some(a) = &agency {
        csv.push_str(&format!("&agency={a}"));
    }
    let body = render(&DashboardPage {
        chart: chart::bars(&format!("Hồ sơ tiếp nhận theo tháng năm {year}"), &groups),
        refreshed: d.refreshed_at.as_ref().map(local).unwrap_or_default(),
        csv,
        city: agency.is_none(),
        city_admin: stats::sees_city(&session),
        d: &d,
    })?;
    Ok(html(StatusCode::OK, body, None))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// `GET /backoffice/dashboard.csv`: one line per agency, service and month.
pub async fn csv(
    state: web::Data<AppState>,
    SignedInStaff(session): SignedInStaff,
    query: web::Query<DashboardQuery>,
) -> PageResult {
    let agency = stats::scope(&session, agency_param(&query.agency))?;
    let year = year_of(&state, &query);
    let rows = stats::rows(&state, &session, year, agency.as_deref()).await?;
    let mut out =
        String::from("agency_code,service_code,month,received,online,decided,on_time,overdue\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            csv_field(&r.agency_code),
            csv_field(&r.service_code),
            r.month.format("%Y-%m"),
            r.received,
            r.online,
            r.decided,
            r.on_time,
            r.overdue
        ));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"bao-cao-{year}.csv\""),
        ))
        .body(out))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/backoffice/dashboard").route(web::get().to(page)))
        .service(web::resource("/backoffice/dashboard.csv").route(web::get().to(csv)));
}
