//! The back office's desk: a civil servant's queue with filters and search,
//! and one dossier with everything needed to act on it (applicant, form
//! values and their sources, files, vault documents, the whole log, the
//! emails sent). Actions go through `dossiers::act`, like the staff API.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::{DossierView, EventView, files::FileView, staff_read};
use crate::infra::Core;
use crate::{
    catalog,
    domain::{dossier::Status, staff::StaffRole},
    error::{AppError, AppResult},
    identity::staff::StaffSession,
    storage::{
        accounts, businesses, catalog as catalog_store,
        dossiers::{self as store, QueueFilter},
        emails,
    },
};

/// What a queue page asks for (as typed in the filter form).
#[derive(Debug, Clone, Default)]
pub struct DeskFilter {
    /// A status name.
    pub status: Option<String>,
    /// A service code.
    pub service: Option<String>,
    /// A field (lĩnh vực) of services.
    pub field: Option<String>,
    /// `online` or `counter`.
    pub channel: Option<String>,
    /// Filed on or after (local date).
    pub from: Option<NaiveDate>,
    /// Filed on or before (local date).
    pub to: Option<NaiveDate>,
    /// A receipt code, an applicant's ID number, or part of their name.
    pub q: Option<String>,
}

/// One line of the queue.
#[derive(Debug, Clone)]
pub struct QueueItem {
    /// The dossier.
    pub id: Uuid,
    /// Its receipt code.
    pub receipt_code: String,
    /// The service.
    pub service_code: String,
    /// Its name.
    pub service_name: String,
    /// The applicant's name.
    pub applicant_name: String,
    /// Status name.
    pub status: String,
    /// In Vietnamese.
    pub status_label: &'static str,
    /// `online` or `counter`.
    pub channel: String,
    /// Filed.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Due.
    pub due_at: Option<DateTime<Utc>>,
    /// Past due and the clock running.
    pub overdue: bool,
    /// Due within a day.
    pub due_soon: bool,
    /// Waiting for a supplement.
    pub paused: bool,
}

fn bad_filter(detail: &str) -> AppError {
    AppError::bad_request("invalid_filter").with_detail(detail.to_owned())
}

fn local_midnight(day: NaiveDate) -> Option<DateTime<Utc>> {
    crate::domain::calendar::city_tz()
        .from_local_datetime(&day.and_hms_opt(0, 0, 0)?)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// The civil servant's queue: by default what waits for their roles; a
/// search (receipt code, ID number, name) looks through all their agency's
/// filed dossiers.
pub async fn queue(
    state: &Core,
    staff: &StaffSession,
    filter: &DeskFilter,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<QueueItem>> {
    let all: Vec<&str> = Status::ALL
        .iter()
        .filter(|s| **s != Status::Draft)
        .map(|s| s.as_str())
        .collect();
    let mut statuses = super::queue_statuses(&staff.roles);
    let mut narrowed = QueueFilter {
        service_code: filter.service.clone(),
        channel: filter.channel.clone(),
        filed_from: filter.from.and_then(local_midnight),
        filed_to: filter
            .to
            .and_then(|d| d.succ_opt())
            .and_then(local_midnight),
        ..QueueFilter::default()
    };
    if let Some(c) = &filter.channel
        && !matches!(c.as_str(), "online" | "counter")
    {
        return Err(bad_filter("Kênh nộp không hợp lệ."));
    }
    let mut conn = state.db.get().await?;
    if let Some(field) = &filter.field {
        let codes: Vec<String> = catalog_store::services_with_fields(&mut conn, &staff.agency_code)
            .await?
            .into_iter()
            .filter(|(_, _, f)| f == field)
            .map(|(code, _, _)| code)
            .collect();
        if codes.is_empty() {
            return Err(bad_filter("Lĩnh vực không có thủ tục nào của đơn vị."));
        }
        narrowed.service_codes = Some(codes);
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        statuses.clone_from(&all);
        if q.len() == 12 && q.bytes().all(|b| b.is_ascii_digit()) {
            let found = accounts::find_by_national_id(&mut conn, q).await?;
            narrowed.applicants = Some(found.into_iter().map(|a| a.id).collect());
        } else if q.contains('-') {
            narrowed.receipt_code = Some(q.to_owned());
        } else if q.chars().count() >= 2 {
            narrowed.applicants = Some(accounts::ids_by_name(&mut conn, q, 200).await?);
        } else {
            return Err(bad_filter(
                "Nhập mã hồ sơ, số định danh hoặc ít nhất 2 ký tự của họ tên.",
            ));
        }
    }
    if let Some(s) = &filter.status {
        let status = Status::parse(s)
            .filter(|s| *s != Status::Draft)
            .ok_or_else(|| bad_filter("Trạng thái không hợp lệ."))?;
        statuses = vec![status.as_str()];
    }
    let cursor = match after {
        Some(id) => store::find(&mut conn, id)
            .await?
            .filter(|r| r.agency_code == staff.agency_code)
            .and_then(|r| r.queue_at.map(|q| (q, r.id))),
        None => None,
    };
    let rows = store::queue_filtered(
        &mut conn,
        &staff.agency_code,
        &statuses,
        &narrowed,
        cursor,
        limit,
    )
    .await?;
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.applicant_id).collect();
    ids.sort();
    ids.dedup();
    let names: HashMap<Uuid, String> = accounts::names(&mut conn, &ids)
        .await?
        .into_iter()
        .map(|(id, name, _)| (id, name))
        .collect();
    let mut codes: Vec<String> = rows.iter().map(|r| r.service_code.clone()).collect();
    codes.sort();
    codes.dedup();
    let services: HashMap<String, String> = catalog_store::service_names(&mut conn, &codes)
        .await?
        .into_iter()
        .collect();
    let now = state.clock.now();
    Ok(rows
        .into_iter()
        .map(|r| {
            let status = Status::parse(&r.status).unwrap_or(Status::Submitted);
            let running =
                r.paused_at.is_none() && matches!(status, Status::Accepted | Status::Processing);
            QueueItem {
                id: r.id,
                receipt_code: r.receipt_code.clone().unwrap_or_default(),
                service_name: services.get(&r.service_code).cloned().unwrap_or_default(),
                service_code: r.service_code,
                applicant_name: names.get(&r.applicant_id).cloned().unwrap_or_default(),
                status: r.status,
                status_label: status.label(),
                channel: r.channel,
                submitted_at: r.submitted_at,
                due_at: r.due_at,
                overdue: running && r.due_at.is_some_and(|d| d < now),
                due_soon: running
                    && r.due_at
                        .is_some_and(|d| d >= now && d < now + Duration::days(1)),
                paused: r.paused_at.is_some(),
            }
        })
        .collect())
}

/// A form field as shown: label, value, where it came from.
#[derive(Debug, Clone)]
pub struct ShownValue {
    /// The field's label.
    pub label: String,
    /// The value, as text.
    pub value: String,
    /// Its source, in Vietnamese.
    pub source: String,
}

/// Everything the dossier page shows.
#[derive(Debug)]
pub struct DeskDossier {
    /// The dossier (with its vault documents and result).
    pub dossier: DossierView,
    /// The whole log, internal rows included.
    pub events: Vec<EventView>,
    /// The service's name.
    pub service_name: String,
    /// The applicant's name.
    pub applicant_name: String,
    /// Their ID number.
    pub applicant_national_id: String,
    /// The business filed for: `(tax code, name)`.
    pub business: Option<(String, String)>,
    /// The form's values with their sources.
    pub values: Vec<ShownValue>,
    /// The required documents: `(code, name, required)`.
    pub required_documents: Vec<(String, String, bool)>,
    /// The applicant's uploaded files.
    pub files: Vec<FileView>,
    /// Emails about it.
    pub emails: Vec<emails::SentEmail>,
    /// Agencies it may be forwarded to: `(code, name)`.
    pub forward_to: Vec<(String, String)>,
    /// Whether the service issues a result paper (to stage before approval).
    pub has_result: bool,
    /// The result staged so far (file name).
    pub staged_result: Option<String>,
}

fn source_label(source: Option<&Value>) -> String {
    match source {
        Some(s) if s["source"] == "vault" => format!(
            "Kho dữ liệu – {}{}",
            s["provenance_label"].as_str().unwrap_or("không rõ"),
            if s["verified"] == true {
                " (đã xác thực)"
            } else {
                ""
            }
        ),
        Some(_) => "Người nộp tự khai".to_owned(),
        None => String::new(),
    }
}

/// One dossier of the civil servant's agency, for its page (the view of its
/// vault data is in the owner's access log).
pub async fn dossier(state: &Core, staff: &StaffSession, id: Uuid) -> AppResult<DeskDossier> {
    let (row, dossier, events) = staff_read(state, staff, id).await?;
    let mut conn = state.db.get().await?;
    let service = catalog_store::service(&mut conn, &row.service_code)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("service vanished")))?;
    let applicant = accounts::find(&mut conn, row.applicant_id).await?;
    let business = match row.business_id {
        Some(b) => {
            let b = businesses::find(&mut conn, b).await?;
            Some((b.tax_code, b.name))
        }
        None => None,
    };
    let fields = catalog::form_of(&service)?;
    let sources = row.value_sources.as_object().cloned().unwrap_or_default();
    let values = fields
        .iter()
        .filter_map(|f| {
            let v = row.form_values.get(&f.name)?;
            Some(ShownValue {
                label: f.label.clone(),
                value: v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                source: source_label(sources.get(&f.name)),
            })
        })
        .collect();
    let required_documents = service
        .required_documents
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|d| {
                    Some((
                        d.get("type_code")?.as_str()?.to_owned(),
                        d.get("name")?.as_str()?.to_owned(),
                        d.get("required").and_then(Value::as_bool).unwrap_or(true),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let files = store::files(&mut conn, id)
        .await?
        .into_iter()
        .map(FileView::from)
        .collect();
    let emails = match &row.receipt_code {
        Some(code) => emails::about_dossier(&mut conn, row.applicant_id, code).await?,
        None => Vec::new(),
    };
    let forward_to = if staff.has(StaffRole::Processor) || staff.has(StaffRole::Approver) {
        let codes = catalog_store::agencies_of(&mut conn, &service.code).await?;
        let mut out = Vec::new();
        for code in codes.into_iter().filter(|c| c != &staff.agency_code) {
            if let Some(a) = catalog_store::agency(&mut conn, &code).await? {
                out.push((a.code, a.name));
            }
        }
        out
    } else {
        Vec::new()
    };
    let staged_result = crate::storage::vault::staged_for(&mut conn, id)
        .await?
        .map(|d| d.file_name);
    Ok(DeskDossier {
        dossier,
        events,
        service_name: service.name.clone(),
        applicant_name: applicant.full_name,
        applicant_national_id: applicant.national_id,
        business,
        values,
        required_documents,
        files,
        emails,
        forward_to,
        has_result: catalog::result_of(&service)?.is_some(),
        staged_result,
    })
}
