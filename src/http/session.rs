//! The browser session cookie and the extractors that read it, plus the
//! client information (address, software) of a request.

use actix_web::{
    FromRequest, HttpMessage, HttpRequest,
    cookie::{Cookie, SameSite, time::Duration as CookieDuration},
    dev::Payload,
    web,
};
use futures_util::future::{LocalBoxFuture, Ready, ready};

use crate::error::Code;
use crate::{
    error::AppError,
    http::AppState,
    identity::{ClientInfo, sessions::Session},
};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "es_session";

/// Whether cookies must be `Secure` (the public URL is https).
pub fn secure_cookies(state: &AppState) -> bool {
    state.settings.public_url.scheme() == "https"
}

/// The session cookie for `token`: HttpOnly, SameSite=Lax, Secure over https.
pub fn session_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .secure(secure_cookies(state))
        .same_site(SameSite::Lax)
        .finish()
}

/// A cookie that removes the session cookie.
pub fn clear_session_cookie(state: &AppState) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .secure(secure_cookies(state))
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::ZERO)
        .finish()
}

impl FromRequest for ClientInfo {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let hops = req
            .app_data::<web::Data<AppState>>()
            .map_or(0, |s| s.settings.trusted_proxy_hops);
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(200).collect());
        ready(Ok(Self {
            ip: client_ip(req, hops),
            user_agent,
        }))
    }
}

/// The client's address: the peer, or with `hops` trusted proxies in front,
/// the `X-Forwarded-For` entry that the outermost trusted proxy saw.
fn client_ip(req: &HttpRequest, hops: usize) -> Option<String> {
    let peer = req.peer_addr().map(|a| a.ip().to_string());
    if hops == 0 {
        return peer;
    }
    let forwarded: Vec<String> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_owned())
        .filter(|s| s.parse::<std::net::IpAddr>().is_ok())
        .collect();
    // Each proxy appends the address it received from: the last `hops` entries
    // come from our proxies, and the first of them is what the outermost saw.
    forwarded
        .len()
        .checked_sub(hops)
        .and_then(|i| forwarded.get(i).cloned())
        .or(peer)
}

/// The signed-in person's session, with its cookie token.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    /// The session.
    pub session: Session,
    /// The cookie token (to exclude it when revoking the others).
    pub token: String,
}

/// The session if there is one; requests without one get a 401 problem.
impl FromRequest for CurrentSession {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            load(&req)
                .await?
                .ok_or_else(|| AppError::from(Code::NotSignedIn))
        })
    }
}

/// The session, if any; never fails for a missing one.
#[derive(Debug, Clone)]
pub struct MaybeSession(pub Option<CurrentSession>);

impl FromRequest for MaybeSession {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(Self(load(&req).await?)) })
    }
}

async fn load(req: &HttpRequest) -> Result<Option<CurrentSession>, AppError> {
    if let Some(cached) = req.extensions().get::<CurrentSession>() {
        return Ok(Some(cached.clone()));
    }
    let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Err(AppError::internal(anyhow::anyhow!(
            "application state missing"
        )));
    };
    let now = state.clock.now();
    let Some(session) = state.identity.sessions.load(&token, now).await? else {
        return Ok(None);
    };
    let current = CurrentSession { session, token };
    req.extensions_mut().insert(current.clone());
    Ok(Some(current))
}

/// Who calls the JSON API: a bearer access token from our provider (the
/// mobile app, integrators) or a browser session.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// The account.
    pub account_id: crate::domain::AccountId,
    /// The business the session (or the token's grant) acts for.
    pub acting_for: Option<crate::domain::BusinessId>,
    /// The token's scopes; `None` for a browser session (all of the person's own).
    pub scopes: Option<Vec<String>>,
    /// The token's subject (as its client knows the person) and `acr`;
    /// `None` for a browser session.
    pub token: Option<(String, String)>,
    /// How the person signed in (the session's, or the token's `amr`).
    pub methods: Vec<crate::domain::assurance::Method>,
    /// When they signed in (the session's, or the token's `auth_time`).
    pub authenticated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The request's credential (bearer token or session cookie): what a
    /// passkey registration's challenge is bound to.
    pub credential: String,
}

impl ApiCaller {
    /// Refuses a caller whose sign-in is not strong and recent (401
    /// `step_up_required`, with RFC 9470's challenge for bearer tokens).
    pub fn require_recent_strong(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), AppError> {
        match self.authenticated_at {
            Some(at) if crate::domain::assurance::recent_strong(&self.methods, at, now) => Ok(()),
            _ => Err(crate::identity::second_step::step_up_required()),
        }
    }

    /// Refuses a token without `scope` (RFC 6750 `insufficient_scope`).
    pub fn require_scope(&self, scope: &str) -> Result<(), AppError> {
        match &self.scopes {
            Some(scopes) if !scopes.iter().any(|s| s == scope) => {
                Err(AppError::from(Code::InsufficientScope)
                    .with_detail(format!("Mã truy cập không có phạm vi “{scope}”."))
                    .with_header(
                        actix_web::http::header::WWW_AUTHENTICATE,
                        format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\""),
                    ))
            }
            _ => Ok(()),
        }
    }
}

impl FromRequest for ApiCaller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let presented = req
                .headers()
                .get(actix_web::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(crate::oidc::resource::Presented::parse);
            if let Some(presented) = presented {
                let Some(state) = req.app_data::<web::Data<AppState>>() else {
                    return Err(AppError::internal(anyhow::anyhow!(
                        "application state missing"
                    )));
                };
                // Only tokens whose audience is this API (RFC 8707), never
                // another resource server's; a DPoP-bound one with its proof.
                let claims = crate::http::oidc::verify_presented(state, &req, &presented).await?;
                let Some(account) = claims.account_id else {
                    return Err(AppError::from(Code::NoPerson).with_detail("Mã truy cập của hệ thống (client credentials) không đại diện cho công dân nào."));
                };
                return Ok(Self {
                    account_id: account.into(),
                    acting_for: claims.acting_for.map(Into::into),
                    scopes: Some(claims.scope.split_whitespace().map(str::to_owned).collect()),
                    methods: crate::domain::assurance::methods_from_amr(
                        claims.amr.as_deref().unwrap_or_default(),
                    ),
                    authenticated_at: claims
                        .auth_time
                        .and_then(|t| chrono::DateTime::from_timestamp(t, 0)),
                    token: Some((claims.sub, claims.acr)),
                    credential: presented.token().to_owned(),
                });
            }
            let current = load(&req).await?.ok_or_else(|| {
                AppError::from(Code::NotSignedIn).with_header(
                    actix_web::http::header::WWW_AUTHENTICATE,
                    crate::oidc::resource::challenge(),
                )
            })?;
            Ok(Self {
                account_id: current.session.account_id,
                acting_for: current.session.acting_for,
                scopes: None,
                token: None,
                methods: current.session.methods.clone(),
                authenticated_at: Some(current.session.authenticated_at),
                credential: current.token,
            })
        })
    }
}
