//! The counter identity check's pages: look up the account holding a national
//! ID, then confirm with the citizen (`identity::counter_check`).

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use askama::Template;
use serde::Deserialize;

use crate::{
    domain::staff::StaffRole,
    error::{AppError, ErrorKind},
    http::AppState,
    http::{
        csrf,
        pages::{
            PageError, PageResult,
            backoffice::{MaybeStaff, to_login},
            html, render, shown_on_form,
        },
    },
    identity::{
        ClientInfo,
        counter_check::{self, CounterConfirmation, HolderSummary},
    },
};

#[derive(Template)]
#[template(path = "backoffice/verify_identity.html")]
struct LookUpPage<'a> {
    csrf_token: &'a str,
    national_id: &'a str,
    evidence: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "backoffice/verify_identity_confirm.html")]
struct ConfirmPage<'a> {
    csrf_token: &'a str,
    form: &'a CheckForm,
    holder: &'a HolderSummary,
    errors: Vec<String>,
}

impl ConfirmPage<'_> {
    fn sex_is(&self, sex: &str) -> bool {
        let chosen = if self.form.sex.is_empty() {
            &self.holder.sex
        } else {
            &self.form.sex
        };
        chosen == sex
    }
}

/// Both steps' form (step one has only the first fields).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CheckForm {
    csrf_token: String,
    national_id: String,
    evidence: String,
    /// `confirm` on step two.
    step: String,
    account_id: String,
    recognised: String,
    confirm: String,
    email: String,
    phone: String,
    full_name: String,
    date_of_birth: String,
    sex: String,
}

impl CheckForm {
    fn confirmation(&self) -> CounterConfirmation {
        CounterConfirmation {
            national_id: self.national_id.clone(),
            evidence: self.evidence.clone(),
            account_id: self.account_id.clone(),
            recognised: self.recognised.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            full_name: self.full_name.clone(),
            date_of_birth: self.date_of_birth.clone(),
            sex: self.sex.clone(),
        }
    }
}

fn receivers_only() -> PageError {
    PageError(
        AppError::new(ErrorKind::Forbidden, "role_required")
            .with_detail("Chỉ cán bộ tiếp nhận được xác thực danh tính công dân tại quầy."),
    )
}

/// `GET /backoffice/identity-verifications`.
pub async fn look_up_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
) -> PageResult {
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    if !session.has(StaffRole::Receiver) {
        return Err(receivers_only());
    }
    let (csrf_token, cookie) = csrf::token_for(&state, &req);
    let body = render(&LookUpPage {
        csrf_token: &csrf_token,
        national_id: "",
        evidence: "",
        error: None,
    })?;
    Ok(html(StatusCode::OK, body, cookie))
}

/// `POST /backoffice/identity-verifications`: step one shows the account,
/// step two (`step=confirm`) binds the citizen to it.
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    current: MaybeStaff,
    form: web::Form<CheckForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    // Step two acts first and reads the holder again only to show a refusal:
    // one look-up per page the receiver sees, in the agency's trail.
    let mut errors = Vec::new();
    let mut status = StatusCode::OK;
    if form.step == "confirm" {
        if form.confirm == "yes" {
            match counter_check::confirm(&state.identity, &session, &form.confirmation(), &client)
                .await
            {
                Ok(_) => {
                    return Ok(HttpResponse::SeeOther()
                        .insert_header((header::LOCATION, "/backoffice/?verified=1"))
                        .finish());
                }
                Err(err) if shown_on_form(&err) => {
                    status = err.kind().status();
                    errors = super::form_messages(&err);
                }
                Err(err) => return Err(err.into()),
            }
        } else {
            status = StatusCode::UNPROCESSABLE_ENTITY;
            errors.push("Vui lòng xác nhận đã đối chiếu thẻ căn cước và hỏi công dân.".into());
        }
    }
    let (csrf_token, cookie) = csrf::token_for(&state, &req);
    match counter_check::look_up(&state, &session, &form.national_id, &form.evidence).await {
        Ok(holder) => {
            let body = render(&ConfirmPage {
                csrf_token: &csrf_token,
                form: &form,
                holder: &holder,
                errors,
            })?;
            Ok(html(status, body, cookie))
        }
        Err(err) if shown_on_form(&err) || err.kind() == ErrorKind::NotFound => {
            let message = err
                .field_errors()
                .first()
                .map_or(err.detail(), |f| f.message.as_str());
            let body = render(&LookUpPage {
                csrf_token: &csrf_token,
                national_id: form.national_id.trim(),
                evidence: form.evidence.trim(),
                error: Some(message),
            })?;
            Ok(html(err.kind().status(), body, cookie))
        }
        Err(err) => Err(err.into()),
    }
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/backoffice/identity-verifications")
            .route(web::get().to(look_up_form))
            .route(web::post().to(submit)),
    );
}
