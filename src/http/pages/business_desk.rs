//! The receiver's proof-of-representation desk: business registrations
//! waiting for this agency's counter, each with a confirm/reject form (CSRF,
//! a required confirmation box, the evidence seen).

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    error::{AppError, ErrorKind},
    http::AppState,
    http::{
        csrf,
        pages::{
            PageResult,
            backoffice::{MaybeStaff, to_login},
            desk::local,
            form_messages, html, render, shown_on_form,
        },
    },
    identity::{
        ClientInfo,
        business_registrations::{self, PendingRegistration},
        staff::StaffSession,
    },
};

#[derive(Template)]
#[template(path = "backoffice/businesses.html")]
struct BusinessesPage<'a> {
    csrf_token: &'a str,
    pending: Vec<PendingRegistration>,
    notice: Option<&'a str>,
    errors: Vec<String>,
}

impl BusinessesPage<'_> {
    fn when(&self, at: &DateTime<Utc>) -> String {
        local(at)
    }
}

async fn page(
    state: &AppState,
    req: &HttpRequest,
    session: &StaffSession,
    status: StatusCode,
    notice: Option<&str>,
    errors: Vec<String>,
) -> PageResult {
    let pending = business_registrations::pending(state, session).await?;
    let (csrf_token, cookie) = csrf::token_for(state, req);
    let body = render(&BusinessesPage {
        csrf_token: &csrf_token,
        pending,
        notice,
        errors,
    })?;
    Ok(html(status, body, cookie))
}

/// Query of the list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    done: Option<String>,
}

/// `GET /backoffice/businesses`: the registrations waiting for this desk.
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    query: web::Query<ListQuery>,
) -> PageResult {
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let notice = match query.done.as_deref() {
        Some("confirmed") => Some("Đã xác nhận người đại diện; công dân được thông báo qua email."),
        Some("rejected") => Some("Đã từ chối đăng ký; công dân được thông báo qua email."),
        _ => None,
    };
    page(&state, &req, &session, StatusCode::OK, notice, Vec::new()).await
}

/// The decision form.
#[derive(Debug, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /backoffice/businesses/{id}/decide`.
pub async fn decide(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    current: MaybeStaff,
    path: web::Path<String>,
    form: web::Form<DecideForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let outcome = async {
        if form.confirm != "yes" {
            return Err(
                AppError::new(ErrorKind::Unprocessable, "confirmation_required").with_detail(
                    "Vui lòng đánh dấu xác nhận đã kiểm tra giấy tờ trước khi thực hiện.",
                ),
            );
        }
        let id = Uuid::parse_str(path.trim()).map_err(|_| {
            AppError::not_found("registration_not_found")
                .with_detail("Không tìm thấy đăng ký doanh nghiệp.")
        })?;
        business_registrations::decide(
            &state,
            &session,
            id,
            &form.decision,
            &form.evidence,
            &client,
        )
        .await
    }
    .await;
    match outcome {
        Ok(status) => Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/backoffice/businesses?done={}", status.as_str()),
            ))
            .finish()),
        Err(err) if shown_on_form(&err) || err.kind() == ErrorKind::NotFound => {
            let status = err.kind().status();
            page(&state, &req, &session, status, None, form_messages(&err)).await
        }
        Err(err) => Err(err.into()),
    }
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/backoffice/businesses").route(web::get().to(list)))
        .service(web::resource("/backoffice/businesses/{id}/decide").route(web::post().to(decide)));
}
