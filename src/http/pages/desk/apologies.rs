//! The overdue dossiers' apology letters: the list waiting for approval and
//! an approver's approval (with the new appointment date).

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, http::header, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::{date, local};
use crate::error::Code;
use crate::{
    domain::calendar::city_tz,
    error::AppError,
    http::{
        AppState, csrf,
        pages::{PageResult, html, render, shown_on_form, staff_guard::SignedInStaff},
    },
    identity::staff::StaffSession,
};

#[derive(Template)]
#[template(path = "backoffice/apologies.html")]
struct ApologiesPage<'a> {
    csrf_token: &'a str,
    letters: Vec<crate::dossiers::overdue::ApologyView>,
    approver: bool,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

impl ApologiesPage<'_> {
    fn when(&self, at: &DateTime<Utc>) -> String {
        local(at)
    }
}

async fn apologies_page(
    state: &AppState,
    req: &HttpRequest,
    session: &StaffSession,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> PageResult {
    let letters = crate::dossiers::overdue::drafted(state, session).await?;
    let (csrf_token, cookie) = csrf::token_for(state, req);
    let body = render(&ApologiesPage {
        csrf_token: &csrf_token,
        letters,
        approver: session.has(crate::domain::staff::StaffRole::Approver),
        notice,
        error,
    })?;
    Ok(html(status, body, cookie))
}

/// Query of the apologies page.
#[derive(Debug, Deserialize)]
pub struct ApologiesQuery {
    sent: Option<String>,
}

/// `GET /backoffice/apologies`: overdue dossiers' letters waiting for approval.
pub async fn apologies(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedInStaff(session): SignedInStaff,
    query: web::Query<ApologiesQuery>,
) -> PageResult {
    let notice = query
        .sent
        .as_ref()
        .map(|_| "Đã duyệt và gửi thư xin lỗi; ngày hẹn mới đã được ghi vào hồ sơ.");
    apologies_page(&state, &req, &session, StatusCode::OK, notice, None).await
}

/// The approval form of a letter.
#[derive(Debug, Deserialize)]
pub struct ApologyForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    new_due: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /backoffice/apologies/{id}/approve`.
pub async fn approve_apology(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedInStaff(session): SignedInStaff,
    path: web::Path<String>,
    form: web::Form<ApologyForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let outcome = async {
        if form.confirm != "yes" {
            return Err(AppError::from(Code::ConfirmationRequired));
        }
        let id =
            Uuid::parse_str(&path).map_err(|_| crate::dossiers::errors::apology_not_found())?;
        // A date chosen means the end of that working day's afternoon, local time.
        let new_due = date(&form.new_due, "Ngày hẹn mới")?
            .and_then(|d| d.and_hms_opt(17, 0, 0))
            .and_then(|t| {
                use chrono::TimeZone;
                city_tz().from_local_datetime(&t).single()
            })
            .map(|t| t.with_timezone(&Utc));
        crate::dossiers::overdue::approve(&state, &session, id, new_due, &form.reason).await
    }
    .await;
    match outcome {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/backoffice/apologies?sent=1"))
            .finish()),
        Err(err) if shown_on_form(&err) => {
            let status = err.kind().status();
            apologies_page(&state, &req, &session, status, None, Some(err.detail())).await
        }
        Err(err) => Err(err.into()),
    }
}
