//! RP-initiated logout (RP-Initiated Logout 1.0): the end-session endpoint
//! by GET or POST, and the person's confirmation.

use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use super::see_other;
use crate::error::Code;
use crate::oidc::logout::EndSessionRequest;
use crate::{
    error::AppError,
    http::AppState,
    http::{
        csrf,
        pages::{PageResult, html, render},
        session::MaybeSession,
    },
};

#[derive(Template)]
#[template(path = "auth/end_session.html")]
struct EndSessionPage<'a> {
    csrf_token: &'a str,
    logout_id: &'a str,
    client_id: Option<&'a str>,
    signed_in: bool,
}

/// `GET /oauth2/logout` (end_session_endpoint): asks the person to confirm.
pub async fn end_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: MaybeSession,
    query: web::Query<EndSessionRequest>,
) -> PageResult {
    start(&state, &req, &session, &query).await
}

/// A logout request checked, then the confirmation page (or straight back
/// when nobody is signed in).
async fn start(
    state: &AppState,
    req: &HttpRequest,
    session: &MaybeSession,
    request: &EndSessionRequest,
) -> PageResult {
    let (id, pending) = crate::oidc::logout::start(&state.oidc, request).await?;
    if session.0.is_none()
        && let Some(redirect) = &pending.redirect
    {
        // Nothing to end: go straight back.
        crate::oidc::logout::take(state, &id).await?;
        return Ok(see_other(redirect));
    }
    let (csrf_token, cookie) = csrf::token_for(state, req);
    let body = render(&EndSessionPage {
        csrf_token: &csrf_token,
        logout_id: &id,
        client_id: pending.client_id.as_deref(),
        signed_in: session.0.is_some(),
    })?;
    Ok(html(actix_web::http::StatusCode::OK, body, cookie))
}

/// A POST to the end-session endpoint: a client's logout request
/// (RP-Initiated Logout 1.0 §2: form parameters, like the GET query), or
/// the person's answer to our confirmation page (with its `logout_id`).
#[derive(Debug, Deserialize)]
pub struct EndSessionPost {
    #[serde(default)]
    logout_id: Option<String>,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    csrf_token: String,
    #[serde(flatten)]
    request: EndSessionRequest,
}

/// `POST /oauth2/logout`: a client's logout request, or the confirmation.
pub async fn end_session_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: crate::identity::ClientInfo,
    session: MaybeSession,
    form: web::Form<EndSessionPost>,
) -> PageResult {
    match &form.logout_id {
        Some(id) => confirm(&state, &req, &client, &session, id, &form).await,
        None => start(&state, &req, &session, &form.request).await,
    }
}

/// Ends the session (on `decision=logout`) and goes back to the client.
async fn confirm(
    state: &AppState,
    req: &HttpRequest,
    client: &crate::identity::ClientInfo,
    session: &MaybeSession,
    logout_id: &str,
    form: &EndSessionPost,
) -> PageResult {
    csrf::verify(state, req, &form.csrf_token)?;
    let pending = crate::oidc::logout::take(state, logout_id)
        .await?
        .ok_or_else(|| AppError::from(Code::LogoutExpired))?;
    let mut response = if form.decision == "logout" {
        if let Some(current) = &session.0 {
            if let Some(ended) = state.identity.sessions.revoke(&current.token).await? {
                crate::identity::session_end::sessions_ended(state, &[ended]).await?;
            }
            let mut conn = state.db.get().await.map_err(AppError::from)?;
            crate::identity::audit::record(
                &mut conn,
                current.session.account_id,
                "signed_out",
                client,
                json!({ "client_id": pending.client_id }),
                state.clock.now(),
            )
            .await?;
        }
        match &pending.redirect {
            Some(url) => see_other(url),
            None => see_other("/logout"),
        }
    } else {
        see_other("/")
    };
    if form.decision == "logout" {
        response
            .add_cookie(&crate::http::session::clear_session_cookie(state))
            .map_err(AppError::internal)?;
    }
    Ok(response)
}
