//! Sign-in, capacity choice, sign-out and email verification pages.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use super::login_texts::{LoginTexts, login_texts};
use crate::{
    domain::{AccountId, BusinessId},
    error::{AppError, ErrorKind},
    http::AppState,
    http::{
        csrf,
        pages::{PageError, PageResult, html, render, safe_return_to, shown_on_form},
        session::{MaybeSession, clear_session_cookie, session_cookie},
    },
    identity::{ClientInfo, login, registration, sessions::Session},
    storage::businesses,
};

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage<'a> {
    t: &'static LoginTexts,
    csrf_token: &'a str,
    return_to: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    vneid_enabled: bool,
    passkeys_enabled: bool,
}

/// Query of the sign-in page.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
    /// A sign-in name the client suggested (OpenID `login_hint`).
    login_hint: Option<String>,
    /// `en` for English.
    lang: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn login_page(
    state: &AppState,
    req: &HttpRequest,
    status: actix_web::http::StatusCode,
    return_to: &str,
    username: &str,
    error: Option<&str>,
    notice: Option<&str>,
    lang: Option<&str>,
) -> PageResult {
    let (token, cookie) = csrf::token_for(state, req);
    let body = render(&LoginPage {
        t: login_texts(lang),
        csrf_token: &token,
        return_to,
        username,
        error,
        notice,
        vneid_enabled: state.settings.vneid.is_some(),
        passkeys_enabled: state.identity.passkeys.is_some(),
    })?;
    Ok(html(status, body, cookie))
}

/// `GET /login`.
pub async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<LoginQuery>,
) -> PageResult {
    let return_to = safe_return_to(query.return_to.as_deref());
    let hint = query
        .login_hint
        .as_deref()
        .map(str::trim)
        .filter(|h| h.len() <= 256 && !h.chars().any(char::is_control))
        .unwrap_or_default();
    login_page(
        &state,
        &req,
        actix_web::http::StatusCode::OK,
        &return_to,
        hint,
        None,
        None,
        query.lang.as_deref(),
    )
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default = "empty_secret")]
    password: SecretString,
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    return_to: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

fn empty_secret() -> SecretString {
    SecretString::from(String::new())
}

/// Where to go after signing in: the capacity choice when the person can act for a business.
pub async fn after_sign_in(
    state: &AppState,
    account: AccountId,
    return_to: &str,
) -> Result<String, AppError> {
    let mut conn = state.db.get().await?;
    let acting = businesses::acting_for(&mut conn, account.as_uuid(), state.clock.now()).await?;
    Ok(if acting.is_empty() {
        return_to.to_owned()
    } else {
        format!(
            "/login/choose?return_to={}",
            url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
        )
    })
}

/// Starts a session for `session`, ending the request's previous one (rotation).
pub async fn start_session(
    state: &AppState,
    previous: &MaybeSession,
    token: &str,
    location: &str,
) -> Result<HttpResponse, AppError> {
    if let Some(old) = &previous.0
        && let Some(ended) = state.identity.sessions.revoke(&old.token).await?
    {
        crate::identity::session_end::sessions_ended(state, &[ended]).await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(session_cookie(state, token))
        .finish())
}

/// `POST /login`.
pub async fn login_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    previous: MaybeSession,
    form: web::Form<LoginForm>,
) -> PageResult {
    let form = form.into_inner();
    let return_to = safe_return_to(form.return_to.as_deref());
    csrf::verify(&state, &req, &form.csrf_token)?;
    let username = form.username.trim().to_owned();
    if username.is_empty() {
        return login_page(
            &state,
            &req,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            &return_to,
            "",
            Some(login_texts(form.lang.as_deref()).empty),
            None,
            form.lang.as_deref(),
        );
    }
    match login::sign_in(&state.identity, &username, form.password, &client).await {
        Ok(login::SignedIn {
            account,
            next: login::Next::Session(token),
        }) => {
            let location = after_sign_in(&state, AccountId::from(account.id), &return_to).await?;
            Ok(start_session(&state, &previous, &token, &location).await?)
        }
        Ok(login::SignedIn {
            next: login::Next::SecondStep(token),
            ..
        }) => Ok(super::second_step::to_second_step(
            &state, &token, &return_to,
        )),
        Err(err) if shown_on_form(&err) => {
            let mut page = login_page(
                &state,
                &req,
                err.kind().status(),
                &return_to,
                &username,
                Some(err.detail()),
                None,
                form.lang.as_deref(),
            )?;
            for (name, value) in err.headers() {
                if let Ok(value) = header::HeaderValue::from_str(value) {
                    page.headers_mut().insert(name.clone(), value);
                }
            }
            Ok(page)
        }
        Err(err) => Err(err.into()),
    }
}

struct BusinessChoice {
    id: String,
    name: String,
    tax_code: String,
}

#[derive(Template)]
#[template(path = "auth/choose.html")]
struct ChoosePage<'a> {
    csrf_token: &'a str,
    return_to: &'a str,
    full_name: &'a str,
    businesses: Vec<BusinessChoice>,
}

fn sign_in_first(return_to: &str) -> HttpResponse {
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

/// `GET /login/choose`: act for oneself or for a business one represents.
pub async fn choose_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: MaybeSession,
    query: web::Query<LoginQuery>,
) -> PageResult {
    let return_to = safe_return_to(query.return_to.as_deref());
    let Some(current) = session.0 else {
        return Ok(sign_in_first(&return_to));
    };
    let mut conn = state.db.get().await.map_err(AppError::from)?;
    let account = crate::storage::accounts::find(&mut conn, current.session.account_id.as_uuid())
        .await
        .map_err(AppError::from)?;
    let acting = businesses::acting_for(&mut conn, account.id, state.clock.now())
        .await
        .map_err(AppError::from)?;
    let (token, cookie) = csrf::token_for(&state, &req);
    let body = render(&ChoosePage {
        csrf_token: &token,
        return_to: &return_to,
        full_name: &account.full_name,
        businesses: acting
            .into_iter()
            .map(|(b, _)| BusinessChoice {
                id: b.id.to_string(),
                name: b.name,
                tax_code: b.tax_code,
            })
            .collect(),
    })?;
    Ok(html(actix_web::http::StatusCode::OK, body, cookie))
}

/// The capacity form.
#[derive(Debug, Deserialize)]
pub struct ChooseForm {
    #[serde(default)]
    acting_for: String,
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    return_to: Option<String>,
}

/// `POST /login/choose`.
pub async fn choose_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: MaybeSession,
    form: web::Form<ChooseForm>,
) -> PageResult {
    let return_to = safe_return_to(form.return_to.as_deref());
    csrf::verify(&state, &req, &form.csrf_token)?;
    let Some(current) = session.0 else {
        return Ok(sign_in_first(&return_to));
    };
    let acting_for = if form.acting_for == "self" {
        None
    } else {
        let id: BusinessId = form.acting_for.parse().map_err(|_| {
            PageError(AppError::bad_request("invalid_choice").with_detail("Lựa chọn không hợp lệ."))
        })?;
        let mut conn = state.db.get().await.map_err(AppError::from)?;
        let allowed = businesses::acting_for(
            &mut conn,
            current.session.account_id.as_uuid(),
            state.clock.now(),
        )
        .await
        .map_err(AppError::from)?
        .iter()
        .any(|(b, _)| b.id == id.as_uuid());
        if !allowed {
            return Err(PageError(
                AppError::new(ErrorKind::Forbidden, "not_authorized_for_business")
                    .with_detail("Bạn không được quyền thực hiện thay cho doanh nghiệp này."),
            ));
        }
        Some(id)
    };
    let new_session = Session {
        acting_for,
        ..current.session.clone()
    };
    let token = state
        .identity
        .sessions
        .create(&new_session)
        .await
        .map_err(PageError)?;
    Ok(start_session(&state, &MaybeSession(Some(current)), &token, &return_to).await?)
}

#[derive(Template)]
#[template(path = "auth/logout.html")]
struct LogoutPage<'a> {
    csrf_token: &'a str,
    signed_in: bool,
}

/// `GET /logout`: asks for confirmation (a GET must not sign out: links can be forged).
pub async fn logout_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: MaybeSession,
) -> PageResult {
    let (token, cookie) = csrf::token_for(&state, &req);
    let body = render(&LogoutPage {
        csrf_token: &token,
        signed_in: session.0.is_some(),
    })?;
    Ok(html(actix_web::http::StatusCode::OK, body, cookie))
}

/// The sign-out form.
#[derive(Debug, Deserialize)]
pub struct CsrfOnlyForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /logout`.
pub async fn logout_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    session: MaybeSession,
    form: web::Form<CsrfOnlyForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    if let Some(current) = session.0 {
        if let Some(ended) = state.identity.sessions.revoke(&current.token).await? {
            crate::identity::session_end::sessions_ended(&state, &[ended]).await?;
        }
        let mut conn = state.db.get().await.map_err(AppError::from)?;
        crate::identity::audit::record(
            &mut conn,
            current.session.account_id,
            "signed_out",
            &client,
            serde_json::json!({}),
            state.clock.now(),
        )
        .await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/logout"))
        .cookie(clear_session_cookie(&state))
        .finish())
}

#[derive(Template)]
#[template(path = "auth/verify_email.html")]
struct VerifyEmailPage<'a> {
    csrf_token: &'a str,
    token: &'a str,
    done: bool,
    error: Option<&'a str>,
}

/// Query of the verification page.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// `GET /verify-email?token=…`: a button, so link scanners cannot use the token up.
pub async fn verify_email_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<TokenQuery>,
) -> PageResult {
    let (csrf_token, cookie) = csrf::token_for(&state, &req);
    let body = render(&VerifyEmailPage {
        csrf_token: &csrf_token,
        token: &query.token,
        done: false,
        error: None,
    })?;
    Ok(html(actix_web::http::StatusCode::OK, body, cookie))
}

/// The verification form.
#[derive(Debug, Deserialize)]
pub struct VerifyEmailForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf_token: String,
}

/// `POST /verify-email`.
pub async fn verify_email_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    form: web::Form<VerifyEmailForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let (csrf_token, cookie) = csrf::token_for(&state, &req);
    match registration::verify_email(&state.identity, form.token.trim(), &client).await {
        Ok(_) => {
            let body = render(&VerifyEmailPage {
                csrf_token: &csrf_token,
                token: "",
                done: true,
                error: None,
            })?;
            Ok(html(actix_web::http::StatusCode::OK, body, cookie))
        }
        Err(err) if shown_on_form(&err) => {
            let body = render(&VerifyEmailPage {
                csrf_token: &csrf_token,
                token: "",
                done: false,
                error: Some(err.detail()),
            })?;
            Ok(html(err.kind().status(), body, cookie))
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Template)]
#[template(path = "auth/reset_password.html")]
struct ResetPasswordPage<'a> {
    csrf_token: &'a str,
    token: &'a str,
    done: bool,
    error: Option<&'a str>,
}

/// `GET /reset-password?token=…`: the new-password form.
pub async fn reset_password_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<TokenQuery>,
) -> PageResult {
    let (csrf_token, cookie) = csrf::token_for(&state, &req);
    let body = render(&ResetPasswordPage {
        csrf_token: &csrf_token,
        token: &query.token,
        done: false,
        error: None,
    })?;
    Ok(html(actix_web::http::StatusCode::OK, body, cookie))
}

/// The new-password form.
#[derive(Debug, Deserialize)]
pub struct ResetPasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default = "empty_secret")]
    new_password: SecretString,
    #[serde(default)]
    csrf_token: String,
}

/// `POST /reset-password`.
pub async fn reset_password_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    form: web::Form<ResetPasswordForm>,
) -> PageResult {
    let form = form.into_inner();
    csrf::verify(&state, &req, &form.csrf_token)?;
    let (csrf_token, cookie) = csrf::token_for(&state, &req);
    let token = form.token.trim().to_owned();
    match crate::identity::credentials::confirm_reset(
        &state.identity,
        &token,
        form.new_password,
        &client,
    )
    .await
    {
        Ok(()) => {
            let body = render(&ResetPasswordPage {
                csrf_token: &csrf_token,
                token: "",
                done: true,
                error: None,
            })?;
            Ok(html(actix_web::http::StatusCode::OK, body, cookie))
        }
        Err(err) if shown_on_form(&err) => {
            // A weak password can be retried with the same link; a bad link cannot.
            let keep = if err.code() == "validation_failed" {
                token.as_str()
            } else {
                ""
            };
            let message = err
                .field_errors()
                .first()
                .map_or(err.detail(), |f| f.message.as_str());
            let body = render(&ResetPasswordPage {
                csrf_token: &csrf_token,
                token: keep,
                done: false,
                error: Some(message),
            })?;
            Ok(html(err.kind().status(), body, cookie))
        }
        Err(err) => Err(err.into()),
    }
}

/// Registers the pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/login")
            .route(web::get().to(login_form))
            .route(web::post().to(login_submit)),
    )
    .service(
        web::resource("/login/choose")
            .route(web::get().to(choose_form))
            .route(web::post().to(choose_submit)),
    )
    .service(
        web::resource("/logout")
            .route(web::get().to(logout_form))
            .route(web::post().to(logout_submit)),
    )
    .service(
        web::resource("/verify-email")
            .route(web::get().to(verify_email_form))
            .route(web::post().to(verify_email_submit)),
    )
    .service(
        web::resource("/reset-password")
            .route(web::get().to(reset_password_form))
            .route(web::post().to(reset_password_submit)),
    );
}
