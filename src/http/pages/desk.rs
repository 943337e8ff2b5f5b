//! The back office's desk: the queue (filters, search, keyset pages) and the
//! dossier page with the actions the civil servant's roles allow in the
//! current status. Every action posts a form (CSRF token, the version the
//! page showed, a confirmation, the reason where the law asks for one) to the
//! same domain functions as the staff API.

use actix_multipart::form::{MultipartForm, bytes::Bytes as FilePart, text::Text};
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, http::header, web};
use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    PageError, PageResult,
    backoffice::{MaybeStaff, to_login},
    html, render,
};
use crate::{
    domain::{calendar::city_tz, dossier::Action},
    dossiers::{
        self, By,
        desk::{self, DeskDossier, DeskFilter, QueueItem},
    },
    error::{AppError, ErrorKind},
    http::AppState,
    http::csrf,
    identity::staff::StaffSession,
};

/// Local date and time, as civil servants read it.
pub fn local(at: &DateTime<Utc>) -> String {
    at.with_timezone(&city_tz())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

fn local_opt(at: Option<&DateTime<Utc>>) -> String {
    at.map(local).unwrap_or_default()
}

#[derive(Template)]
#[template(path = "backoffice/queue.html")]
struct QueuePage<'a> {
    agency_code: &'a str,
    items: Vec<QueueItem>,
    next: Option<String>,
    f: &'a QueueQuery,
    statuses: Vec<(&'static str, &'static str)>,
    services: Vec<(String, String)>,
    fields: Vec<String>,
    error: Option<String>,
}

impl QueuePage<'_> {
    fn when(&self, at: &Option<DateTime<Utc>>) -> String {
        local_opt(at.as_ref())
    }
}

/// The queue's filter form (all optional).
#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
}

fn non_empty(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn date(raw: &str, what: &str) -> Result<Option<NaiveDate>, AppError> {
    match non_empty(raw) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                AppError::bad_request("invalid_filter").with_detail(format!(
                    "{what}: ngày theo dạng năm-tháng-ngày (YYYY-MM-DD)."
                ))
            }),
    }
}

/// Rows per queue page.
const PAGE: i64 = 25;

/// `GET /backoffice/queue`.
pub async fn queue(
    state: web::Data<AppState>,
    current: MaybeStaff,
    query: web::Query<QueueQuery>,
) -> PageResult {
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let f = query.into_inner();
    let parsed = (|| -> Result<DeskFilter, AppError> {
        Ok(DeskFilter {
            status: non_empty(&f.status),
            service: non_empty(&f.service),
            field: non_empty(&f.field),
            channel: non_empty(&f.channel),
            from: date(&f.from, "Từ ngày")?,
            to: date(&f.to, "Đến ngày")?,
            q: non_empty(&f.q),
        })
    })();
    let after = non_empty(&f.after).and_then(|a| Uuid::parse_str(&a).ok());
    let (items, error, status) = match parsed {
        Ok(filter) => match desk::queue(&state, &session, &filter, after, PAGE).await {
            Ok(items) => (items, None, StatusCode::OK),
            Err(e) if super::shown_on_form(&e) => {
                (Vec::new(), Some(e.detail().to_owned()), e.kind().status())
            }
            Err(e) => return Err(e.into()),
        },
        Err(e) => (Vec::new(), Some(e.detail().to_owned()), e.kind().status()),
    };
    let next = (i64::try_from(items.len()).ok() == Some(PAGE))
        .then(|| items.last().map(|i| i.id))
        .flatten()
        .map(|id| {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in [
                ("status", &f.status),
                ("service", &f.service),
                ("field", &f.field),
                ("channel", &f.channel),
                ("from", &f.from),
                ("to", &f.to),
                ("q", &f.q),
            ] {
                if !v.is_empty() {
                    q.append_pair(k, v);
                }
            }
            q.append_pair("after", &id.to_string());
            format!("/backoffice/queue?{}", q.finish())
        });
    let mut conn = state.db.get().await.map_err(AppError::from)?;
    let offered = crate::storage::catalog::services_with_fields(&mut conn, &session.agency_code)
        .await
        .map_err(AppError::from)?;
    drop(conn);
    let mut fields: Vec<String> = offered.iter().map(|(_, _, f)| f.clone()).collect();
    fields.sort();
    fields.dedup();
    let services = offered.into_iter().map(|(c, n, _)| (c, n)).collect();
    let body = render(&QueuePage {
        agency_code: &session.agency_code,
        items,
        next,
        f: &f,
        statuses: crate::domain::dossier::Status::ALL
            .iter()
            .filter(|s| **s != crate::domain::dossier::Status::Draft)
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        services,
        fields,
        error,
    })?;
    Ok(html(status, body, None))
}

/// An action offered on the page.
struct Offered {
    action: &'static str,
    label: &'static str,
    needs_note: bool,
}

#[derive(Template)]
#[template(path = "backoffice/dossier.html")]
struct DossierPage<'a> {
    csrf_token: &'a str,
    d: &'a DeskDossier,
    actions: Vec<Offered>,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    can_stage: bool,
    due_preview: Option<String>,
}

impl DossierPage<'_> {
    fn when(&self, at: &DateTime<Utc>) -> String {
        local(at)
    }
    fn when_opt(&self, at: &Option<DateTime<Utc>>) -> String {
        local_opt(at.as_ref())
    }
}

/// Query of the dossier page.
#[derive(Debug, Deserialize)]
pub struct DossierQuery {
    done: Option<String>,
}

fn dossier_id(raw: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(raw).map_err(|_| {
        PageError(AppError::not_found("dossier_not_found").with_detail("Không tìm thấy hồ sơ."))
    })
}

async fn dossier_page(
    state: &AppState,
    req: &HttpRequest,
    session: &StaffSession,
    id: Uuid,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> PageResult {
    let d = desk::dossier(state, session, id).await?;
    let actions = d
        .dossier
        .allowed_actions
        .iter()
        .filter_map(|a| Action::parse(a))
        .map(|a| Offered {
            action: a.as_str(),
            label: a.label(),
            needs_note: a.needs_note(),
        })
        .collect();
    let can_stage = d.has_result
        && matches!(d.dossier.status.as_str(), "accepted" | "processing")
        && (session.has(crate::domain::staff::StaffRole::Processor)
            || session.has(crate::domain::staff::StaffRole::Approver));
    let due_preview = if d.dossier.allowed_actions.contains(&"accept") {
        dossiers::due_if_accepted(state, id)
            .await?
            .map(|t| local(&t))
    } else {
        None
    };
    let (csrf_token, cookie) = csrf::token_for(state, req);
    let body = render(&DossierPage {
        csrf_token: &csrf_token,
        d: &d,
        actions,
        notice,
        error,
        can_stage,
        due_preview,
    })?;
    Ok(html(status, body, cookie))
}

/// `GET /backoffice/dossiers/{id}`.
pub async fn dossier(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    path: web::Path<String>,
    query: web::Query<DossierQuery>,
) -> PageResult {
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let notice = query.done.as_deref().map(|a| match a {
        "forward" => "Đã chuyển hồ sơ.".to_owned(),
        "result" => "Đã tải lên văn bản kết quả.".to_owned(),
        "counter_filing" => "Đã nộp hồ sơ tại quầy cho công dân.".to_owned(),
        other => format!(
            "Đã thực hiện: {}.",
            Action::parse(other).map_or("thao tác", Action::label)
        ),
    });
    dossier_page(
        &state,
        &req,
        &session,
        dossier_id(&path)?,
        StatusCode::OK,
        notice.as_deref(),
        None,
    )
    .await
}

/// An action's form.
#[derive(Debug, Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    to_agency: String,
}

fn done(id: Uuid, what: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/backoffice/dossiers/{id}?done={what}"),
        ))
        .finish()
}

/// The page again with the reason an action was refused.
async fn refused(
    state: &AppState,
    req: &HttpRequest,
    session: &StaffSession,
    id: Uuid,
    err: AppError,
) -> PageResult {
    if !super::shown_on_form(&err) && err.kind() != ErrorKind::PreconditionFailed {
        return Err(err.into());
    }
    let status = err.kind().status();
    let detail = match err.kind() {
        ErrorKind::PreconditionFailed => {
            "Hồ sơ đã được thay đổi bởi người khác từ khi bạn mở trang. Trang dưới đây là trạng thái mới nhất; không có thao tác nào được thực hiện."
                .to_owned()
        }
        _ => err.detail().to_owned(),
    };
    dossier_page(state, req, session, id, status, None, Some(&detail)).await
}

fn checked(form: &ActForm) -> Result<(Option<i32>, Option<String>), AppError> {
    if form.confirm != "yes" {
        return Err(
            AppError::new(ErrorKind::Unprocessable, "confirmation_required")
                .with_detail("Vui lòng đánh dấu xác nhận trước khi thực hiện."),
        );
    }
    let version = form.version.trim().parse::<i32>().map_err(|_| {
        AppError::bad_request("invalid_version").with_detail("Trang đã cũ; vui lòng tải lại.")
    })?;
    Ok((Some(version), non_empty(&form.note)))
}

/// `POST /backoffice/dossiers/{id}/act`.
pub async fn act(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    path: web::Path<String>,
    form: web::Form<ActForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let id = dossier_id(&path)?;
    let outcome = async {
        let (version, note) = checked(&form)?;
        let action = Action::parse(&form.action)
            .filter(|a| matches!(a.actor(), crate::domain::dossier::Actor::Staff(_)))
            .ok_or_else(|| {
                AppError::bad_request("unknown_action")
                    .with_detail("Không có thao tác này trên hồ sơ.")
            })?;
        dossiers::act(&state, By::Staff(&session), id, action, version, note, None).await?;
        Ok::<_, AppError>(action)
    }
    .await;
    match outcome {
        Ok(action) => Ok(done(id, action.as_str())),
        Err(err) => refused(&state, &req, &session, id, err).await,
    }
}

/// `POST /backoffice/dossiers/{id}/forward`.
pub async fn forward(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    path: web::Path<String>,
    form: web::Form<ActForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let id = dossier_id(&path)?;
    let outcome = async {
        let (version, note) = checked(&form)?;
        dossiers::forward(&state, &session, id, form.to_agency.trim(), version, note).await
    }
    .await;
    match outcome {
        // The dossier left this agency: back to the queue.
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/backoffice/queue"))
            .finish()),
        Err(err) => refused(&state, &req, &session, id, err).await,
    }
}

/// The result upload form (multipart).
#[derive(MultipartForm)]
pub struct ResultForm {
    csrf_token: Text<String>,
    #[multipart(limit = "10MB")]
    file: FilePart,
}

/// `POST /backoffice/dossiers/{id}/result`.
pub async fn stage_result(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    path: web::Path<String>,
    form: MultipartForm<ResultForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let id = dossier_id(&path)?;
    let form = form.into_inner();
    let upload = crate::dossiers::files::Upload {
        name: form.file.file_name.clone().unwrap_or_default(),
        declared_type: form.file.content_type.as_ref().map(ToString::to_string),
        document_type: None,
        bytes: form.file.data,
    };
    match crate::dossiers::results::stage(&state, &session, id, upload).await {
        Ok(_) => Ok(done(id, "result")),
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::UnsupportedMediaType | ErrorKind::PayloadTooLarge
            ) =>
        {
            let status = err.kind().status();
            dossier_page(&state, &req, &session, id, status, None, Some(err.detail())).await
        }
        Err(err) => refused(&state, &req, &session, id, err).await,
    }
}

/// `GET /backoffice/dossiers/{id}/files/{file}`: an attachment, as a sandboxed download (the read is logged).
pub async fn file(
    state: web::Data<AppState>,
    current: MaybeStaff,
    path: web::Path<(String, String)>,
) -> PageResult {
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let (id, file) = path.into_inner();
    let (row, bytes) = crate::dossiers::files::read(
        &state,
        crate::dossiers::files::Reader::Staff(&session),
        dossier_id(&id)?,
        crate::http::api::dossiers::file_id(&file)?,
    )
    .await?;
    Ok(crate::http::api::dossiers::file_response(&row, bytes))
}

/// `GET /backoffice/dossiers/{id}/documents/{doc}`: a vault document or the result, as a sandboxed download.
pub async fn document(
    state: web::Data<AppState>,
    current: MaybeStaff,
    path: web::Path<(String, String)>,
) -> PageResult {
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let (id, doc) = path.into_inner();
    let doc = Uuid::parse_str(&doc).map_err(|_| {
        PageError(AppError::not_found("document_not_found").with_detail("Không tìm thấy tài liệu."))
    })?;
    let (row, bytes) =
        crate::dossiers::results::staff_read(&state, &session, dossier_id(&id)?, doc).await?;
    Ok(crate::http::api::dossiers::bytes_response(
        &row.file_name,
        &row.content_type,
        bytes,
    ))
}

/// Registers the desk's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/backoffice/queue").route(web::get().to(queue)))
        .service(web::resource("/backoffice/apologies").route(web::get().to(apologies)))
        .service(
            web::resource("/backoffice/counter")
                .route(web::get().to(counter))
                .route(web::post().to(counter_file)),
        )
        .service(
            web::resource("/backoffice/apologies/{id}/approve")
                .route(web::post().to(approve_apology)),
        )
        .service(web::resource("/backoffice/dossiers/{id}").route(web::get().to(dossier)))
        .service(web::resource("/backoffice/dossiers/{id}/act").route(web::post().to(act)))
        .service(web::resource("/backoffice/dossiers/{id}/forward").route(web::post().to(forward)))
        .service(
            web::resource("/backoffice/dossiers/{id}/result")
                .app_data(
                    actix_multipart::form::MultipartFormConfig::default()
                        .total_limit(crate::dossiers::files::MAX_FILE_BYTES + 64 * 1024)
                        .memory_limit(crate::dossiers::files::MAX_FILE_BYTES + 64 * 1024),
                )
                .route(web::post().to(stage_result)),
        )
        .service(web::resource("/backoffice/dossiers/{id}/files/{file}").route(web::get().to(file)))
        .service(
            web::resource("/backoffice/dossiers/{id}/documents/{doc}")
                .route(web::get().to(document)),
        );
}

#[derive(Template)]
#[template(path = "backoffice/apologies.html")]
struct ApologiesPage<'a> {
    csrf_token: &'a str,
    letters: Vec<crate::dossiers::overdue::ApologyView>,
    approver: bool,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

impl ApologiesPage<'_> {
    fn when(&self, at: &DateTime<Utc>) -> String {
        local(at)
    }
}

async fn apologies_page(
    state: &AppState,
    req: &HttpRequest,
    session: &StaffSession,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> PageResult {
    let letters = crate::dossiers::overdue::drafted(state, session).await?;
    let (csrf_token, cookie) = csrf::token_for(state, req);
    let body = render(&ApologiesPage {
        csrf_token: &csrf_token,
        letters,
        approver: session.has(crate::domain::staff::StaffRole::Approver),
        notice,
        error,
    })?;
    Ok(html(status, body, cookie))
}

/// Query of the apologies page.
#[derive(Debug, Deserialize)]
pub struct ApologiesQuery {
    sent: Option<String>,
}

/// `GET /backoffice/apologies`: overdue dossiers' letters waiting for approval.
pub async fn apologies(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    query: web::Query<ApologiesQuery>,
) -> PageResult {
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let notice = query
        .sent
        .as_ref()
        .map(|_| "Đã duyệt và gửi thư xin lỗi; ngày hẹn mới đã được ghi vào hồ sơ.");
    apologies_page(&state, &req, &session, StatusCode::OK, notice, None).await
}

/// The approval form of a letter.
#[derive(Debug, Deserialize)]
pub struct ApologyForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    new_due: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /backoffice/apologies/{id}/approve`.
pub async fn approve_apology(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    path: web::Path<String>,
    form: web::Form<ApologyForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let outcome = async {
        if form.confirm != "yes" {
            return Err(
                AppError::new(ErrorKind::Unprocessable, "confirmation_required")
                    .with_detail("Vui lòng đánh dấu xác nhận trước khi thực hiện."),
            );
        }
        let id = Uuid::parse_str(&path).map_err(|_| {
            AppError::not_found("apology_not_found").with_detail("Không tìm thấy thư xin lỗi.")
        })?;
        // A date chosen means the end of that working day's afternoon, local time.
        let new_due = date(&form.new_due, "Ngày hẹn mới")?
            .and_then(|d| d.and_hms_opt(17, 0, 0))
            .and_then(|t| {
                use chrono::TimeZone;
                city_tz().from_local_datetime(&t).single()
            })
            .map(|t| t.with_timezone(&Utc));
        crate::dossiers::overdue::approve(&state, &session, id, new_due, &form.reason).await
    }
    .await;
    match outcome {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/backoffice/apologies?sent=1"))
            .finish()),
        Err(err) if super::shown_on_form(&err) => {
            let status = err.kind().status();
            apologies_page(&state, &req, &session, status, None, Some(err.detail())).await
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Template)]
#[template(path = "backoffice/counter.html")]
struct CounterPage<'a> {
    csrf_token: &'a str,
    national_id: &'a str,
    service: &'a str,
    services: Vec<(String, String)>,
    form: Option<crate::dossiers::counter::CounterForm>,
    errors: Vec<String>,
}

impl CounterPage<'_> {
    fn input_type(&self, field: &crate::domain::form::FormField) -> &'static str {
        use crate::domain::form::FieldType;
        match field.kind {
            FieldType::Number => "number",
            FieldType::Date => "date",
            _ => "text",
        }
    }
    fn value_of(
        &self,
        form: &crate::dossiers::counter::CounterForm,
        field: &crate::domain::form::FormField,
    ) -> String {
        form.values
            .get(&field.name)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .unwrap_or_default()
    }
}

#[allow(clippy::too_many_arguments)]
async fn counter_page(
    state: &AppState,
    req: &HttpRequest,
    session: &StaffSession,
    status: StatusCode,
    national_id: &str,
    service: &str,
    form: Option<crate::dossiers::counter::CounterForm>,
    errors: Vec<String>,
) -> PageResult {
    let mut conn = state.db.get().await.map_err(AppError::from)?;
    let services = crate::storage::catalog::services_of(&mut conn, &session.agency_code)
        .await
        .map_err(AppError::from)?;
    drop(conn);
    let (csrf_token, cookie) = csrf::token_for(state, req);
    let body = render(&CounterPage {
        csrf_token: &csrf_token,
        national_id,
        service,
        services,
        form,
        errors,
    })?;
    Ok(html(status, body, cookie))
}

/// `?national_id=&service=`: the citizen and the service asked for.
#[derive(Debug, Deserialize)]
pub struct CounterQuery {
    #[serde(default)]
    national_id: String,
    #[serde(default)]
    service: String,
}

/// `GET /backoffice/counter`: a receiver opens the form of a service for a
/// citizen at the counter, prefilled from the citizen's vault.
pub async fn counter(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    query: web::Query<CounterQuery>,
) -> PageResult {
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    if !session.has(crate::domain::staff::StaffRole::Receiver) {
        return Err(PageError(
            AppError::new(ErrorKind::Forbidden, "role_not_allowed")
                .with_detail("Chỉ cán bộ tiếp nhận được nhận hồ sơ tại quầy."),
        ));
    }
    let (national_id, service) = (query.national_id.trim(), query.service.trim());
    if national_id.is_empty() || service.is_empty() {
        return counter_page(
            &state,
            &req,
            &session,
            StatusCode::OK,
            national_id,
            service,
            None,
            Vec::new(),
        )
        .await;
    }
    match crate::dossiers::counter::start(&state, &session, national_id, service).await {
        Ok(form) => {
            counter_page(
                &state,
                &req,
                &session,
                StatusCode::OK,
                national_id,
                service,
                Some(form),
                Vec::new(),
            )
            .await
        }
        Err(err) if super::shown_on_form(&err) => {
            let status = err.kind().status();
            let errors = super::form_messages(&err);
            counter_page(
                &state,
                &req,
                &session,
                status,
                national_id,
                service,
                None,
                errors,
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}

/// `POST /backoffice/counter`: files the dossier for the citizen.
pub async fn counter_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let fields = form.into_inner();
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    csrf::verify(&state, &req, &get("csrf_token"))?;
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let (national_id, service) = (get("national_id"), get("service"));
    let entered: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("f.")
                .map(|name| (name.to_owned(), serde_json::Value::String(v.clone())))
        })
        .collect();
    let outcome = if get("confirm") == "yes" {
        crate::dossiers::counter::file(&state, &session, &national_id, &service, entered.clone())
            .await
    } else {
        Err(
            AppError::new(ErrorKind::Unprocessable, "confirmation_required")
                .with_detail("Vui lòng đánh dấu xác nhận trước khi thực hiện."),
        )
    };
    match outcome {
        Ok(id) => Ok(done(id, "counter_filing")),
        Err(err) if super::shown_on_form(&err) => {
            let status = err.kind().status();
            let errors = super::form_messages(&err);
            // The form again, with what was typed.
            let form = crate::dossiers::counter::start(&state, &session, &national_id, &service)
                .await
                .ok()
                .map(|mut f| {
                    for (k, v) in entered {
                        if v.as_str().is_some_and(|s| !s.trim().is_empty()) {
                            f.values.insert(k, v);
                        }
                    }
                    f
                });
            counter_page(
                &state,
                &req,
                &session,
                status,
                &national_id,
                &service,
                form,
                errors,
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}
