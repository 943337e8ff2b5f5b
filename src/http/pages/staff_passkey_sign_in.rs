//! The back office's passkey step after a right password:
//! `GET /backoffice/login/passkey` (the page with the button) and the JSON
//! pair `/assets/passkeys.js` calls, `POST /backoffice/login/passkey/options`
//! and `POST /backoffice/login/passkey` (`{location}` and the staff
//! session's cookie). Thin doors to `identity::staff_passkey_sign_in`.

use actix_web::{
    HttpRequest, HttpResponse,
    cookie::{Cookie, SameSite, time::Duration as CookieDuration},
    http::{StatusCode, header},
    web,
};
use askama::Template;
use serde::Deserialize;

use super::{
    PageResult,
    backoffice::{MaybeStaff, staff_cookie, to_login},
    html, render,
};
use crate::{
    error::AppResult,
    http::AppState,
    http::{csrf, session::secure_cookies},
    identity::{ClientInfo, staff_passkey_sign_in as step},
};

/// The pending staff sign-in's cookie (only sent to the sign-in pages).
pub const PENDING_COOKIE: &str = "es_staff_pending";

fn pending_cookie(state: &AppState, token: &str, max_age: CookieDuration) -> Cookie<'static> {
    Cookie::build(PENDING_COOKIE, token.to_owned())
        .path("/backoffice/login")
        .http_only(true)
        .secure(secure_cookies(state))
        .same_site(SameSite::Strict)
        .max_age(max_age)
        .finish()
}

/// 303 to the passkey step, holding the pending sign-in's cookie.
pub fn to_passkey_step(state: &AppState, token: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/backoffice/login/passkey"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(pending_cookie(state, token, CookieDuration::minutes(10)))
        .finish()
}

fn pending_token(req: &HttpRequest) -> Option<String> {
    req.cookie(PENDING_COOKIE).map(|c| c.value().to_owned())
}

#[derive(Template)]
#[template(path = "backoffice/login_passkey.html")]
struct PasskeyStepPage;

/// `GET /backoffice/login/passkey`: the button, while the pending sign-in lives.
pub async fn page(state: web::Data<AppState>, req: HttpRequest) -> PageResult {
    let Some(token) = pending_token(&req) else {
        return Ok(to_login());
    };
    if step::pending(&state, &token).await?.is_none() {
        return Ok(to_login());
    }
    Ok(html(StatusCode::OK, render(&PasskeyStepPage)?, None))
}

/// Body of the options request (nothing to choose).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionsRequest {}

/// `POST /backoffice/login/passkey/options`: `{challenge_id, options}`.
pub async fn options(
    state: web::Data<AppState>,
    req: HttpRequest,
    _body: web::Json<OptionsRequest>,
) -> AppResult<HttpResponse> {
    csrf::check_origin(&state, &req)?;
    let token = pending_token(&req).ok_or_else(step::expired)?;
    let (challenge_id, options) = step::start(&state.identity, &token).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "challenge_id": challenge_id, "options": options })))
}

/// Body of the finish request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishRequest {
    challenge_id: String,
    credential: serde_json::Value,
    /// Where to go (a back-office path; else the home page).
    #[serde(default)]
    return_to: Option<String>,
}

/// `POST /backoffice/login/passkey`: 200 `{location}` with the session cookie.
pub async fn finish(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    previous: MaybeStaff,
    body: web::Json<FinishRequest>,
) -> AppResult<HttpResponse> {
    csrf::check_origin(&state, &req)?;
    let token = pending_token(&req).ok_or_else(step::expired)?;
    let session = step::finish(
        &state.identity,
        &token,
        &body.challenge_id,
        &body.credential,
        &client,
    )
    .await?;
    if let Some((_, old)) = previous.0 {
        state.identity.staff_sessions.revoke(&old).await?;
    }
    let location = super::safe_return_to(body.return_to.as_deref());
    let location = if location.starts_with("/backoffice/") {
        location
    } else {
        "/backoffice/".to_owned()
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(staff_cookie(&state, &session, None))
        .cookie(pending_cookie(&state, "", CookieDuration::ZERO))
        .json(serde_json::json!({ "location": location })))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/backoffice/login/passkey/options").route(web::post().to(options)))
        .service(
            web::resource("/backoffice/login/passkey")
                .route(web::get().to(page))
                .route(web::post().to(finish)),
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_page_renders_the_button_and_the_script() {
        let body = PasskeyStepPage.render().expect("renders");
        assert!(body.contains("data-passkey=\"staff_second_step\""));
        assert!(body.contains("/assets/passkeys.js"));
        assert!(body.contains("id=\"passkey-error\""));
    }
}
