//! `GET /login/vneid` and its callback: sign-in with the national identity provider.

use actix_web::{
    HttpRequest, HttpResponse,
    cookie::{Cookie, SameSite, time::Duration as CookieDuration},
    http::header,
    web,
};
use serde::Deserialize;

use crate::{
    crypto::tokens,
    domain::{AccountId, assurance::Method},
    error::{AppError, ErrorKind},
    http::AppState,
    http::{
        pages::{PageResult, auth::start_session, safe_return_to},
        session::MaybeSession,
    },
    identity::{ClientInfo, login, sessions::Session, vneid},
};

/// Binds a started sign-in to the browser that started it (login CSRF).
const STATE_COOKIE: &str = "es_vneid_state";

fn not_configured() -> AppError {
    AppError::not_found("vneid_not_configured")
        .with_detail("Đăng nhập bằng VNeID chưa được cấu hình trên hệ thống này.")
}

/// Query of the start.
#[derive(Debug, Deserialize)]
pub struct StartQuery {
    return_to: Option<String>,
}

/// `GET /login/vneid`: redirects to VNeID.
pub async fn start(state: web::Data<AppState>, query: web::Query<StartQuery>) -> PageResult {
    let rp = state.identity.vneid.as_ref().ok_or_else(not_configured)?;
    let return_to = safe_return_to(query.return_to.as_deref());
    let (url, csrf_state) = rp.start(&state.kv, &return_to).await?;
    let cookie = Cookie::build(STATE_COOKIE, csrf_state)
        .path("/login/vneid")
        .http_only(true)
        .secure(state.settings.public_url.scheme() == "https")
        // Lax: the cookie must come back on VNeID's top-level redirect to us.
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::minutes(10))
        .finish();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(cookie)
        .finish())
}

/// Query of the callback.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /login/vneid/callback`.
pub async fn callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    previous: MaybeSession,
    query: web::Query<CallbackQuery>,
) -> PageResult {
    let rp = state.identity.vneid.as_ref().ok_or_else(not_configured)?;
    let browser_state = req.cookie(STATE_COOKIE).map(|c| c.value().to_owned());
    let returned_state = query.state.clone().unwrap_or_default();
    let bound = browser_state
        .as_deref()
        .is_some_and(|b| !returned_state.is_empty() && tokens::equal(b, &returned_state));
    if !bound {
        return Err(AppError::bad_request("vneid_invalid_state")
            .with_detail(
                "Phiên đăng nhập VNeID không hợp lệ hoặc đã hết hạn. Vui lòng đăng nhập lại.",
            )
            .into());
    }
    if let Some(error) = &query.error {
        // Consume the pending state so it cannot be replayed.
        rp.discard(&state.kv, &returned_state).await?;
        let detail = if error == "access_denied" {
            "Bạn đã từ chối hoặc hủy đăng nhập bằng VNeID."
        } else {
            "Hệ thống VNeID báo lỗi khi đăng nhập. Vui lòng thử lại sau."
        };
        return Err(AppError::new(ErrorKind::Unauthorized, "vneid_error")
            .with_detail(detail)
            .with_source(anyhow::anyhow!("upstream error {error}"))
            .into());
    }
    let code = query
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            AppError::bad_request("vneid_missing_code").with_detail("Thiếu mã xác thực từ VNeID.")
        })?;
    let (identity, return_to) = rp.finish(&state.kv, &returned_state, code).await?;
    let (account, raised) = vneid::account_for(&state, &identity, &client).await?;
    if raised {
        // Sessions opened at level 1 end: the level is in every session.
        crate::identity::end_sessions(&state.identity, AccountId::from(account.id), None).await?;
    }
    login::complete_sign_in(&state, &account, None, &client, &[Method::Fed]).await?;
    let now = state.clock.now();
    let token = state
        .identity
        .sessions
        .create(&Session {
            account_id: AccountId::from(account.id),
            level: 2,
            acting_for: None,
            methods: vec![Method::Fed],
            authenticated_at: now,
            created_at: now,
            last_seen_at: now,
            user_agent: client.user_agent.clone(),
            ip: client.ip.clone(),
        })
        .await?;
    let location = super::auth::after_sign_in(
        &state,
        AccountId::from(account.id),
        &safe_return_to(Some(&return_to)),
    )
    .await?;
    let mut response = start_session(&state, &previous, &token, &location).await?;
    let clear = Cookie::build(STATE_COOKIE, "")
        .path("/login/vneid")
        .max_age(CookieDuration::ZERO)
        .finish();
    response.add_cookie(&clear).map_err(AppError::internal)?;
    Ok(response)
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/login/vneid").route(web::get().to(start)))
        .service(web::resource("/login/vneid/callback").route(web::get().to(callback)));
}
