//! `GET /api/v1/connected-apps`, `DELETE /api/v1/connected-apps/{client_id}`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::{
    error::AppError,
    http::AppState,
    http::{csrf, session::ApiCaller},
    identity::ClientInfo,
    oidc::connected_apps,
};

/// `GET /api/v1/connected-apps`.
#[utoipa::path(get, path = "/api/v1/connected-apps", tag = "account", security(("session" = []), ("bearer" = ["account"])),
    responses(
        (status = 200, description = "Applications the person consented to (`items`)", body = crate::http::api::openapi::ConnectedAppList),
        (status = 401, description = "Not signed in", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(state: web::Data<AppState>, caller: ApiCaller) -> Result<HttpResponse, AppError> {
    caller.require_scope("account")?;
    let items = connected_apps::list(&state, caller.account_id).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

/// `DELETE /api/v1/connected-apps/{client_id}`: 204; the next sign-in asks again.
#[utoipa::path(delete, path = "/api/v1/connected-apps/{client_id}", tag = "account", security(("session" = []), ("bearer" = ["account"])),
    params(("client_id" = String, Path, description = "The application")),
    responses(
        (status = 204, description = "Consent withdrawn"),
        (status = 404, description = "Not a connected application", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    caller: ApiCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("account")?;
    csrf::check_origin(&state, &req)?;
    connected_apps::revoke(&state, caller.account_id, &path, &client).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/connected-apps").route(web::get().to(list)))
        .service(web::resource("/connected-apps/{client_id}").route(web::delete().to(revoke)));
}
