//! The staff API (`/api/v1/staff`): a civil servant gets a token with
//! password and TOTP, then works their agency's queue. Role and agency are
//! checked on every action; dossiers of other agencies do not exist here.

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, http::header, web};
use futures_util::future::LocalBoxFuture;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::{
    domain::dossier::Action,
    dossiers::{self, By},
    error::{AppError, ErrorKind},
    http::AppState,
    http::api::dossiers::{dossier_id, file_id, if_match, with_etag},
    identity::{
        ClientInfo,
        sessions::IDLE_TIMEOUT,
        staff::{self, SignInOutcome, StaffSession},
        staff_passkeys,
    },
};

/// A civil servant authenticated by a staff token (`Authorization: Bearer`).
pub struct StaffCaller(pub StaffSession);

impl FromRequest for StaffCaller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let unauthorized = || {
                AppError::new(ErrorKind::Unauthorized, "staff_token_required")
                    .with_detail("Cần mã truy cập của cán bộ (Bearer).")
                    .with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"staff\"")
            };
            let token = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(|t| t.trim().to_owned())
                .ok_or_else(unauthorized)?;
            let Some(state) = req.app_data::<web::Data<AppState>>() else {
                return Err(AppError::internal(anyhow::anyhow!(
                    "application state missing"
                )));
            };
            let client = ClientInfo::extract(&req).await?;
            let session = staff::session(&state.identity, &token, client)
                .await?
                .ok_or_else(unauthorized)?;
            if staff_passkeys::enrolment_required(state, &session).await? {
                return Err(staff_passkeys::passkey_required());
            }
            Ok(Self(session))
        })
    }
}

/// `POST /api/v1/staff/tokens`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    /// Username.
    username: String,
    /// Password.
    #[schema(value_type = String)]
    password: SecretString,
    /// The current TOTP code (or a recovery code).
    totp: String,
}

/// `POST /api/v1/staff/tokens`: a staff token (expires after 30 minutes unused).
#[utoipa::path(post, path = "/api/v1/staff/tokens", tag = "staff", request_body = TokenRequest,
    responses(
        (status = 201, description = "`access_token`, `token_type`, `expires_in`", body = Object),
        (status = 401, description = "Wrong credentials", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Second factor not set up yet (`enrolment_required`), or the agency requires passkeys of this civil servant, who signs in at /backoffice/login (`passkey_sign_in_required`)", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn token(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<TokenRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    match staff::sign_in(
        &state.identity,
        &body.username,
        body.password,
        &body.totp,
        false,
        &client,
    )
    .await?
    {
        (_, SignInOutcome::SignedIn(token)) => Ok(HttpResponse::Created()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": IDLE_TIMEOUT.as_secs(),
            }))),
        (_, SignInOutcome::PasskeyStep(_)) => Err(AppError::new(
            ErrorKind::Forbidden,
            "passkey_sign_in_required",
        )
        .with_detail("Tài khoản này đăng nhập bằng passkey tại /backoffice/login.")),
        (_, SignInOutcome::EnrolmentRequired(_)) => {
            Err(AppError::new(ErrorKind::Forbidden, "enrolment_required")
                .with_detail("Cần thiết lập xác thực hai lớp tại /backoffice/login trước."))
        }
    }
}

/// Query of the queue.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct QueueQuery {
    /// Only this status (one of those my roles work on).
    status: Option<String>,
    /// The id of the last dossier of the previous page.
    after: Option<Uuid>,
    /// Page size, 1–100 (default 20).
    limit: Option<i64>,
}

/// `GET /api/v1/staff/queue`: my agency's dossiers waiting for my roles, soonest first.
#[utoipa::path(get, path = "/api/v1/staff/queue", tag = "staff", params(QueueQuery),
    security(("staff" = [])),
    responses((status = 200, description = "`items` and `next_after`", body = Object)))]
pub async fn queue(
    state: web::Data<AppState>,
    caller: StaffCaller,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    let limit = query.limit.unwrap_or(20);
    let items = dossiers::queue(
        &state,
        &caller.0,
        query.status.as_deref(),
        query.after,
        limit,
    )
    .await?;
    let next = crate::http::api::next_cursor(&items, limit, |d| d.id);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "items": items, "next_after": next })))
}

/// `GET /api/v1/staff/dossiers/{id}`: a dossier of my agency with its whole log.
#[utoipa::path(get, path = "/api/v1/staff/dossiers/{id}", tag = "staff",
    security(("staff" = [])),
    params(("id" = Uuid, Path, description = "The dossier")),
    responses(
        (status = 200, description = "`dossier` and `events`", body = Object),
        (status = 404, description = "Not a dossier of my agency", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn dossier(
    state: web::Data<AppState>,
    caller: StaffCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (dossier, events) = dossiers::staff_get(&state, &caller.0, dossier_id(&path)?).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", dossier.version)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "dossier": dossier, "events": events })))
}

/// An action's body.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub struct ActionRequest {
    /// The reason, what is missing, the fee … (required where the law asks for one).
    note: Option<String>,
}

/// `POST /api/v1/staff/dossiers/{id}/{action}`: `accept`, `refuse`,
/// `start_processing`, `request_supplement`, `request_fee`,
/// `confirm_payment`, `approve`, `reject`, `stop`, `return_result`.
#[utoipa::path(post, path = "/api/v1/staff/dossiers/{id}/{action}", tag = "staff", request_body = Option<ActionRequest>,
    security(("staff" = [])),
    params(("id" = Uuid, Path, description = "The dossier"), ("action" = String, Path, description = "The action"),
        ("If-Match" = Option<String>, Header, description = "The version last seen")),
    responses(
        (status = 200, description = "The dossier afterwards", body = crate::dossiers::DossierView),
        (status = 403, description = "My role may not", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not from this status, or someone acted first", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since I looked", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn act(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: StaffCaller,
    path: web::Path<(String, String)>,
    body: Option<web::Json<ActionRequest>>,
) -> Result<HttpResponse, AppError> {
    let (id, action) = path.into_inner();
    let action = Action::parse(&action)
        .filter(|a| matches!(a.actor(), crate::domain::dossier::Actor::Staff(_)))
        .ok_or_else(|| {
            AppError::not_found("unknown_action").with_detail("Không có thao tác này trên hồ sơ.")
        })?;
    let (status, value) = dossiers::act(
        &state,
        By::Staff(&caller.0),
        dossier_id(&id)?,
        action,
        if_match(&req)?,
        body.and_then(|b| b.into_inner().note),
        None,
    )
    .await?;
    Ok(with_etag(status, &value))
}

/// `GET /api/v1/staff/apologies`: my agency's apology letters waiting for approval.
#[utoipa::path(get, path = "/api/v1/staff/apologies", tag = "staff", security(("staff" = [])),
    responses((status = 200, description = "`items`", body = Object)))]
pub async fn apologies(
    state: web::Data<AppState>,
    caller: StaffCaller,
) -> Result<HttpResponse, AppError> {
    let items = crate::dossiers::overdue::drafted(&state, &caller.0).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "items": items })))
}

/// `POST /api/v1/staff/apologies/{id}/approve`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ApproveApology {
    /// Why the dossier is late (told to the applicant).
    reason: String,
    /// The appointment date promised; the drafted one when absent.
    new_due: Option<chrono::DateTime<chrono::Utc>>,
}

/// `POST /api/v1/staff/apologies/{id}/approve`: an approver sends the letter.
#[utoipa::path(post, path = "/api/v1/staff/apologies/{id}/approve", tag = "staff", request_body = ApproveApology,
    security(("staff" = [])),
    params(("id" = Uuid, Path, description = "The letter")),
    responses(
        (status = 200, description = "Approved and sent", body = crate::dossiers::overdue::ApologyView),
        (status = 403, description = "Not an approver", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already approved", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn approve_apology(
    state: web::Data<AppState>,
    caller: StaffCaller,
    path: web::Path<String>,
    body: web::Json<ApproveApology>,
) -> Result<HttpResponse, AppError> {
    let id = Uuid::parse_str(&path).map_err(|_| {
        AppError::not_found("apology_not_found").with_detail("Không tìm thấy thư xin lỗi.")
    })?;
    let view = crate::dossiers::overdue::approve(&state, &caller.0, id, body.new_due, &body.reason)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// `GET /api/v1/staff/dossiers/{id}/attachments/{file_id}`: the bytes; the read is logged.
#[utoipa::path(get, path = "/api/v1/staff/dossiers/{id}/attachments/{file_id}", tag = "staff",
    security(("staff" = [])),
    params(("id" = Uuid, Path, description = "The dossier"), ("file_id" = Uuid, Path, description = "The file")),
    responses((status = 200, description = "The file"), (status = 404, description = "Not a file of my agency's dossiers", body = crate::http::api::openapi::Problem, content_type = "application/problem+json")))]
pub async fn download(
    state: web::Data<AppState>,
    caller: StaffCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, file) = path.into_inner();
    let file = file_id(&file)?;
    let (row, bytes) = crate::dossiers::files::read(
        &state,
        crate::dossiers::files::Reader::Staff(&caller.0),
        dossier_id(&id)?,
        file,
    )
    .await?;
    Ok(crate::http::api::dossiers::file_response(&row, bytes))
}

/// Query of a result upload.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ResultQuery {
    /// The file's name (its extension must match its content).
    name: String,
}

/// `POST /api/v1/staff/dossiers/{id}/result?name=…`: stages the result
/// document (the body: a PDF, JPEG or PNG); approving the dossier signs it
/// and puts it in the applicant's vault.
#[utoipa::path(post, path = "/api/v1/staff/dossiers/{id}/result", tag = "staff",
    security(("staff" = [])),
    params(("id" = Uuid, Path, description = "The dossier"), ResultQuery),
    request_body(content = Vec<u8>, content_type = "application/pdf"),
    responses(
        (status = 201, description = "Staged", body = crate::vault::documents::DocumentView),
        (status = 403, description = "Not a processor or approver", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The dossier is not being processed", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a PDF, JPEG or PNG, or not what its name says", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn stage_result(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: StaffCaller,
    path: web::Path<String>,
    query: web::Query<ResultQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let view = crate::dossiers::results::stage(
        &state,
        &caller.0,
        dossier_id(&path)?,
        crate::dossiers::files::Upload {
            name: query.into_inner().name,
            declared_type: req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            document_type: None,
            bytes: body,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// `GET /api/v1/staff/dossiers/{id}/documents/{document_id}`: a vault document
/// the dossier uses (the read goes to its owner's access log), or its result.
#[utoipa::path(get, path = "/api/v1/staff/dossiers/{id}/documents/{document_id}", tag = "staff",
    security(("staff" = [])),
    params(("id" = Uuid, Path, description = "The dossier"), ("document_id" = Uuid, Path, description = "The document")),
    responses((status = 200, description = "The file"), (status = 404, description = "Not a document of this dossier", body = crate::http::api::openapi::Problem, content_type = "application/problem+json")))]
pub async fn vault_document(
    state: web::Data<AppState>,
    caller: StaffCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, document) = path.into_inner();
    let document = Uuid::parse_str(&document).map_err(|_| {
        AppError::not_found("document_not_found").with_detail("Không tìm thấy tài liệu.")
    })?;
    let (row, bytes) =
        crate::dossiers::results::staff_read(&state, &caller.0, dossier_id(&id)?, document).await?;
    Ok(crate::http::api::dossiers::bytes_response(
        &row.file_name,
        &row.content_type,
        bytes,
    ))
}

/// `POST /api/v1/staff/dossiers/{id}/forward`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ForwardRequest {
    /// The agency (or department) to forward to; it must handle the service.
    to_agency: String,
    /// Why.
    note: Option<String>,
}

/// `POST /api/v1/staff/dossiers/{id}/forward`: hands a dossier being handled to another agency.
#[utoipa::path(post, path = "/api/v1/staff/dossiers/{id}/forward", tag = "staff", request_body = ForwardRequest,
    security(("staff" = [])),
    params(("id" = Uuid, Path, description = "The dossier"), ("If-Match" = Option<String>, Header, description = "The version last seen")),
    responses(
        (status = 200, description = "Forwarded", body = crate::dossiers::DossierView),
        (status = 422, description = "The agency does not handle the service", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn forward(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: StaffCaller,
    path: web::Path<String>,
    body: web::Json<ForwardRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let view = dossiers::forward(
        &state,
        &caller.0,
        dossier_id(&path)?,
        &body.to_agency,
        if_match(&req)?,
        body.note,
    )
    .await?;
    Ok(with_etag(
        200,
        &serde_json::to_value(view).map_err(AppError::internal)?,
    ))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/staff/tokens").route(web::post().to(token)))
        .service(web::resource("/staff/apologies").route(web::get().to(apologies)))
        .service(
            web::resource("/staff/apologies/{id}/approve").route(web::post().to(approve_apology)),
        )
        .service(web::resource("/staff/queue").route(web::get().to(queue)))
        .service(web::resource("/staff/dossiers/{id}").route(web::get().to(dossier)))
        .service(web::resource("/staff/dossiers/{id}/forward").route(web::post().to(forward)))
        .service(
            web::resource("/staff/dossiers/{id}/result")
                .app_data(crate::http::api::dossiers::upload_config())
                .route(web::post().to(stage_result)),
        )
        .service(
            web::resource("/staff/dossiers/{id}/documents/{document_id}")
                .route(web::get().to(vault_document)),
        )
        .service(
            web::resource("/staff/dossiers/{id}/attachments/{file_id}")
                .route(web::get().to(download)),
        )
        .service(web::resource("/staff/dossiers/{id}/{action}").route(web::post().to(act)));
}
