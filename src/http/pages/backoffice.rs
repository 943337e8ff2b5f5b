//! The back office's sign-in (password, then TOTP or a passkey) and home.

use actix_web::{
    FromRequest, HttpRequest, HttpResponse,
    cookie::{Cookie, SameSite, time::Duration as CookieDuration},
    dev::Payload,
    http::{StatusCode, header},
    web,
};
use askama::Template;
use futures_util::future::LocalBoxFuture;
use secrecy::SecretString;
use serde::Deserialize;

use crate::{
    domain::staff::StaffRole,
    error::AppError,
    http::AppState,
    http::{
        csrf,
        pages::{PageResult, html, render, shown_on_form},
    },
    identity::{
        ClientInfo,
        staff::{self, StaffSession},
        staff_passkeys,
    },
    storage,
};

/// The back-office session cookie (only sent to `/backoffice`).
pub const STAFF_COOKIE: &str = "es_staff_session";
/// The cookie of a pending second-factor enrolment.
pub const ENROL_COOKIE: &str = "es_staff_enrol";

pub(crate) fn staff_cookie(
    state: &AppState,
    token: &str,
    max_age: Option<CookieDuration>,
) -> Cookie<'static> {
    named_cookie(state, STAFF_COOKIE, token, max_age)
}

fn named_cookie(
    state: &AppState,
    name: &'static str,
    token: &str,
    max_age: Option<CookieDuration>,
) -> Cookie<'static> {
    let mut cookie = Cookie::build(name, token.to_owned())
        .path("/backoffice")
        .http_only(true)
        .secure(state.settings.public_url.scheme() == "https")
        .same_site(SameSite::Strict)
        .finish();
    if let Some(age) = max_age {
        cookie.set_max_age(age);
    }
    cookie
}

pub(crate) fn to_login() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/backoffice/login"))
        .finish()
}

/// The signed-in civil servant, if any. A session that must register a
/// passkey first (the agency requires them) is sent to /backoffice/passkeys
/// from every page but that one, sign-in and sign-out.
#[derive(Debug, Clone)]
pub struct MaybeStaff(pub Option<(StaffSession, String)>);

impl FromRequest for MaybeStaff {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let Some(token) = req.cookie(STAFF_COOKIE).map(|c| c.value().to_owned()) else {
                return Ok(Self(None));
            };
            let Some(state) = req.app_data::<web::Data<AppState>>() else {
                return Err(
                    AppError::internal(anyhow::anyhow!("application state missing")).into(),
                );
            };
            let client = ClientInfo::extract(&req).await?;
            let session = staff::session(&state.identity, &token, client).await?;
            if let Some(s) = &session
                && !super::staff_passkeys::open_while_enrolling(req.path())
                && staff_passkeys::enrolment_required(state, s).await?
            {
                return Err(super::staff_passkeys::to_enrolment());
            }
            Ok(Self(session.map(|s| (s, token))))
        })
    }
}

#[derive(Template)]
#[template(path = "backoffice/login.html")]
struct LoginPage<'a> {
    csrf_token: &'a str,
    username: &'a str,
    error: Option<&'a str>,
}

/// `GET /backoffice/login`.
pub async fn login_form(state: web::Data<AppState>, req: HttpRequest) -> PageResult {
    let (token, cookie) = csrf::token_for(&state, &req);
    let body = render(&LoginPage {
        csrf_token: &token,
        username: "",
        error: None,
    })?;
    Ok(html(StatusCode::OK, body, cookie))
}

/// The staff sign-in form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default = "empty_secret")]
    password: SecretString,
    #[serde(default)]
    totp: String,
    #[serde(default)]
    csrf_token: String,
}

fn empty_secret() -> SecretString {
    SecretString::from(String::new())
}

/// `POST /backoffice/login`.
pub async fn login_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    previous: MaybeStaff,
    form: web::Form<LoginForm>,
) -> PageResult {
    let form = form.into_inner();
    csrf::verify(&state, &req, &form.csrf_token)?;
    match staff::sign_in(
        &state.identity,
        &form.username,
        form.password,
        &form.totp,
        true,
        &client,
    )
    .await
    {
        Ok((_, staff::SignInOutcome::PasskeyStep(pending))) => Ok(
            super::staff_passkey_sign_in::to_passkey_step(&state, &pending),
        ),
        Ok((_, staff::SignInOutcome::EnrolmentRequired(enrol))) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/backoffice/enrol"))
            .cookie(named_cookie(
                &state,
                ENROL_COOKIE,
                &enrol,
                Some(CookieDuration::minutes(10)),
            ))
            .finish()),
        Ok((_, staff::SignInOutcome::SignedIn(token))) => {
            if let Some((_, old)) = previous.0 {
                state.identity.staff_sessions.revoke(&old).await?;
            }
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/backoffice/"))
                .cookie(staff_cookie(&state, &token, None))
                .finish())
        }
        Err(err) if shown_on_form(&err) => {
            let (csrf_token, cookie) = csrf::token_for(&state, &req);
            let body = render(&LoginPage {
                csrf_token: &csrf_token,
                username: form.username.trim(),
                error: Some(err.detail()),
            })?;
            let mut response = html(err.kind().status(), body, cookie);
            for (name, value) in err.headers() {
                if let Ok(value) = header::HeaderValue::from_str(value) {
                    response.headers_mut().insert(name.clone(), value);
                }
            }
            Ok(response)
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Template)]
#[template(path = "backoffice/home.html")]
struct HomePage<'a> {
    csrf_token: &'a str,
    full_name: &'a str,
    agency_code: &'a str,
    roles: Vec<&'static str>,
    is_receiver: bool,
    is_agency_admin: bool,
    notice: Option<&'a str>,
}

/// Query of the home page.
#[derive(Debug, Deserialize)]
pub struct HomeQuery {
    verified: Option<String>,
}

/// `GET /backoffice/`.
pub async fn home(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    query: web::Query<HomeQuery>,
) -> PageResult {
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let mut conn = state.db.get().await.map_err(AppError::from)?;
    let row = storage::staff::find(&mut conn, session.staff_id)
        .await
        .map_err(AppError::from)?;
    let (csrf_token, cookie) = csrf::token_for(&state, &req);
    let body = render(&HomePage {
        csrf_token: &csrf_token,
        full_name: &row.full_name,
        agency_code: &session.agency_code,
        roles: session.roles.iter().map(|r| r.label_vi()).collect(),
        is_receiver: session.has(StaffRole::Receiver),
        is_agency_admin: session.has(StaffRole::AgencyAdmin),
        notice: query
            .verified
            .as_ref()
            .map(|_| "Đã xác thực danh tính công dân; tài khoản đã ở mức độ 2."),
    })?;
    Ok(html(StatusCode::OK, body, cookie))
}

/// A form carrying only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /backoffice/logout`.
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    form: web::Form<CsrfForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    if let Some((session, token)) = current.0 {
        staff::sign_out(&state.identity, &session, &token).await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/backoffice/login"))
        .cookie(staff_cookie(&state, "", Some(CookieDuration::ZERO)))
        .finish())
}

#[derive(Template)]
#[template(path = "backoffice/enrol.html")]
struct EnrolPage<'a> {
    csrf_token: &'a str,
    uri: &'a str,
    secret: &'a str,
    recovery_codes: &'a [String],
    error: Option<&'a str>,
}

async fn enrol_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    error: Option<&str>,
) -> PageResult {
    let token = req
        .cookie(ENROL_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let enrolment = match staff::enrolment(state, &token).await {
        Ok(e) => e,
        Err(err) if err.kind() == crate::error::ErrorKind::BadRequest => return Ok(to_login()),
        Err(err) => return Err(err.into()),
    };
    let (csrf_token, cookie) = csrf::token_for(state, req);
    let body = render(&EnrolPage {
        csrf_token: &csrf_token,
        uri: &enrolment.uri,
        secret: &enrolment.secret_base32,
        recovery_codes: &enrolment.recovery_codes,
        error,
    })?;
    Ok(html(status, body, cookie))
}

/// `GET /backoffice/enrol`: set up the authenticator (first sign-in).
pub async fn enrol_form(state: web::Data<AppState>, req: HttpRequest) -> PageResult {
    enrol_page(&state, &req, StatusCode::OK, None).await
}

/// The enrolment form.
#[derive(Debug, Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    totp: String,
    #[serde(default)]
    csrf_token: String,
}

/// `POST /backoffice/enrol`.
pub async fn enrol_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    form: web::Form<EnrolForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let token = req
        .cookie(ENROL_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    match staff::finish_enrolment(&state.identity, &token, &form.totp, &client).await {
        Ok(session) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/backoffice/"))
            .cookie(staff_cookie(&state, &session, None))
            .cookie(named_cookie(
                &state,
                ENROL_COOKIE,
                "",
                Some(CookieDuration::ZERO),
            ))
            .finish()),
        Err(err) if err.kind() == crate::error::ErrorKind::Unprocessable => {
            enrol_page(&state, &req, err.kind().status(), Some(err.detail())).await
        }
        Err(err) if err.kind() == crate::error::ErrorKind::BadRequest => Ok(to_login()),
        Err(err) => Err(err.into()),
    }
}

/// Registers the back-office routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/backoffice/login")
            .route(web::get().to(login_form))
            .route(web::post().to(login_submit)),
    )
    .service(web::resource("/backoffice/").route(web::get().to(home)))
    .service(web::resource("/backoffice/logout").route(web::post().to(logout)))
    .service(
        web::resource("/backoffice/enrol")
            .route(web::get().to(enrol_form))
            .route(web::post().to(enrol_submit)),
    )
    .configure(super::counter_check::configure);
}
