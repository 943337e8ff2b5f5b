//! A civil servant's passkeys in the back office: `GET /backoffice/passkeys`
//! (the list, the button that registers one, a remove form per passkey),
//! the JSON pair the button calls (`POST /backoffice/passkeys/options`,
//! `POST /backoffice/passkeys`), and the agency admin's policy form
//! (`POST /backoffice/agency/passkey-policy`). Thin doors to
//! `identity::staff_passkeys`.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    PageResult,
    backoffice::{MaybeStaff, to_login},
    html, render, shown_on_form,
};
use crate::{
    error::{AppError, AppResult, ErrorKind},
    http::AppState,
    http::csrf,
    identity::{emails, staff::StaffSession, staff_passkeys},
};

/// Whether a back-office path stays open to a session that must register a
/// passkey first: this page and its endpoints, sign-in and sign-out.
pub fn open_while_enrolling(path: &str) -> bool {
    path == "/backoffice/passkeys"
        || path.starts_with("/backoffice/passkeys/")
        || path == "/backoffice/login"
        || path.starts_with("/backoffice/login/")
        || path == "/backoffice/logout"
        || path == "/backoffice/enrol"
}

/// The answer to any other page for such a session: 303 to the passkeys page.
pub fn to_enrolment() -> actix_web::Error {
    actix_web::error::InternalError::from_response(
        "a passkey must be registered first",
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/backoffice/passkeys"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
    )
    .into()
}

fn not_signed_in() -> AppError {
    AppError::new(ErrorKind::Unauthorized, "staff_session_required")
        .with_detail("Phiên đăng nhập của cán bộ đã hết. Vui lòng đăng nhập lại.")
}

struct PasskeyLine {
    id: String,
    name: String,
    added: String,
    last_used: String,
    synced: bool,
}

#[derive(Template)]
#[template(path = "backoffice/passkeys.html")]
struct PasskeysPage<'a> {
    csrf_token: &'a str,
    passkeys: Vec<PasskeyLine>,
    must_enrol: bool,
    recent: bool,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

async fn passkeys_page(
    state: &AppState,
    req: &HttpRequest,
    session: &StaffSession,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> PageResult {
    let passkeys = staff_passkeys::list(state, session).await?;
    let must_enrol = staff_passkeys::enrolment_required(state, session).await?;
    let (csrf_token, cookie) = csrf::token_for(state, req);
    let body = render(&PasskeysPage {
        csrf_token: &csrf_token,
        passkeys: passkeys
            .into_iter()
            .map(|p| PasskeyLine {
                id: p.id.to_string(),
                added: emails::vietnam_date(p.created_at)
                    .format("%d/%m/%Y")
                    .to_string(),
                last_used: p
                    .last_used_at
                    .map_or_else(|| "Chưa dùng".to_owned(), emails::vietnam_time),
                synced: p.synced,
                name: p.name,
            })
            .collect(),
        must_enrol,
        recent: staff_passkeys::recent(state, session),
        notice,
        error,
    })?;
    Ok(html(status, body, cookie))
}

/// `GET /backoffice/passkeys`.
pub async fn page(state: web::Data<AppState>, req: HttpRequest, current: MaybeStaff) -> PageResult {
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let notice = match req.query_string() {
        "removed=1" => Some("Đã gỡ passkey."),
        _ => None,
    };
    passkeys_page(&state, &req, &session, StatusCode::OK, notice, None).await
}

/// Body of the options request (nothing to choose).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionsRequest {}

/// `POST /backoffice/passkeys/options`: `{registration_id, options}`.
pub async fn options(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    _body: web::Json<OptionsRequest>,
) -> AppResult<HttpResponse> {
    csrf::check_origin(&state, &req)?;
    let (session, token) = current.0.ok_or_else(not_signed_in)?;
    let (id, options) = staff_passkeys::start(&state.identity, &session, &token).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "registration_id": id, "options": options })))
}

/// Body of a finished registration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishRegistration {
    registration_id: String,
    name: String,
    credential: serde_json::Value,
}

/// `POST /backoffice/passkeys`: 201 with the new passkey.
pub async fn finish(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    body: web::Json<FinishRegistration>,
) -> AppResult<HttpResponse> {
    csrf::check_origin(&state, &req)?;
    let (session, token) = current.0.ok_or_else(not_signed_in)?;
    let item = staff_passkeys::finish(
        &state.identity,
        &session,
        &token,
        &body.registration_id,
        &body.name,
        &body.credential,
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(item))
}

/// A form carrying only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /backoffice/passkeys/{id}/remove`.
pub async fn remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let not_found = crate::identity::passkeys::manage::not_found;
    let id = Uuid::parse_str(&path).map_err(|_| not_found())?;
    match staff_passkeys::remove(&state, &session, id).await {
        Ok(()) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/backoffice/passkeys?removed=1"))
            .finish()),
        Err(err) if shown_on_form(&err) => {
            passkeys_page(
                &state,
                &req,
                &session,
                err.kind().status(),
                None,
                Some(err.detail()),
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}

/// The agency admin's policy form.
#[derive(Debug, Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    agency_code: String,
    /// `yes` to require passkeys, `no` to stop.
    #[serde(default)]
    required: String,
}

/// `POST /backoffice/agency/passkey-policy`: back to the staff page.
pub async fn set_policy(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    form: web::Form<PolicyForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let required = match form.required.as_str() {
        "yes" => true,
        "no" => false,
        _ => {
            return Err(AppError::bad_request("policy_invalid")
                .with_detail("Lựa chọn không hợp lệ.")
                .into());
        }
    };
    staff_passkeys::set_policy(&state.identity, &session, &form.agency_code, required).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/backoffice/staff?saved=passkey_policy"))
        .finish())
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/backoffice/passkeys")
            .route(web::get().to(page))
            .route(web::post().to(finish)),
    )
    .service(web::resource("/backoffice/passkeys/options").route(web::post().to(options)))
    .service(web::resource("/backoffice/passkeys/{id}/remove").route(web::post().to(remove)))
    .service(web::resource("/backoffice/agency/passkey-policy").route(web::post().to(set_policy)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_passkeys_page_sign_in_and_sign_out_stay_open_while_enrolling() {
        for open in [
            "/backoffice/passkeys",
            "/backoffice/passkeys/options",
            "/backoffice/passkeys/0190/remove",
            "/backoffice/login",
            "/backoffice/login/passkey",
            "/backoffice/logout",
        ] {
            assert!(open_while_enrolling(open), "{open}");
        }
        for closed in [
            "/backoffice/",
            "/backoffice/queue",
            "/backoffice/passkeysx",
            "/backoffice/staff",
            "/backoffice/agency/passkey-policy",
            "/backoffice/loginx",
        ] {
            assert!(!open_while_enrolling(closed), "{closed}");
        }
    }
}
