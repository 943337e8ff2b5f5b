//! `/api/v1/me/passkeys`: the signed-in citizen's passkeys, for the app and
//! the account page alike.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::{
    error::AppError,
    http::AppState,
    http::{csrf, session::ApiCaller},
    identity::{ClientInfo, passkeys::manage},
};

/// `GET /api/v1/me/passkeys`: newest first.
#[utoipa::path(get, path = "/api/v1/me/passkeys", tag = "account",
    security(("session" = []), ("bearer" = ["account"])),
    responses(
        (status = 200, description = "The caller's passkeys (`items`)", body = crate::http::api::openapi::PasskeyList),
        (status = 401, description = "Not signed in", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(state: web::Data<AppState>, caller: ApiCaller) -> Result<HttpResponse, AppError> {
    caller.require_scope("account")?;
    let items = manage::list(&state, caller.account_id).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

/// `POST /api/v1/me/passkeys/registrations`: the options for
/// `navigator.credentials.create` and the id to finish with.
#[utoipa::path(post, path = "/api/v1/me/passkeys/registrations", tag = "account",
    security(("session" = []), ("bearer" = ["account"])),
    responses(
        (status = 200, description = "`registration_id` and `options` (PublicKeyCredentialCreationOptions as JSON, binary fields base64url); valid five minutes, for this session or token only", body = crate::http::api::openapi::PasskeyChallenge),
        (status = 401, description = "Not signed in, or no strong sign-in in the last ten minutes (`step_up_required`)", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already ten passkeys (`passkey_limit`)", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: ApiCaller,
) -> Result<HttpResponse, AppError> {
    csrf::check_origin(&state, &req)?;
    caller.require_scope("account")?;
    caller.require_recent_strong(state.clock.now())?;
    let (id, options) =
        manage::start(&state.identity, caller.account_id, &caller.credential).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(json!({ "registration_id": id, "options": options })))
}

/// Body of a finished registration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishRegistration {
    /// From the registration's start.
    registration_id: String,
    /// A name to tell it apart (1–64 characters).
    name: String,
    /// The authenticator's answer (RegistrationResponseJSON).
    #[schema(value_type = Object)]
    credential: serde_json::Value,
}

/// `POST /api/v1/me/passkeys`: 201 with the new passkey.
#[utoipa::path(post, path = "/api/v1/me/passkeys", tag = "account",
    request_body = FinishRegistration,
    security(("session" = []), ("bearer" = ["account"])),
    responses(
        (status = 201, description = "Registered; the verified email is told", body = crate::identity::passkeys::manage::PasskeyView),
        (status = 400, description = "Unknown, used, expired or another session's `registration_id` (`passkey_challenge_expired`)", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "This authenticator's credential is registered already (`passkey_already_registered`), or the limit is reached", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The answer does not verify (origin, RP id, challenge, user verification, algorithm, format, size: `passkey_invalid`), or a bad name", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn finish(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    caller: ApiCaller,
    body: web::Json<FinishRegistration>,
) -> Result<HttpResponse, AppError> {
    csrf::check_origin(&state, &req)?;
    caller.require_scope("account")?;
    let view = manage::finish(
        &state.identity,
        caller.account_id,
        &caller.credential,
        &body.registration_id,
        &body.name,
        &body.credential,
        &client,
    )
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Body of a rename.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    /// The new name (1–64 characters).
    name: String,
}

/// `PATCH /api/v1/me/passkeys/{id}`: renames.
#[utoipa::path(patch, path = "/api/v1/me/passkeys/{id}", tag = "account",
    request_body = Rename,
    params(("id" = uuid::Uuid, Path, description = "The passkey")),
    security(("session" = []), ("bearer" = ["account"])),
    responses(
        (status = 200, description = "Renamed", body = crate::identity::passkeys::manage::PasskeyView),
        (status = 404, description = "Not one of the caller's passkeys", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad name", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn rename(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: ApiCaller,
    path: web::Path<uuid::Uuid>,
    body: web::Json<Rename>,
) -> Result<HttpResponse, AppError> {
    csrf::check_origin(&state, &req)?;
    caller.require_scope("account")?;
    let view = manage::rename(&state, caller.account_id, path.into_inner(), &body.name).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// `DELETE /api/v1/me/passkeys/{id}`: 204.
#[utoipa::path(delete, path = "/api/v1/me/passkeys/{id}", tag = "account",
    params(("id" = uuid::Uuid, Path, description = "The passkey")),
    security(("session" = []), ("bearer" = ["account"])),
    responses(
        (status = 204, description = "Removed; the verified email is told"),
        (status = 401, description = "Not signed in, or no strong sign-in in the last ten minutes (`step_up_required`)", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's passkeys", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    caller: ApiCaller,
    path: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, AppError> {
    csrf::check_origin(&state, &req)?;
    caller.require_scope("account")?;
    caller.require_recent_strong(state.clock.now())?;
    manage::remove(&state, caller.account_id, path.into_inner(), &client).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/me/passkeys")
            .route(web::get().to(list))
            .route(web::post().to(finish)),
    )
    .service(web::resource("/me/passkeys/registrations").route(web::post().to(start)))
    .service(
        web::resource("/me/passkeys/{id}")
            .route(web::patch().to(rename))
            .route(web::delete().to(remove)),
    );
}
