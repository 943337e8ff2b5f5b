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

mod apologies;
mod counter;

pub use apologies::{ApologiesQuery, ApologyForm, apologies, approve_apology};
pub use counter::{CounterQuery, counter, counter_file};

use super::{PageError, PageResult, html, render, staff_guard::SignedInStaff};
use crate::error::Code;
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
                AppError::from(Code::InvalidFilter).with_detail(format!(
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
    SignedInStaff(session): SignedInStaff,
    query: web::Query<QueueQuery>,
) -> PageResult {
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
    payments: Vec<crate::payments::PaymentView>,
}

impl DossierPage<'_> {
    fn vnd(&self, amount: &i64) -> String {
        crate::dossiers::fees::vnd(*amount)
    }
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
    Uuid::parse_str(raw).map_err(|_| PageError(crate::dossiers::errors::not_found()))
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
    // `desk::dossier` checked the dossier is the civil servant's agency's.
    let payments = crate::payments::of_dossier(state, id).await?;
    let (csrf_token, cookie) = csrf::token_for(state, req);
    let body = render(&DossierPage {
        csrf_token: &csrf_token,
        d: &d,
        actions,
        notice,
        error,
        can_stage,
        due_preview,
        payments,
    })?;
    Ok(html(status, body, cookie))
}

/// `GET /backoffice/dossiers/{id}`.
pub async fn dossier(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedInStaff(session): SignedInStaff,
    path: web::Path<String>,
    query: web::Query<DossierQuery>,
) -> PageResult {
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
        return Err(AppError::from(Code::ConfirmationRequired));
    }
    let version = form
        .version
        .trim()
        .parse::<i32>()
        .map_err(|_| AppError::from(Code::InvalidVersion))?;
    Ok((Some(version), non_empty(&form.note)))
}

/// `POST /backoffice/dossiers/{id}/act`.
pub async fn act(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedInStaff(session): SignedInStaff,
    path: web::Path<String>,
    form: web::Form<ActForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let id = dossier_id(&path)?;
    let outcome = async {
        let (version, note) = checked(&form)?;
        let action = Action::parse(&form.action)
            .filter(|a| matches!(a.actor(), crate::domain::dossier::Actor::Staff(_)))
            .ok_or_else(|| AppError::from(Code::UnknownActionRequested))?;
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
    SignedInStaff(session): SignedInStaff,
    path: web::Path<String>,
    form: web::Form<ActForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
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
    SignedInStaff(session): SignedInStaff,
    path: web::Path<String>,
    form: MultipartForm<ResultForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
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
    SignedInStaff(session): SignedInStaff,
    path: web::Path<(String, String)>,
) -> PageResult {
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
    SignedInStaff(session): SignedInStaff,
    path: web::Path<(String, String)>,
) -> PageResult {
    let (id, doc) = path.into_inner();
    let doc = Uuid::parse_str(&doc)
        .map_err(|_| PageError(crate::dossiers::errors::document_not_found()))?;
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
