//! The applicant's dossiers (scope `dossiers`): drafts, edits with
//! `If-Match`, filing with `Idempotency-Key`, withdrawal, supplements, the list
//! and the progress log.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{
    domain::dossier::Action,
    dossiers::{self, By, NewDraft},
    error::AppError,
    http::AppState,
    http::{csrf, session::ApiCaller},
};

/// `If-Match: "3"` (or `3`, or `W/"3"`): the version the client saw.
pub fn if_match(req: &HttpRequest) -> Result<Option<i32>, AppError> {
    let Some(raw) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    raw.to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse::<i32>().ok())
        .map(Some)
        .ok_or_else(|| {
            AppError::bad_request("invalid_if_match")
                .with_detail("If-Match phải là phiên bản (ETag) của hồ sơ.")
        })
}

/// The `Idempotency-Key` header.
pub fn idempotency_key(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
}

/// A JSON answer with the dossier's version as its ETag.
pub fn with_etag(status: u16, body: &Value) -> HttpResponse {
    let mut builder = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK),
    );
    if let Some(v) = body.get("version").and_then(Value::as_i64) {
        builder.insert_header((header::ETAG, format!("\"{v}\"")));
    }
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    builder.json(body)
}

/// `POST /api/v1/dossiers`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateRequest {
    /// The service's code.
    service_code: String,
    /// The agency to file at (one that handles the service).
    agency_code: String,
    /// The tax code of a business the applicant acts for.
    on_behalf_of: Option<String>,
    /// First form values (may be incomplete).
    #[serde(default)]
    #[schema(value_type = Object)]
    form_values: Map<String, Value>,
}

/// `POST /api/v1/dossiers`: a draft; a retry with the same `Idempotency-Key` gets the same draft.
#[utoipa::path(post, path = "/api/v1/dossiers", tag = "dossiers", request_body = CreateRequest,
    security(("session" = []), ("bearer" = ["dossiers"])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, description = "The draft", body = crate::dossiers::DossierView),
        (status = 422, description = "Unknown service or agency, or bad values", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: ApiCaller,
    body: web::Json<CreateRequest>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("dossiers")?;
    csrf::check_origin(&state, &req)?;
    let body = body.into_inner();
    let key = idempotency_key(&req);
    let (status, value) = dossiers::create_draft(
        &state,
        caller.account_id,
        NewDraft {
            service_code: body.service_code,
            agency_code: body.agency_code,
            on_behalf_of: body.on_behalf_of,
            form_values: body.form_values,
        },
        key.as_deref(),
    )
    .await?;
    Ok(with_etag(status, &value))
}

/// Query of the list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Only this status.
    status: Option<String>,
    /// The id of the last dossier of the previous page.
    before: Option<Uuid>,
    /// Page size, 1–100 (default 20).
    limit: Option<i64>,
}

/// `GET /api/v1/dossiers`: mine, newest first, keyset pages.
#[utoipa::path(get, path = "/api/v1/dossiers", tag = "dossiers", params(ListQuery),
    security(("session" = []), ("bearer" = ["dossiers"])),
    responses((status = 200, description = "`items` and `next_before`", body = Object)))]
pub async fn list(
    state: web::Data<AppState>,
    caller: ApiCaller,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("dossiers")?;
    let limit = query.limit.unwrap_or(20);
    let items = dossiers::list_mine(
        &state,
        caller.account_id,
        query.status.as_deref(),
        query.before,
        limit,
    )
    .await?;
    let next = crate::http::api::next_cursor(&items, limit, |d| d.id);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "items": items, "next_before": next })))
}

/// A dossier id from a path; nonsense is "not found", like an unknown id.
pub(crate) fn dossier_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw)
        .map_err(|_| AppError::not_found("dossier_not_found").with_detail("Không tìm thấy hồ sơ."))
}

/// A file id from a path.
pub(crate) fn file_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw)
        .map_err(|_| AppError::not_found("file_not_found").with_detail("Không tìm thấy tệp."))
}

/// `GET /api/v1/dossiers/{id}`.
#[utoipa::path(get, path = "/api/v1/dossiers/{id}", tag = "dossiers",
    security(("session" = []), ("bearer" = ["dossiers"])),
    params(("id" = Uuid, Path, description = "The dossier")),
    responses(
        (status = 200, description = "The dossier (ETag: its version)", body = crate::dossiers::DossierView),
        (status = 404, description = "No such dossier of yours", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("dossiers")?;
    let view = dossiers::get(&state, caller.account_id, dossier_id(&path)?).await?;
    Ok(with_etag(
        200,
        &serde_json::to_value(view).map_err(AppError::internal)?,
    ))
}

/// `PATCH /api/v1/dossiers/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PatchRequest {
    /// Values to set (`null` clears one).
    #[schema(value_type = Object)]
    form_values: Map<String, Value>,
}

/// `PATCH /api/v1/dossiers/{id}`: change form values of a draft; `If-Match` guards against stale edits.
#[utoipa::path(patch, path = "/api/v1/dossiers/{id}", tag = "dossiers", request_body = PatchRequest,
    security(("session" = []), ("bearer" = ["dossiers"])),
    params(("id" = Uuid, Path, description = "The dossier"), ("If-Match" = Option<String>, Header, description = "The version last seen")),
    responses(
        (status = 200, description = "The dossier", body = crate::dossiers::DossierView),
        (status = 412, description = "Changed since", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: ApiCaller,
    path: web::Path<String>,
    body: web::Json<PatchRequest>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("dossiers")?;
    csrf::check_origin(&state, &req)?;
    let view = dossiers::update_values(
        &state,
        caller.account_id,
        dossier_id(&path)?,
        if_match(&req)?,
        body.into_inner().form_values,
    )
    .await?;
    Ok(with_etag(
        200,
        &serde_json::to_value(view).map_err(AppError::internal)?,
    ))
}

/// A note with an action.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub struct NoteRequest {
    /// What the applicant adds or why they withdraw.
    note: Option<String>,
}

async fn applicant_action(
    state: &AppState,
    req: &HttpRequest,
    caller: &ApiCaller,
    path: &str,
    action: Action,
    body: Option<web::Json<NoteRequest>>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("dossiers")?;
    csrf::check_origin(state, req)?;
    let key = idempotency_key(req);
    let (status, value) = dossiers::act(
        state,
        By::Applicant(caller.account_id),
        dossier_id(path)?,
        action,
        if_match(req)?,
        body.and_then(|b| b.into_inner().note),
        key.as_deref(),
    )
    .await?;
    Ok(with_etag(status, &value))
}

/// `POST /api/v1/dossiers/{id}/submit`: files it (receipt code); safe to retry with `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/dossiers/{id}/submit", tag = "dossiers",
    security(("session" = []), ("bearer" = ["dossiers"])),
    params(("id" = Uuid, Path, description = "The dossier"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe"), ("If-Match" = Option<String>, Header, description = "The version last seen")),
    responses(
        (status = 200, description = "Filed", body = crate::dossiers::DossierView),
        (status = 409, description = "Not from this status (the allowed actions are named)", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Required values missing", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: ApiCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    applicant_action(&state, &req, &caller, &path, Action::Submit, None).await
}

/// `POST /api/v1/dossiers/{id}/withdraw`.
#[utoipa::path(post, path = "/api/v1/dossiers/{id}/withdraw", tag = "dossiers", request_body = Option<NoteRequest>,
    security(("session" = []), ("bearer" = ["dossiers"])),
    params(("id" = Uuid, Path, description = "The dossier")),
    responses((status = 200, description = "Withdrawn", body = crate::dossiers::DossierView)))]
pub async fn withdraw(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: ApiCaller,
    path: web::Path<String>,
    body: Option<web::Json<NoteRequest>>,
) -> Result<HttpResponse, AppError> {
    applicant_action(&state, &req, &caller, &path, Action::Withdraw, body).await
}

/// `POST /api/v1/dossiers/{id}/supplement`: after changing the values asked for; the clock resumes.
#[utoipa::path(post, path = "/api/v1/dossiers/{id}/supplement", tag = "dossiers", request_body = Option<NoteRequest>,
    security(("session" = []), ("bearer" = ["dossiers"])),
    params(("id" = Uuid, Path, description = "The dossier")),
    responses((status = 200, description = "Back in processing; due date moved by the pause", body = crate::dossiers::DossierView)))]
pub async fn supplement(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: ApiCaller,
    path: web::Path<String>,
    body: Option<web::Json<NoteRequest>>,
) -> Result<HttpResponse, AppError> {
    applicant_action(&state, &req, &caller, &path, Action::Supplement, body).await
}

/// `GET /api/v1/dossiers/{id}/events`: the progress log the applicant may read.
#[utoipa::path(get, path = "/api/v1/dossiers/{id}/events", tag = "dossiers",
    security(("session" = []), ("bearer" = ["dossiers"])),
    params(("id" = Uuid, Path, description = "The dossier")),
    responses((status = 200, description = "`items`, oldest first", body = Object)))]
pub async fn events(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("dossiers")?;
    let items = dossiers::events(&state, caller.account_id, dossier_id(&path)?).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "items": items })))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/dossiers")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/dossiers/{id}")
            .route(web::get().to(get))
            .route(web::patch().to(patch)),
    )
    .service(web::resource("/dossiers/{id}/submit").route(web::post().to(submit)))
    .service(web::resource("/dossiers/{id}/withdraw").route(web::post().to(withdraw)))
    .service(web::resource("/dossiers/{id}/supplement").route(web::post().to(supplement)))
    .service(web::resource("/dossiers/{id}/events").route(web::get().to(events)));
}

/// Query of an upload.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// The file's name (its extension must match its content).
    name: String,
    /// The document type it stands for (a code from the service's required documents).
    document_type: Option<String>,
}

/// `POST /api/v1/dossiers/{id}/attachments?name=…`: the body is the file
/// (`Content-Type: application/pdf`, `image/jpeg` or `image/png`, at most 10 MB).
#[utoipa::path(post, path = "/api/v1/dossiers/{id}/attachments", tag = "dossiers",
    security(("session" = []), ("bearer" = ["dossiers"])),
    params(("id" = Uuid, Path, description = "The dossier"), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/pdf"),
    responses(
        (status = 201, description = "Attached", body = crate::dossiers::files::FileView),
        (status = 413, description = "Too large (file or dossier)", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a PDF, JPEG or PNG, or not what its name says", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`file_content_invalid`: the bytes are not a well-formed file of the declared type", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn attach(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: ApiCaller,
    path: web::Path<String>,
    query: web::Query<UploadQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("dossiers")?;
    csrf::check_origin(&state, &req)?;
    let query = query.into_inner();
    let view = crate::dossiers::files::attach(
        &state,
        caller.account_id,
        dossier_id(&path)?,
        crate::dossiers::files::Upload {
            name: query.name,
            declared_type: req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            document_type: query.document_type,
            bytes: body,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// `GET /api/v1/dossiers/{id}/attachments`.
#[utoipa::path(get, path = "/api/v1/dossiers/{id}/attachments", tag = "dossiers",
    security(("session" = []), ("bearer" = ["dossiers"])),
    params(("id" = Uuid, Path, description = "The dossier")),
    responses((status = 200, description = "`items`", body = Object)))]
pub async fn attachments(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("dossiers")?;
    let items = crate::dossiers::files::list(&state, caller.account_id, dossier_id(&path)?).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "items": items })))
}

/// A file download: its type, a safe attachment name, no sniffing, no caching.
pub fn file_response(row: &crate::storage::dossiers::FileRow, bytes: web::Bytes) -> HttpResponse {
    bytes_response(&row.name, &row.content_type, bytes)
}

/// The policy of every uploaded file and vault document we serve: a
/// sandboxed document that loads nothing, so a file that a browser renders
/// anyway cannot run script in our origin nor be framed.
pub const FILE_CSP: &str = "sandbox; default-src 'none'; frame-ancestors 'none'";

/// A file's bytes under `name`, of `content_type`: a download (attachment),
/// sandboxed, not sniffed nor cached.
pub fn bytes_response(name: &str, content_type: &str, bytes: web::Bytes) -> HttpResponse {
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    HttpResponse::Ok()
        .content_type(content_type.to_owned())
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, FILE_CSP))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"attachment\"; filename*=UTF-8''{encoded}"),
        ))
        .body(bytes)
}

/// `GET /api/v1/dossiers/{id}/attachments/{file_id}`: the bytes, checked against their SHA-256.
#[utoipa::path(get, path = "/api/v1/dossiers/{id}/attachments/{file_id}", tag = "dossiers",
    security(("session" = []), ("bearer" = ["dossiers"])),
    params(("id" = Uuid, Path, description = "The dossier"), ("file_id" = Uuid, Path, description = "The file")),
    responses((status = 200, description = "The file"), (status = 404, description = "No such file", body = crate::http::api::openapi::Problem, content_type = "application/problem+json")))]
pub async fn download(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("dossiers")?;
    let (id, file) = path.into_inner();
    let file = file_id(&file)?;
    let (row, bytes) = crate::dossiers::files::read(
        &state,
        crate::dossiers::files::Reader::Applicant(caller.account_id),
        dossier_id(&id)?,
        file,
    )
    .await?;
    Ok(file_response(&row, bytes))
}

/// Uploads are larger than JSON bodies; an oversize one is a 413 problem.
pub fn upload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(crate::dossiers::files::MAX_FILE_BYTES)
}

/// Registers the file routes.
pub fn configure_files(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/dossiers/{id}/attachments")
            .app_data(upload_config())
            .route(web::get().to(attachments))
            .route(web::post().to(attach)),
    )
    .service(web::resource("/dossiers/{id}/attachments/{file_id}").route(web::get().to(download)));
}
