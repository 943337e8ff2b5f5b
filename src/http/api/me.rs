//! `GET /api/v1/me` and the account holder's sessions and security events.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::{
    error::AppError,
    http::AppState,
    http::{
        csrf,
        session::{ApiCaller, CurrentSession},
    },
    identity::profile,
};

/// `GET /api/v1/me`: profile, assurance level, businesses. A browser
/// session sees all of its own; a bearer token sees what its scopes grant,
/// as UserInfo does (`profile`, `email`, `phone`, `national_id` at level 2,
/// `business`), with `sub` instead of the account id.
#[utoipa::path(get, path = "/api/v1/me", tag = "account", security(("session" = []), ("bearer" = ["account"])),
    responses(
        (status = 200, description = "The signed-in person (for a bearer token: `sub`, `assurance_level` and the fields its scopes grant, businesses by tax code)", body = crate::identity::profile::Profile),
        (status = 401, description = "Not signed in", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn me(state: web::Data<AppState>, caller: ApiCaller) -> Result<HttpResponse, AppError> {
    caller.require_scope("account")?;
    let profile = profile::profile(&state, caller.account_id, caller.acting_for).await?;
    match (&caller.scopes, &caller.token) {
        (Some(scopes), Some((sub, acr))) => {
            let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
            let disclose = crate::oidc::userinfo::Disclosure::of(&scopes, acr);
            Ok(HttpResponse::Ok().json(disclose.profile(profile, sub)))
        }
        _ => Ok(HttpResponse::Ok().json(profile)),
    }
}

/// `GET /api/v1/me/sessions`.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "account", security(("session" = [])),
    responses(
        (status = 200, description = "Live sessions, newest first (`items`)", body = crate::http::api::openapi::SessionList),
        (status = 401, description = "Not signed in", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn sessions(
    state: web::Data<AppState>,
    current: CurrentSession,
) -> Result<HttpResponse, AppError> {
    let list = state
        .identity
        .sessions
        .list(
            &current.session.account_id.to_string(),
            Some(&current.token),
        )
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "items": list })))
}

/// `DELETE /api/v1/me/sessions/{id}`: 204, or 404 for an unknown id.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "account", security(("session" = [])),
    params(("id" = String, Path, description = "The session's public id")),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "Not signed in", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: CurrentSession,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    csrf::check_origin(&state, &req)?;
    if let Some(ended) = state
        .identity
        .sessions
        .revoke_by_public_id(&current.session.account_id.to_string(), &path)
        .await?
    {
        crate::identity::session_end::sessions_ended(&state, &[ended]).await?;
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(AppError::not_found("session_not_found").with_detail("Không tìm thấy phiên đăng nhập."))
    }
}

/// Query of the events list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    before: Option<uuid::Uuid>,
    limit: Option<i64>,
}

/// `GET /api/v1/me/events?before=&limit=`: security events, newest first.
#[utoipa::path(get, path = "/api/v1/me/events", tag = "account", security(("session" = [])),
    params(EventsQuery),
    responses(
        (status = 200, description = "Events (`items`) and the cursor of the next page (`next_before`)", body = crate::http::api::openapi::EventList),
        (status = 401, description = "Not signed in", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn events(
    state: web::Data<AppState>,
    current: CurrentSession,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, AppError> {
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let items = profile::events(&state, current.session.account_id, query.before, limit).await?;
    let next = crate::http::api::next_cursor(&items, limit, |e| e.id);
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_before": next })))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me").route(web::get().to(me)))
        .service(web::resource("/me/sessions").route(web::get().to(sessions)))
        .service(web::resource("/me/sessions/{id}").route(web::delete().to(revoke_session)))
        .service(web::resource("/me/events").route(web::get().to(events)));
}
