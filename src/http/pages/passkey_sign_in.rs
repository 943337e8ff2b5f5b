//! Signing in with a passkey from our pages: `POST /login/passkey/options`
//! and `POST /login/passkey` (JSON, called by `/assets/passkeys.js`), and
//! the script itself.

use actix_web::{
    HttpRequest, HttpResponse,
    cookie::{Cookie, SameSite, time::Duration as CookieDuration},
    http::header,
    web,
};
use serde::Deserialize;

use super::second_step::{self, Completed};
use crate::{
    crypto::tokens,
    domain::{AccountId, assurance::Method},
    error::{AppError, AppResult},
    http::AppState,
    http::{
        csrf,
        pages::safe_return_to,
        session::{MaybeSession, secure_cookies},
    },
    identity::{
        ClientInfo, login,
        passkeys::{self, ceremony},
        sessions::Session,
    },
    storage::{accounts, passkeys::Owner},
};

/// The cookie that binds a passkey challenge to the browser that asked.
pub const BINDING_COOKIE: &str = "es_webauthn";

/// Body of the options request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionsRequest {
    /// `signin` (any passkey, no name typed) or `second_step` (this
    /// sign-in's or session's own passkeys).
    mode: String,
}

/// `POST /login/passkey/options`.
pub async fn options(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: MaybeSession,
    body: web::Json<OptionsRequest>,
) -> AppResult<HttpResponse> {
    csrf::check_origin(&state, &req)?;
    let expected = match body.mode.as_str() {
        "signin" => None,
        "second_step" => {
            let step = second_step::current_step(&state, &req, &session)
                .await?
                .ok_or_else(|| {
                    AppError::bad_request("sign_in_expired")
                        .with_detail("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.")
                })?;
            Some(Owner::Account(step.account().as_uuid()))
        }
        _ => {
            return Err(AppError::bad_request("invalid_mode")
                .with_detail("Chế độ phải là “signin” hoặc “second_step”."));
        }
    };
    let binding = tokens::generate();
    let (challenge_id, options) =
        ceremony::start_authentication(&state.identity, expected, &binding).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(
            Cookie::build(BINDING_COOKIE, binding)
                .path("/login/passkey")
                .http_only(true)
                .secure(secure_cookies(&state))
                .same_site(SameSite::Strict)
                .max_age(CookieDuration::minutes(5))
                .finish(),
        )
        .json(serde_json::json!({ "challenge_id": challenge_id, "options": options })))
}

/// Body of the finish request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishRequest {
    challenge_id: String,
    credential: serde_json::Value,
    #[serde(default)]
    return_to: Option<String>,
}

/// `POST /login/passkey`: 200 `{location}` with the session cookie.
pub async fn finish(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    session: MaybeSession,
    body: web::Json<FinishRequest>,
) -> AppResult<HttpResponse> {
    csrf::check_origin(&state, &req)?;
    let return_to = safe_return_to(body.return_to.as_deref());
    let binding = req
        .cookie(BINDING_COOKIE)
        .map(|c| c.value().to_owned())
        .ok_or_else(passkeys::challenge_expired)?;
    let asserted = ceremony::finish_authentication(
        &state.identity,
        &binding,
        &body.challenge_id,
        &body.credential,
        &client,
    )
    .await?;
    let Owner::Account(account_id) = asserted.owner else {
        // A civil servant's passkey signs in at the back office only.
        return Err(passkeys::invalid_assertion(
            "staff passkey on the citizens' sign-in",
        ));
    };
    let done = if asserted.confirmed {
        let step = second_step::current_step(&state, &req, &session)
            .await?
            .filter(|s| s.account().as_uuid() == account_id)
            .ok_or_else(|| passkeys::invalid_assertion("no step of this account"))?;
        second_step::complete(&state, step, asserted.method, &client, &return_to).await?
    } else {
        sign_in(
            &state,
            AccountId::from(account_id),
            asserted.method,
            &client,
            &return_to,
        )
        .await?
    };
    second_step::completed_json(&state, &session, done).await
}

/// A passkey alone: a new session.
async fn sign_in(
    state: &AppState,
    account_id: AccountId,
    method: Method,
    client: &ClientInfo,
    return_to: &str,
) -> AppResult<Completed> {
    let mut conn = state.db.get().await?;
    let account = accounts::find(&mut conn, account_id.as_uuid()).await?;
    drop(conn);
    login::check_status(&account)?;
    let now = state.clock.now();
    let session = Session {
        account_id,
        level: u8::try_from(account.assurance_level).unwrap_or(1),
        acting_for: None,
        methods: vec![method],
        authenticated_at: now,
        created_at: now,
        last_seen_at: now,
        user_agent: client.user_agent.clone(),
        ip: client.ip.clone(),
    };
    login::complete_sign_in(state, &account, None, client, &session.methods).await?;
    let token = state.identity.sessions.create(&session).await?;
    Ok(Completed {
        location: super::auth::after_sign_in(state, account_id, return_to).await?,
        session_token: Some(token),
    })
}

/// `GET /assets/passkeys.js`: the WebAuthn glue of our pages.
pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(include_str!("../../../templates/assets/passkeys.js"))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/login/passkey/options").route(web::post().to(options)))
        .service(web::resource("/login/passkey").route(web::post().to(finish)))
        .service(web::resource("/assets/passkeys.js").route(web::get().to(script)));
}
