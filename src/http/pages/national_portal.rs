//! The agency admin's page of dossiers the National Public Service Portal
//! did not take for good (why, since when), each with a "Gửi lại" form
//! (CSRF) that queues it again. A thin door to
//! integrations::national_portal::admin.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    PageResult, desk::local, form_messages, html, render, shown_on_form, staff_guard::SignedInStaff,
};
use crate::{
    error::{AppError, Code, ErrorKind},
    http::{AppState, csrf},
    identity::staff::StaffSession,
    integrations::national_portal::admin,
};

/// One failure as the page lists it.
struct Line {
    dossier_id: Uuid,
    receipt_code: String,
    service: String,
    agency_code: String,
    own_agency: bool,
    failed_at: String,
    failure: String,
}

#[derive(Template)]
#[template(path = "backoffice/national_portal.html")]
struct NationalPortalPage<'a> {
    csrf_token: &'a str,
    lines: Vec<Line>,
    city_wide: bool,
    next: Option<String>,
    notice: Option<&'a str>,
    errors: Vec<String>,
}

/// The page's query: a notice after a re-send, the keyset of a later page.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    id: String,
}

fn keyset(query: &PageQuery) -> Result<Option<(DateTime<Utc>, Uuid)>, AppError> {
    if query.at.is_empty() && query.id.is_empty() {
        return Ok(None);
    }
    let bad = || AppError::from(Code::InvalidPage).with_detail("Trang không hợp lệ.");
    let at = DateTime::parse_from_rfc3339(&query.at)
        .map_err(|_| bad())?
        .with_timezone(&Utc);
    let id = Uuid::parse_str(&query.id).map_err(|_| bad())?;
    Ok(Some((at, id)))
}

fn next_link((at, id): (DateTime<Utc>, Uuid)) -> String {
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let at: String = url::form_urlencoded::byte_serialize(at.as_bytes()).collect();
    format!("/backoffice/national-portal?at={at}&id={id}")
}

async fn page(
    state: &AppState,
    req: &HttpRequest,
    session: &StaffSession,
    query: &PageQuery,
    status: StatusCode,
    errors: Vec<String>,
) -> PageResult {
    let failures = admin::failures(state, session, keyset(query)?).await?;
    let lines = failures
        .items
        .into_iter()
        .map(|f| Line {
            dossier_id: f.dossier_id,
            receipt_code: f.receipt_code.unwrap_or_default(),
            service: format!("{} – {}", f.service_code, f.service_name),
            own_agency: f.agency_code == session.agency_code,
            agency_code: f.agency_code,
            failed_at: local(&f.failed_at),
            failure: f.failure,
        })
        .collect();
    let (csrf_token, cookie) = csrf::token_for(state, req);
    let notice = (query.done == "resent").then_some(
        "Đã xếp hồ sơ vào hàng đợi gửi lại; hệ thống sẽ gửi lên Cổng Dịch vụ công quốc gia trong ít phút.",
    );
    let body = render(&NationalPortalPage {
        csrf_token: &csrf_token,
        lines,
        city_wide: failures.city_wide,
        next: failures.next.map(next_link),
        notice,
        errors,
    })?;
    Ok(html(status, body, cookie))
}

/// `GET /backoffice/national-portal`: what the portal did not take.
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedInStaff(session): SignedInStaff,
    query: web::Query<PageQuery>,
) -> PageResult {
    page(&state, &req, &session, &query, StatusCode::OK, Vec::new()).await
}

/// The "Gửi lại" form.
#[derive(Debug, Deserialize)]
pub struct ResendForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /backoffice/national-portal/{id}/resend`: queues the dossier again.
pub async fn resend(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedInStaff(session): SignedInStaff,
    path: web::Path<String>,
    form: web::Form<ResendForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let outcome = match Uuid::parse_str(path.trim()) {
        Ok(id) => admin::resend(&state, &session, id).await,
        Err(_) => Err(AppError::from(Code::DossierNotFound)),
    };
    match outcome {
        Ok(()) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/backoffice/national-portal?done=resent"))
            .finish()),
        Err(err) if shown_on_form(&err) || err.kind() == ErrorKind::NotFound => {
            let status = err.kind().status();
            let query = PageQuery::default();
            page(&state, &req, &session, &query, status, form_messages(&err)).await
        }
        Err(err) => Err(err.into()),
    }
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/backoffice/national-portal").route(web::get().to(list)))
        .service(
            web::resource("/backoffice/national-portal/{id}/resend").route(web::post().to(resend)),
        );
}
