//! `/login/verify`: the second step after a password (for an account with
//! passkeys), and the step-up of a signed-in session: a passkey, or a code
//! sent to the verified email.

use actix_web::{
    HttpRequest, HttpResponse,
    cookie::{Cookie, SameSite, time::Duration as CookieDuration},
    http::header,
    web,
};
use askama::Template;
use serde::Deserialize;

use crate::{
    domain::{AccountId, assurance::Method},
    error::{AppError, AppResult},
    http::AppState,
    http::{
        csrf,
        pages::{PageResult, html, render, safe_return_to, shown_on_form},
        session::{MaybeSession, secure_cookies, session_cookie},
    },
    identity::{
        ClientInfo, audit, login,
        second_step::{self, PendingSignIn},
    },
    storage::{accounts, passkeys},
};

/// The pending sign-in's cookie.
pub const PENDING_COOKIE: &str = "es_pending";

fn pending_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build(PENDING_COOKIE, token.to_owned())
        .path("/login")
        .http_only(true)
        .secure(secure_cookies(state))
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::minutes(10))
        .finish()
}

fn clear_pending_cookie(state: &AppState) -> Cookie<'static> {
    Cookie::build(PENDING_COOKIE, "")
        .path("/login")
        .http_only(true)
        .secure(secure_cookies(state))
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::ZERO)
        .finish()
}

fn verify_url(return_to: &str) -> String {
    format!(
        "/login/verify?return_to={}",
        url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
    )
}

/// 303 to the second step, holding the pending sign-in's cookie.
pub fn to_second_step(state: &AppState, token: &str, return_to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, verify_url(return_to)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(pending_cookie(state, token))
        .finish()
}

/// Whose step this is.
#[derive(Debug, Clone)]
pub enum Step {
    /// A password sign-in waiting for its second step.
    Pending {
        /// Its cookie token.
        token: String,
        /// What it knows.
        pending: PendingSignIn,
    },
    /// A signed-in session stepping up.
    Session(crate::http::session::CurrentSession),
}

impl Step {
    /// The account.
    pub fn account(&self) -> AccountId {
        match self {
            Self::Pending { pending, .. } => pending.account_id,
            Self::Session(s) => s.session.account_id,
        }
    }

    /// What a code is bound to: this pending sign-in or this session.
    fn subject(&self) -> String {
        match self {
            Self::Pending { token, .. } => format!("pending:{token}"),
            Self::Session(s) => format!("session:{}", s.token),
        }
    }
}

/// The step of this request: its pending sign-in, else its session.
pub async fn current_step(
    state: &AppState,
    req: &HttpRequest,
    session: &MaybeSession,
) -> AppResult<Option<Step>> {
    if let Some(token) = req.cookie(PENDING_COOKIE).map(|c| c.value().to_owned())
        && let Some(pending) = second_step::pending(state, &token).await?
    {
        return Ok(Some(Step::Pending { token, pending }));
    }
    Ok(session.0.clone().map(Step::Session))
}

/// A completed step: where to go, and the new session's token if one opened.
pub struct Completed {
    /// Where to go next.
    pub location: String,
    /// The new session (a completed pending sign-in).
    pub session_token: Option<String>,
}

/// Completes `step` with `added`: a pending sign-in becomes a session; a
/// session is stepped up (a new token, the same `sid`).
pub async fn complete(
    state: &AppState,
    step: Step,
    added: Method,
    client: &ClientInfo,
    return_to: &str,
) -> AppResult<Completed> {
    let now = state.clock.now();
    match step {
        Step::Pending { token, .. } => {
            let pending: PendingSignIn = second_step::finish(state, &token)
                .await?
                .ok_or_else(step_expired)?;
            let mut conn = state.db.get().await?;
            let account = accounts::find(&mut conn, pending.account_id.as_uuid()).await?;
            drop(conn);
            login::check_status(&account)?;
            let session = second_step::session_for(&pending, added, client, now);
            login::complete_sign_in(state, &account, None, client, &session.methods).await?;
            let token = state.identity.sessions.create(&session).await?;
            let location = super::auth::after_sign_in(state, pending.account_id, return_to).await?;
            Ok(Completed {
                location,
                session_token: Some(token),
            })
        }
        Step::Session(current) => {
            // A new token for the stronger session (a copy of the old one
            // must not become strong), the same `sid` (its `created_at`):
            // the old token ends quietly, clients stay signed in.
            let stepped = second_step::stepped_up(&current.session, added, now);
            if state
                .identity
                .sessions
                .revoke(&current.token)
                .await?
                .is_none()
            {
                return Err(step_expired());
            }
            let token = state.identity.sessions.create(&stepped).await?;
            let mut conn = state.db.get().await?;
            audit::record(
                &mut conn,
                stepped.account_id,
                "step_up_succeeded",
                client,
                serde_json::json!({
                    "amr": crate::domain::assurance::amr(&stepped.methods),
                    "signed_in_with": crate::domain::assurance::describe(&stepped.methods),
                }),
                now,
            )
            .await?;
            Ok(Completed {
                location: return_to.to_owned(),
                session_token: Some(token),
            })
        }
    }
}

fn step_expired() -> AppError {
    AppError::bad_request("sign_in_expired")
        .with_detail("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.")
}

/// The response of a completed step: 303 (forms) to where it goes, with the
/// new session's cookie, the previous session ended and the pending cookie
/// cleared.
pub async fn completed_redirect(
    state: &AppState,
    previous: &MaybeSession,
    done: Completed,
) -> AppResult<HttpResponse> {
    let mut response = match &done.session_token {
        Some(token) => super::auth::start_session(state, previous, token, &done.location).await?,
        None => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, done.location.clone()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
    };
    response
        .add_cookie(&clear_pending_cookie(state))
        .map_err(AppError::internal)?;
    Ok(response)
}

/// The same as JSON (`{location}`) for the passkey script.
pub async fn completed_json(
    state: &AppState,
    previous: &MaybeSession,
    done: Completed,
) -> AppResult<HttpResponse> {
    let mut builder = HttpResponse::Ok();
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(token) = &done.session_token {
        if let Some(old) = &previous.0
            && let Some(ended) = state.identity.sessions.revoke(&old.token).await?
        {
            crate::identity::session_end::sessions_ended(state, &[ended]).await?;
        }
        builder.cookie(session_cookie(state, token));
    }
    builder.cookie(clear_pending_cookie(state));
    Ok(builder.json(serde_json::json!({ "location": done.location })))
}

#[derive(Template)]
#[template(path = "auth/verify.html")]
struct VerifyPage<'a> {
    csrf_token: &'a str,
    return_to: &'a str,
    step_up: bool,
    has_passkeys: bool,
    code_sent: bool,
    email_hint: &'a str,
    vneid_enabled: bool,
    error: Option<&'a str>,
    notice: Option<&'a str>,
}

/// Query of the page.
#[derive(Debug, Deserialize)]
pub struct VerifyQuery {
    return_to: Option<String>,
    #[serde(default)]
    sent: Option<String>,
}

fn to_login(return_to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!(
                "/login?return_to={}",
                url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
            ),
        ))
        .finish()
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    req: &HttpRequest,
    step: &Step,
    return_to: &str,
    code_sent: bool,
    status: actix_web::http::StatusCode,
    error: Option<&str>,
    notice: Option<&str>,
) -> PageResult {
    let mut conn = state.db.get().await.map_err(AppError::from)?;
    let account = accounts::find(&mut conn, step.account().as_uuid())
        .await
        .map_err(AppError::from)?;
    let has_passkeys = state.identity.passkeys.is_some()
        && passkeys::count(&mut conn, passkeys::Owner::Account(account.id))
            .await
            .map_err(AppError::from)?
            > 0;
    drop(conn);
    let email_hint = crate::identity::verified_email(&account)
        .map(|e| crate::domain::proofing::mask_email(e.as_str()))
        .unwrap_or_default();
    let (token, cookie) = csrf::token_for(state, req);
    let body = render(&VerifyPage {
        csrf_token: &token,
        return_to,
        step_up: matches!(step, Step::Session(_)),
        has_passkeys,
        code_sent,
        email_hint: &email_hint,
        vneid_enabled: state.settings.vneid.is_some(),
        error,
        notice,
    })?;
    Ok(html(status, body, cookie))
}

/// `GET /login/verify`.
pub async fn verify_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: MaybeSession,
    query: web::Query<VerifyQuery>,
) -> PageResult {
    let return_to = safe_return_to(query.return_to.as_deref());
    let Some(step) = current_step(&state, &req, &session).await? else {
        return Ok(to_login(&return_to));
    };
    let sent = query.sent.is_some();
    let notice =
        sent.then_some("Mã xác thực đã được gửi. Vui lòng kiểm tra hộp thư (có hiệu lực 10 phút).");
    page(
        &state,
        &req,
        &step,
        &return_to,
        sent,
        actix_web::http::StatusCode::OK,
        None,
        notice,
    )
    .await
}

/// The forms of the page.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    return_to: Option<String>,
    #[serde(default)]
    code: String,
}

/// `POST /login/verify/email-code`: sends a code.
pub async fn send_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: MaybeSession,
    form: web::Form<CodeForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let return_to = safe_return_to(form.return_to.as_deref());
    let Some(step) = current_step(&state, &req, &session).await? else {
        return Ok(to_login(&return_to));
    };
    match second_step::send_code(&state.identity, step.account(), &step.subject()).await {
        Ok(()) => Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("{}&sent=1", verify_url(&return_to)),
            ))
            .finish()),
        Err(err) if shown_on_form(&err) => {
            let mut res = page(
                &state,
                &req,
                &step,
                &return_to,
                false,
                err.kind().status(),
                Some(err.detail()),
                None,
            )
            .await?;
            for (name, value) in err.headers() {
                if let Ok(value) = header::HeaderValue::from_str(value) {
                    res.headers_mut().insert(name.clone(), value);
                }
            }
            Ok(res)
        }
        Err(err) => Err(err.into()),
    }
}

/// `POST /login/verify`: checks a code and completes the step.
pub async fn check_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    session: MaybeSession,
    form: web::Form<CodeForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let return_to = safe_return_to(form.return_to.as_deref());
    let Some(step) = current_step(&state, &req, &session).await? else {
        return Ok(to_login(&return_to));
    };
    let checked =
        second_step::check_code(&state.identity, step.account(), &step.subject(), &form.code).await;
    let result = match checked {
        Ok(()) => complete(&state, step.clone(), Method::Otp, &client, &return_to).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(done) => Ok(completed_redirect(&state, &session, done).await?),
        Err(err) if shown_on_form(&err) => {
            let mut res = page(
                &state,
                &req,
                &step,
                &return_to,
                true,
                err.kind().status(),
                Some(err.detail()),
                None,
            )
            .await?;
            for (name, value) in err.headers() {
                if let Ok(value) = header::HeaderValue::from_str(value) {
                    res.headers_mut().insert(name.clone(), value);
                }
            }
            Ok(res)
        }
        Err(err) => Err(err.into()),
    }
}

/// Registers the pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/login/verify")
            .route(web::get().to(verify_form))
            .route(web::post().to(check_code)),
    )
    .service(web::resource("/login/verify/email-code").route(web::post().to(send_code)));
}
