//! The authorization endpoint's decisions (OpenID Connect Core §3.1.2):
//! which errors are shown as a page (unknown client, unregistered redirect
//! URI: never redirect there) and which go back to the client; PKCE S256
//! required; `prompt`, `max_age` and `acr_values` honoured, never silently
//! downgraded; consent remembered per client and scope set; single-use codes
//! (60 s) kept in Redis.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use url::Url;

pub use crate::oidc::request::{AuthorizeRequest, Checked, Rejection, check_request, page_lang};

use crate::domain::assurance::AcrNeed;
use crate::error::Code;
use crate::infra::Core;
use crate::oidc::Provider;
use crate::{
    crypto::tokens,
    error::{AppError, AppResult},
    identity::sessions::Session,
    oidc::{clients, par},
    storage::oidc::{self as store, ClientRow},
};

/// How long a code may wait for its exchange.
pub const CODE_TTL_SECS: u64 = 60;
/// How long a consent page may wait for its answer.
const CONSENT_TTL_SECS: u64 = 600;

/// What the endpoint does next.
#[derive(Debug)]
pub enum Outcome {
    /// Show an error page (do not redirect: the client or URI is not trusted).
    ErrorPage(AppError),
    /// Redirect the browser to this URL (the client's, with a code or an error).
    Redirect(String),
    /// Send the browser to sign in, then back to `return_to`.
    SignIn {
        /// The authorization URL to come back to.
        return_to: String,
        /// A sign-in name to prefill.
        login_hint: Option<String>,
        /// `en` when the client asked for English pages.
        lang: Option<&'static str>,
    },
    /// Ask for consent.
    Consent(Box<PendingConsent>),
    /// Send the signed-in browser to the second step, then back to `return_to`.
    StepUp {
        /// The authorization URL to come back to.
        return_to: String,
    },
}

/// A consent question waiting for its answer (kept in Redis).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingConsent {
    /// Its id (in the consent form).
    pub id: String,
    /// The client.
    pub client_id: String,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// The request, to finish it after consent.
    pub request: AuthorizeRequest,
    /// Who is asked.
    pub account_id: uuid::Uuid,
}

/// A code's grant, kept in Redis until exchanged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeGrant {
    /// The client.
    pub client_id: String,
    /// The redirect URI used.
    pub redirect_uri: String,
    /// The account.
    pub account_id: uuid::Uuid,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The nonce for the ID token.
    pub nonce: Option<String>,
    /// PKCE challenge.
    pub code_challenge: String,
    /// When the person authenticated.
    pub auth_time: DateTime<Utc>,
    /// Assurance level.
    pub level: u8,
    /// Methods used.
    pub amr: Vec<String>,
    /// Session id.
    pub sid: String,
    /// The business the person acts for.
    #[serde(default)]
    pub acting_for: Option<uuid::Uuid>,
    /// The resource server asked for (RFC 8707), checked at the request.
    pub resource: Option<String>,
    /// When the code was issued (its store expires it too).
    #[serde(default)]
    pub issued_at: Option<DateTime<Utc>>,
    /// The DPoP key the code is bound to (`dpop_jkt`, RFC 9449 §10).
    #[serde(default)]
    pub dpop_jkt: Option<String>,
}

fn redirect_with(base: &str, params: &[(&str, &str)]) -> String {
    match Url::parse(base) {
        Ok(mut url) => {
            {
                let mut pairs = url.query_pairs_mut();
                for (k, v) in params {
                    pairs.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => base.to_owned(),
    }
}

fn error_redirect(
    state: &Core,
    uri: &str,
    req: &AuthorizeRequest,
    error: &str,
    description: &str,
) -> Outcome {
    let issuer = state.settings.issuer();
    let mut params = vec![
        ("error", error),
        ("error_description", description),
        ("iss", issuer.as_str()),
    ];
    if let Some(s) = req.state.as_deref() {
        params.push(("state", s));
    }
    Outcome::Redirect(redirect_with(uri, &params))
}

fn page_error(code: Code, detail: &str) -> Outcome {
    Outcome::ErrorPage(AppError::from(code).with_detail(detail.to_owned()))
}

/// Removes what a fresh sign-in satisfies: `prompt=login`, `max_age` and
/// the `id_token_hint` (whoever just signed in is the answer).
fn drop_fresh_login(req: &mut AuthorizeRequest) {
    req.id_token_hint = None;
    req.prompt = req.prompt.take().map(|p| {
        p.split_whitespace()
            .filter(|v| *v != "login")
            .collect::<Vec<_>>()
            .join(" ")
    });
    if req.prompt.as_deref() == Some("") {
        req.prompt = None;
    }
    req.max_age = None;
}

/// The authorization URL with some parameters removed (to come back after sign-in).
pub fn authorize_url_without(req: &AuthorizeRequest, drop_prompt_login: bool) -> String {
    let mut copy = req.clone();
    if drop_prompt_login {
        drop_fresh_login(&mut copy);
    }
    let query = serde_urlencoded::to_string(&copy).unwrap_or_default();
    format!("/oauth2/authorize?{query}")
}

/// The client of a request and the request itself (a pushed one replaces
/// every parameter but `client_id`, RFC 9126 §4), or the page that refuses it.
async fn resolve(
    state: &Provider,
    req: &AuthorizeRequest,
) -> AppResult<Result<(ClientRow, AuthorizeRequest, bool), Outcome>> {
    let Some(client_id) = req.client_id.as_deref() else {
        return Ok(Err(page_error(
            Code::InvalidClient,
            "Thiếu client_id: ứng dụng không xác định.",
        )));
    };
    let Some(client) = clients::find(state, client_id).await? else {
        return Ok(Err(page_error(
            Code::InvalidClient,
            "Ứng dụng yêu cầu đăng nhập chưa được đăng ký với hệ thống.",
        )));
    };
    let Some(uri) = req.request_uri.as_deref() else {
        return Ok(Ok((client, req.clone(), false)));
    };
    Ok(match par::resolve(state, &client, uri).await? {
        Some(pushed) => Ok((client, pushed, true)),
        None => Err(page_error(
            Code::InvalidRequestUriPage,
            "Yêu cầu đăng nhập đã hết hạn hoặc không hợp lệ. Vui lòng quay lại ứng dụng và thử lại.",
        )),
    })
}

/// A request checked against its client, with what it was pushed through.
struct Ready<'a> {
    client: ClientRow,
    req: &'a AuthorizeRequest,
    pushed: bool,
    checked: Checked,
}

impl Ready<'_> {
    fn redirect_uri(&self) -> &str {
        &self.checked.redirect_uri
    }

    fn error(&self, state: &Core, error: &str, description: &str) -> Outcome {
        error_redirect(state, self.redirect_uri(), self.req, error, description)
    }
}

/// The sign-in to go through first, when there is no session fresh enough.
async fn sign_in_first(
    state: &Provider,
    ready: &Ready<'_>,
    session: Option<&Session>,
) -> AppResult<Option<Outcome>> {
    let prompt = &ready.checked.prompt;
    let now = state.clock.now();
    let stale = |s: &Session| {
        ready
            .checked
            .max_age
            .is_some_and(|m| (now - s.authenticated_at).num_seconds() > m)
    };
    // An `id_token_hint` naming someone else than the signed-in person
    // asks for that person: the session does not do.
    let other_person = match (session, ready.req.id_token_hint.as_deref()) {
        (Some(s), Some(hint)) => {
            !crate::oidc::logout::hint_names(state, &ready.client, hint, s.account_id.as_uuid())
                .await?
        }
        _ => false,
    };
    if session.is_some_and(|s| !prompt.contains("login") && !stale(s)) && !other_person {
        return Ok(None);
    }
    if prompt.contains("none") {
        return Ok(Some(ready.error(
            state,
            "login_required",
            "the user is not signed in",
        )));
    }
    let req = ready.req;
    let return_to = if ready.pushed {
        // The pushed request was used once; the sign-in comes back to a
        // continuation of it (prompt=login and max_age now satisfied).
        let mut again = req.clone();
        drop_fresh_login(&mut again);
        par::continuation(state, &ready.client, &again).await?
    } else {
        authorize_url_without(req, true)
    };
    Ok(Some(Outcome::SignIn {
        return_to,
        login_hint: req.login_hint.clone().filter(|h| h.len() <= 256),
        lang: page_lang(req),
    }))
}

/// The assurance the client asks for (`acr_values`), when the session lacks it.
async fn assurance_missing(
    state: &Provider,
    ready: &Ready<'_>,
    session: &Session,
) -> AppResult<Option<Outcome>> {
    let prompt = &ready.checked.prompt;
    let wanted: Vec<&str> = ready
        .req
        .acr_values
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let need = crate::domain::assurance::acr_need(&wanted, session.level);
    if need == AcrNeed::Unreachable {
        // No sign-in can raise an unproven account: only a proof of identity.
        let error = if prompt.contains("none") {
            "login_required"
        } else {
            "access_denied"
        };
        let why = "this client requires an identity-verified (level 2) account";
        return Ok(Some(ready.error(state, error, why)));
    }
    if need == AcrNeed::Nothing || crate::domain::assurance::is_strong(&session.methods) {
        return Ok(None);
    }
    // Proven (or asked for a strong sign-in only), but this session
    // signed in with a password alone: the second step, not a refusal.
    if prompt.contains("none") {
        let why = "a second factor is required";
        return Ok(Some(ready.error(state, "interaction_required", why)));
    }
    let return_to = if ready.pushed {
        par::continuation(state, &ready.client, ready.req).await?
    } else {
        authorize_url_without(ready.req, false)
    };
    Ok(Some(Outcome::StepUp { return_to }))
}

/// Asks for consent when the scopes are not all consented (or `prompt=consent`).
async fn consent_needed(
    state: &Provider,
    ready: &Ready<'_>,
    session: &Session,
    scopes: &[String],
) -> AppResult<Option<Outcome>> {
    let prompt = &ready.checked.prompt;
    let mut conn = state.db.get().await?;
    let consented = store::consented_scopes(
        &mut conn,
        session.account_id.as_uuid(),
        &ready.client.client_id,
    )
    .await?;
    drop(conn);
    // Offline access is asked for each time (Core §11): a remembered
    // consent never grants it on its own.
    let offline = scopes.iter().any(|s| s == "offline_access");
    let covered = !offline && consented.is_some_and(|c| scopes.iter().all(|s| c.contains(s)));
    if covered && !prompt.contains("consent") {
        return Ok(None);
    }
    if prompt.contains("none") {
        let why = "the user has not consented";
        return Ok(Some(ready.error(state, "consent_required", why)));
    }
    let pending = PendingConsent {
        id: tokens::generate(),
        client_id: ready.client.client_id.clone(),
        scopes: scopes.to_vec(),
        request: ready.req.clone(),
        account_id: session.account_id.as_uuid(),
    };
    let mut kv = state.kv.conn().await?;
    let body = serde_json::to_string(&pending).map_err(AppError::internal)?;
    let _: () = kv
        .set_ex(consent_key(state, &pending.id), body, CONSENT_TTL_SECS)
        .await?;
    Ok(Some(Outcome::Consent(Box::new(pending))))
}

/// Decides what to do with an authorization request for the signed-in `session` (if any).
pub async fn authorize(
    state: &Provider,
    req: &AuthorizeRequest,
    session: Option<&Session>,
) -> AppResult<Outcome> {
    let (client, req, pushed) = match resolve(state, req).await? {
        Ok(resolved) => resolved,
        Err(page) => return Ok(page),
    };
    let req = &req;
    let checked = match check_request(&client, req) {
        Ok(c) => c,
        Err(Rejection::Untrusted(code, detail)) => return Ok(page_error(code, detail)),
        Err(Rejection::ToClient(error, description)) => {
            let uri = req.redirect_uri.as_deref().unwrap_or_default();
            return Ok(error_redirect(state, uri, req, error, &description));
        }
    };
    let ready = Ready {
        client,
        req,
        pushed,
        checked,
    };
    if ready.client.require_par && !pushed {
        let why = "this client must push its authorization requests (PAR)";
        return Ok(ready.error(state, "invalid_request", why));
    }
    if crate::oidc::audience::resolve(state, req.resource.as_deref())
        .await?
        .is_none()
    {
        let why = "no resource server is registered for this resource";
        return Ok(ready.error(state, "invalid_target", why));
    }
    if let Some(outcome) = sign_in_first(state, &ready, session).await? {
        return Ok(outcome);
    }
    let Some(session) = session else {
        return Err(AppError::internal(anyhow::anyhow!(
            "signed in without a session"
        )));
    };
    if let Some(outcome) = assurance_missing(state, &ready, session).await? {
        return Ok(outcome);
    }
    let mut scopes: Vec<String> = ready.checked.scopes.iter().cloned().collect();
    if ready.checked.prompt.contains("none") {
        // No one can be asked for offline access: it is ignored (Core §11).
        scopes.retain(|s| s != "offline_access");
    }
    if let Some(outcome) = consent_needed(state, &ready, session, &scopes).await? {
        return Ok(outcome);
    }
    issue_code(
        state,
        &ready.client,
        req,
        ready.redirect_uri(),
        session,
        scopes,
    )
    .await
}

fn consent_key(state: &Core, id: &str) -> String {
    state
        .kv
        .key(&format!("oidc_consent:{}", tokens::hash_hex(id)))
}

fn code_key(state: &Core, code: &str) -> String {
    state
        .kv
        .key(&format!("oidc_code:{}", tokens::hash_hex(code)))
}

async fn issue_code(
    state: &Core,
    client: &ClientRow,
    req: &AuthorizeRequest,
    redirect_uri: &str,
    session: &Session,
    scopes: Vec<String>,
) -> AppResult<Outcome> {
    let code = tokens::generate();
    let grant = CodeGrant {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        account_id: session.account_id.as_uuid(),
        scopes,
        nonce: req.nonce.clone(),
        code_challenge: req.code_challenge.clone().unwrap_or_default(),
        auth_time: session.authenticated_at,
        level: session.asserted_level(),
        amr: crate::domain::assurance::amr(&session.methods),
        sid: session.sid(),
        acting_for: session.acting_for.map(|b| b.as_uuid()),
        resource: req.resource.clone(),
        issued_at: Some(state.clock.now()),
        dpop_jkt: req.dpop_jkt.clone(),
    };
    let body = serde_json::to_string(&grant).map_err(AppError::internal)?;
    let mut kv = state.kv.conn().await?;
    let _: () = kv
        .set_ex(code_key(state, &code), body, CODE_TTL_SECS)
        .await?;
    let issuer = state.settings.issuer();
    let mut params = vec![("code", code.as_str()), ("iss", issuer.as_str())];
    if let Some(s) = req.state.as_deref() {
        params.push(("state", s));
    }
    Ok(Outcome::Redirect(redirect_with(redirect_uri, &params)))
}

/// Answers a consent question for the signed-in `session`.
pub async fn answer_consent(
    state: &Provider,
    id: &str,
    allow: bool,
    session: &Session,
) -> AppResult<Outcome> {
    let mut kv = state.kv.conn().await?;
    let raw: Option<String> = redis::cmd("GETDEL")
        .arg(consent_key(state, id))
        .query_async(&mut kv)
        .await?;
    let pending: PendingConsent = raw
        .and_then(|r| serde_json::from_str(&r).ok())
        .filter(|p: &PendingConsent| p.account_id == session.account_id.as_uuid())
        .ok_or_else(|| AppError::from(Code::ConsentExpired))?;
    let client = clients::find(state, &pending.client_id)
        .await?
        .ok_or_else(|| AppError::from(Code::InvalidClient))?;
    let redirect_uri = pending.request.redirect_uri.clone().unwrap_or_default();
    if !allow {
        return Ok(error_redirect(
            state,
            &redirect_uri,
            &pending.request,
            "access_denied",
            "the user denied the request",
        ));
    }
    let now = state.clock.now();
    let account = session.account_id;
    let scopes = pending.scopes.clone();
    let client_id = client.client_id.clone();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        store::grant_consent(c, account.as_uuid(), &client_id, &scopes, now).await?;
        crate::identity::audit::record(
            c,
            account,
            "consent_granted",
            &crate::identity::ClientInfo::default(),
            serde_json::json!({ "client_id": client_id, "scopes": scopes }),
            now,
        )
        .await
    })
    .await?;
    drop(conn);
    issue_code(
        state,
        &client,
        &pending.request,
        &redirect_uri,
        session,
        pending.scopes,
    )
    .await
}

/// Takes a code's grant (a code works once).
pub async fn take_code(state: &Core, code: &str) -> AppResult<Option<CodeGrant>> {
    if !tokens::well_formed(code) {
        return Ok(None);
    }
    let mut kv = state.kv.conn().await?;
    let raw: Option<String> = redis::cmd("GETDEL")
        .arg(code_key(state, code))
        .query_async(&mut kv)
        .await?;
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
}
