//! E-dossiers: drafts, filing with a receipt code, intake and processing by
//! civil servants, supplements, decisions and results. Every change runs in
//! one transaction that locks the dossier, checks the action against the
//! state machine (domain::dossier), appends a hash-chained progress-log row
//! and queues the applicant's email: an action either happens whole or not
//! at all, and of two people acting at once one wins and the other gets 409.

pub mod counter;
pub mod desk;
pub mod emails;
pub mod files;
pub mod jobs;
pub mod overdue;
pub mod results;
pub mod stats;

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::identity::Identity;
use crate::infra::Core;
use crate::{
    catalog,
    domain::{
        AccountId, TaxCode,
        calendar::city_tz,
        dossier::{self, Action, Actor, EventDigest, Refusal, Status},
        form,
        staff::StaffRole,
        staff_event::StaffEvent,
    },
    error::{AppError, AppResult, ErrorKind},
    identity::{
        staff::StaffSession,
        staff_events::{self, Entry},
    },
    notify::{outbox::Envelope, queue_email},
    storage::{
        accounts, businesses,
        catalog::{self as catalog_store, ServiceRow},
        dossiers::{self as store, DossierChange, DossierRow, EventRow, StoredAnswer},
    },
};

/// A dossier as its applicant (or a civil servant) sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DossierView {
    /// Id.
    pub id: Uuid,
    /// The service.
    pub service_code: String,
    /// The agency filed at.
    pub agency_code: String,
    /// `draft`, `submitted`, … (DESIGN.md).
    pub status: String,
    /// The national status code (0–10).
    pub status_code: i16,
    /// The status in Vietnamese.
    pub status_label: String,
    /// `online` or `counter`.
    pub channel: String,
    /// The form's values.
    #[schema(value_type = Object)]
    pub form_values: Value,
    /// Where each value came from, by field: `{source: "vault", vault_key,
    /// record_id, provenance, provenance_label, verified}` or `{source: "self_declared"}`.
    #[schema(value_type = Object)]
    pub value_sources: Value,
    /// Documents used from the vault by reference (single-dossier reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault_documents: Option<Vec<results::VaultRefView>>,
    /// The result issued (signed, in the applicant's vault), once approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_document: Option<crate::vault::documents::DocumentView>,
    /// The version (also the ETag): send it back in `If-Match`.
    pub version: i32,
    /// The receipt code, once filed.
    pub receipt_code: Option<String>,
    /// The business filed for (tax code).
    pub on_behalf_of: Option<String>,
    /// Filed.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Taken in.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Due (moves later by the time a supplement request paused the clock).
    pub due_at: Option<DateTime<Utc>>,
    /// Whether the clock is paused (waiting for a supplement).
    pub paused: bool,
    /// Decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// `approved` or `rejected`.
    pub decision: Option<String>,
    /// What the viewer may do now.
    pub allowed_actions: Vec<&'static str>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A progress-log row as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    /// Position in the log.
    pub seq: i32,
    /// When.
    pub at: DateTime<Utc>,
    /// `applicant`, `staff` or `system`.
    pub actor: String,
    /// The action.
    pub action: String,
    /// What happened, in Vietnamese.
    pub label: String,
    /// From status.
    pub from_status: Option<String>,
    /// To status.
    pub to_status: Option<String>,
    /// The note (reason, what is missing …).
    pub note: Option<String>,
}

fn status_of(row: &DossierRow) -> AppResult<Status> {
    Status::parse(&row.status)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown status {}", row.status)))
}

async fn view(
    conn: &mut AsyncPgConnection,
    row: &DossierRow,
    viewer: Actor,
    roles: &[StaffRole],
) -> AppResult<DossierView> {
    let status = status_of(row)?;
    let allowed = match viewer {
        Actor::Applicant => dossier::allowed(status, Actor::Applicant),
        Actor::Staff(_) => roles
            .iter()
            .flat_map(|r| dossier::allowed(status, Actor::Staff(*r)))
            .collect(),
    };
    let on_behalf_of = match row.business_id {
        Some(b) => Some(businesses::find(conn, b).await?.tax_code),
        None => None,
    };
    Ok(DossierView {
        id: row.id,
        service_code: row.service_code.clone(),
        agency_code: row.agency_code.clone(),
        status: row.status.clone(),
        status_code: row.status_code,
        status_label: status.label().to_owned(),
        channel: row.channel.clone(),
        form_values: row.form_values.clone(),
        value_sources: row.value_sources.clone(),
        vault_documents: None,
        result_document: None,
        version: row.version,
        receipt_code: row.receipt_code.clone(),
        on_behalf_of,
        submitted_at: row.submitted_at,
        accepted_at: row.accepted_at,
        due_at: row.due_at,
        paused: row.paused_at.is_some(),
        decided_at: row.decided_at,
        decision: row.decision.clone(),
        allowed_actions: allowed.into_iter().map(Action::as_str).collect(),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// A single dossier's view, with the vault documents it uses and its result.
async fn detailed(
    state: &Core,
    conn: &mut AsyncPgConnection,
    row: &DossierRow,
    viewer: Actor,
    roles: &[StaffRole],
) -> AppResult<DossierView> {
    let mut out = view(conn, row, viewer, roles).await?;
    out.vault_documents = Some(results::refs(state, conn, row.id).await?);
    // A result exists only once the dossier is decided.
    if row.decided_at.is_some() {
        out.result_document = results::issued(state, conn, row.id).await?;
    }
    Ok(out)
}

fn not_found() -> AppError {
    AppError::not_found("dossier_not_found").with_detail("Không tìm thấy hồ sơ.")
}

/// Form errors as the one 422 problem, each under `form_values.<field>`.
fn form_errors(errors: Vec<(String, crate::domain::Invalid)>) -> AppError {
    crate::error::FieldErrors::problem(
        errors
            .into_iter()
            .map(|(field, invalid)| (format!("form_values.{field}"), invalid)),
    )
}

fn refused(refusal: Refusal, action: Action) -> AppError {
    match refusal {
        Refusal::WrongStatus(allowed) => {
            let names: Vec<&str> = allowed.iter().map(|a| a.as_str()).collect();
            AppError::conflict("transition_not_allowed").with_detail(if names.is_empty() {
                format!(
                    "Không thể “{}” hồ sơ ở trạng thái hiện tại; không còn thao tác nào của bạn.",
                    action.label()
                )
            } else {
                format!(
                    "Không thể “{}” hồ sơ ở trạng thái hiện tại. Có thể: {}.",
                    action.label(),
                    names.join(", ")
                )
            })
        }
        Refusal::NotAllowed => AppError::new(ErrorKind::Forbidden, "role_not_allowed")
            .with_detail(format!("Vai trò của bạn không được “{}”.", action.label())),
        Refusal::NoteRequired => AppError::new(ErrorKind::Unprocessable, "validation_failed")
            .with_detail("Cần ghi rõ lý do hoặc nội dung yêu cầu.")
            .with_field(
                "note",
                "note_required",
                "Cần ghi rõ lý do hoặc nội dung yêu cầu.",
            ),
    }
}

fn stale(expected: Option<i32>, row: &DossierRow) -> AppResult<()> {
    match expected {
        Some(v) if v != row.version => Err(AppError::new(
            ErrorKind::PreconditionFailed,
            "stale_version",
        )
        .with_detail("Hồ sơ đã được thay đổi từ khi bạn mở nó. Vui lòng tải lại và thử lại.")),
        _ => Ok(()),
    }
}

/// What a progress-log row says.
struct LogLine<'a> {
    at: DateTime<Utc>,
    actor_kind: &'a str,
    actor_id: Option<Uuid>,
    action: &'a str,
    from: Option<Status>,
    to: Option<Status>,
    note: Option<&'a str>,
    visible: bool,
}

/// Appends a progress-log row, chained to the previous one.
#[allow(clippy::too_many_arguments)]
async fn log(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    at: DateTime<Utc>,
    actor_kind: &str,
    actor_id: Option<Uuid>,
    action: &str,
    from: Option<Status>,
    to: Option<Status>,
    note: Option<&str>,
    visible: bool,
) -> AppResult<()> {
    let last = store::last_event(conn, dossier).await?;
    append_after(
        conn,
        dossier,
        last,
        LogLine {
            at,
            actor_kind,
            actor_id,
            action,
            from,
            to,
            note,
            visible,
        },
    )
    .await
    .map(drop)
}

/// Appends a row after `last` (the previous row's seq and hash, none for a
/// new dossier's first row), known to the caller; returns the new row's.
async fn append_after(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    last: Option<(i32, Vec<u8>)>,
    line: LogLine<'_>,
) -> AppResult<(i32, Vec<u8>)> {
    let (seq, previous) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, Vec::new()),
    };
    let digest = EventDigest {
        dossier_id: dossier,
        seq,
        at: line.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        actor_kind: line.actor_kind,
        actor_id: line.actor_id,
        action: line.action,
        from_status: line.from.map(Status::as_str),
        to_status: line.to.map(Status::as_str),
        note: line.note,
        visible: line.visible,
    };
    let hash = dossier::chain_hash(&previous, &digest);
    store::append_event(
        conn,
        &EventRow {
            dossier_id: dossier,
            seq,
            at: line.at,
            actor_kind: line.actor_kind.to_owned(),
            actor_id: line.actor_id,
            action: line.action.to_owned(),
            from_status: line.from.map(|s| s.as_str().to_owned()),
            to_status: line.to.map(|s| s.as_str().to_owned()),
            note: line.note.map(str::to_owned),
            visible: line.visible,
            hash: hash.clone(),
        },
    )
    .await?;
    Ok((seq, hash))
}

/// What a new draft is for.
#[derive(Debug, Clone)]
pub struct NewDraft {
    /// The service.
    pub service_code: String,
    /// The agency to file at.
    pub agency_code: String,
    /// A business the applicant acts for (tax code).
    pub on_behalf_of: Option<String>,
    /// First values of the form (may be incomplete).
    pub form_values: Map<String, Value>,
}

fn request_hash(parts: &[&str]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    for p in parts {
        hasher.update(p.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize().to_vec()
}

/// An earlier answer to the same request under `key`, to replay; an error
/// when the key was used for another request or is malformed.
async fn replayed(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    key: Option<&str>,
    request: &[u8],
) -> AppResult<Option<(u16, Value)>> {
    let Some(key) = key else {
        return Ok(None);
    };
    if key.is_empty() || key.len() > 200 || key.chars().any(char::is_control) {
        return Err(AppError::bad_request("invalid_idempotency_key")
            .with_detail("Idempotency-Key: 1–200 ký tự, không có ký tự điều khiển."));
    }
    match store::idempotent_answer(conn, account.as_uuid(), key).await? {
        None => Ok(None),
        Some(stored) if stored.request_hash == request => Ok(Some((
            u16::try_from(stored.status).unwrap_or(200),
            stored.response,
        ))),
        Some(_) => Err(
            AppError::new(ErrorKind::Unprocessable, "idempotency_key_reused")
                .with_detail("Idempotency-Key này đã dùng cho một yêu cầu khác."),
        ),
    }
}

/// Remembers the answer under `key` in the transaction that produced it.
/// A concurrent request with the same key that committed first makes this
/// fail with `idempotency_race`, undoing ours; the caller replays theirs.
async fn remember(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    key: Option<&str>,
    request: &[u8],
    answer: &(u16, Value),
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(key) = key else {
        return Ok(());
    };
    let stored = StoredAnswer {
        request_hash: request.to_vec(),
        status: i16::try_from(answer.0).unwrap_or(200),
        response: answer.1.clone(),
    };
    if store::store_answer(conn, account.as_uuid(), key, &stored, now).await? {
        Ok(())
    } else {
        Err(AppError::conflict("idempotency_race"))
    }
}

/// The answer of a transaction run under an idempotency key.
async fn settle(
    state: &Core,
    account: AccountId,
    key: Option<&str>,
    request: &[u8],
    outcome: AppResult<(u16, Value)>,
) -> AppResult<(u16, Value)> {
    match outcome {
        Err(err) if err.code() == "idempotency_race" => {
            let mut conn = state.db.get().await?;
            replayed(&mut conn, account, key, request)
                .await?
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("idempotent answer vanished")))
        }
        other => other,
    }
}

/// Creates a draft (prefilled later by the vault); 201 and the dossier.
pub async fn create_draft(
    state: &Core,
    applicant: AccountId,
    new: NewDraft,
    idempotency_key: Option<&str>,
) -> AppResult<(u16, Value)> {
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let mut errors = crate::error::FieldErrors::default();
    let (service, offered) =
        match catalog_store::service_offered_by(&mut conn, &new.service_code, &new.agency_code)
            .await?
        {
            Some((service, offered)) => (Some(service), offered == Some(true)),
            None => (None, false),
        };
    let agency = catalog_store::agency(&mut conn, &new.agency_code).await?;
    if service.is_none() {
        errors.push(
            "service_code",
            crate::domain::Invalid::new(
                "service_unknown",
                "Không có thủ tục hành chính với mã này.",
            ),
        );
    }
    if agency.is_none() {
        errors.push(
            "agency_code",
            crate::domain::Invalid::new("agency_unknown", "Không có cơ quan với mã này."),
        );
    }
    if service.is_some() && agency.is_some() && !offered {
        errors.push(
            "agency_code",
            crate::domain::Invalid::new(
                "agency_does_not_handle_service",
                "Cơ quan này không giải quyết hoặc đang tạm ngừng tiếp nhận thủ tục đã chọn.",
            ),
        );
    }
    let business = match &new.on_behalf_of {
        None => None,
        Some(raw) => match TaxCode::parse(raw) {
            Err(e) => {
                errors.push("on_behalf_of", e);
                None
            }
            Ok(tax) => {
                let acting = businesses::acting_for(&mut conn, applicant.as_uuid(), now).await?;
                match acting.into_iter().find(|(b, _)| b.tax_code == tax.as_str()) {
                    Some((b, _)) => Some(b.id),
                    None => {
                        errors.push(
                            "on_behalf_of",
                            crate::domain::Invalid::new(
                                "not_acting_for_business",
                                "Bạn không đại diện hoặc không được ủy quyền cho doanh nghiệp này.",
                            ),
                        );
                        None
                    }
                }
            }
        },
    };
    errors.into_result()?;
    let (Some(service), Some(agency)) = (service, agency) else {
        return Err(AppError::internal(anyhow::anyhow!("checked above")));
    };
    let fields = catalog::form_of(&service)?;
    let values = form::check_values(&fields, &new.form_values, false).map_err(form_errors)?;
    let prefilled = crate::vault::prefill::prefill(
        state,
        &mut conn,
        applicant,
        business.map(crate::domain::BusinessId::from),
        &fields,
        values,
        &catalog::required_documents(&service),
        now,
    )
    .await?;
    drop(conn);
    let request = request_hash(&[
        "create",
        &service.code,
        &agency.code,
        new.on_behalf_of.as_deref().unwrap_or_default(),
        &Value::Object(new.form_values.clone()).to_string(),
    ]);
    let mut conn = state.db.get().await?;
    if let Some(answer) = replayed(&mut conn, applicant, idempotency_key, &request).await? {
        return Ok(answer);
    }
    let outcome = conn
        .transaction::<_, AppError, _>(async |c| {
            let row = DossierRow {
                id: Uuid::now_v7(),
                service_code: service.code.clone(),
                agency_code: agency.code.clone(),
                applicant_id: applicant.as_uuid(),
                business_id: business,
                status: Status::Draft.as_str().into(),
                status_code: Status::Draft.national_code(),
                channel: "online".into(),
                form_values: Value::Object(prefilled.values.clone()),
                value_sources: Value::Object(prefilled.sources.clone()),
                version: 1,
                receipt_code: None,
                submitted_at: None,
                accepted_at: None,
                due_at: None,
                paused_at: None,
                decided_at: None,
                decision: None,
                queue_at: None,
                created_at: now,
                updated_at: now,
            };
            store::insert(c, &row).await?;
            crate::storage::vault::insert_refs(c, row.id, &prefilled.refs, now).await?;
            append_after(
                c,
                row.id,
                None,
                LogLine {
                    at: now,
                    actor_kind: "applicant",
                    actor_id: Some(applicant.as_uuid()),
                    action: "create",
                    from: None,
                    to: Some(Status::Draft),
                    note: None,
                    visible: true,
                },
            )
            .await?;
            // A new draft uses exactly the vault documents just referenced.
            let mut draft = view(c, &row, Actor::Applicant, &[]).await?;
            draft.vault_documents = Some(if prefilled.refs.is_empty() {
                Vec::new()
            } else {
                results::refs(state, c, row.id).await?
            });
            let body = serde_json::to_value(draft).map_err(AppError::internal)?;
            let answer = (201, body);
            remember(c, applicant, idempotency_key, &request, &answer, now).await?;
            Ok(answer)
        })
        .await;
    drop(conn);
    settle(state, applicant, idempotency_key, &request, outcome).await
}

async fn own(
    conn: &mut AsyncPgConnection,
    applicant: AccountId,
    id: Uuid,
    lock: bool,
) -> AppResult<DossierRow> {
    let row = if lock {
        store::find_for_update(conn, id).await?
    } else {
        store::find(conn, id).await?
    };
    // Someone else's dossier is "not found", not "forbidden".
    row.filter(|r| r.applicant_id == applicant.as_uuid())
        .ok_or_else(not_found)
}

/// One of the applicant's dossiers.
pub async fn get(state: &Core, applicant: AccountId, id: Uuid) -> AppResult<DossierView> {
    let mut conn = state.db.get().await?;
    let row = own(&mut conn, applicant, id, false).await?;
    detailed(state, &mut conn, &row, Actor::Applicant, &[]).await
}

/// Changes form values of a draft (or of a dossier waiting for a supplement).
pub async fn update_values(
    state: &Core,
    applicant: AccountId,
    id: Uuid,
    if_match: Option<i32>,
    changes: Map<String, Value>,
) -> AppResult<DossierView> {
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let row = own(c, applicant, id, true).await?;
        stale(if_match, &row)?;
        let status = status_of(&row)?;
        if !matches!(status, Status::Draft | Status::SupplementRequested) {
            return Err(AppError::conflict("not_editable")
                .with_detail("Chỉ sửa được hồ sơ đang soạn hoặc đang được yêu cầu bổ sung."));
        }
        let service = catalog_store::service(c, &row.service_code)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("service vanished")))?;
        let before = row.form_values.as_object().cloned().unwrap_or_default();
        let mut merged = before.clone();
        for (k, v) in changes {
            if v.is_null() {
                merged.remove(&k);
            } else {
                merged.insert(k, v);
            }
        }
        let values = form::check_values(&catalog::form_of(&service)?, &merged, false)
            .map_err(form_errors)?;
        let sources = crate::vault::prefill::after_edit(
            row.value_sources.as_object().unwrap_or(&Map::new()),
            &before,
            &values,
        );
        let updated = store::update(
            c,
            id,
            &DossierChange {
                form_values: Some(Value::Object(values)),
                value_sources: Some(Value::Object(sources)),
                ..DossierChange::default()
            },
            now,
        )
        .await?;
        detailed(state, c, &updated, Actor::Applicant, &[]).await
    })
    .await
}

/// The applicant's dossiers, newest first (keyset: pass the last one's id as `before`).
pub async fn list_mine(
    state: &Core,
    applicant: AccountId,
    status: Option<&str>,
    before: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<DossierView>> {
    if status.is_some_and(|s| Status::parse(s).is_none()) {
        return Err(
            AppError::bad_request("invalid_status").with_detail("Trạng thái hồ sơ không hợp lệ.")
        );
    }
    if !(1..=100).contains(&limit) {
        return Err(AppError::bad_request("invalid_page").with_detail("limit từ 1 đến 100."));
    }
    let mut conn = state.db.get().await?;
    let cursor = match before {
        Some(id) => {
            let anchor = own(&mut conn, applicant, id, false).await?;
            Some((anchor.created_at, anchor.id))
        }
        None => None,
    };
    let rows = store::of_applicant(&mut conn, applicant.as_uuid(), status, cursor, limit).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(view(&mut conn, row, Actor::Applicant, &[]).await?);
    }
    Ok(out)
}

fn event_view(row: EventRow) -> EventView {
    let label = Action::parse(&row.action)
        .map(Action::label)
        .unwrap_or(match row.action.as_str() {
            "create" => "Tạo hồ sơ",
            "overdue" => "Quá hạn giải quyết",
            "attach" => "Đính kèm tệp",
            "file_read" => "Cán bộ xem tệp",
            "forward" => "Chuyển hồ sơ",
            "apology" => "Gửi thư xin lỗi, hẹn lại ngày trả kết quả",
            "counter_filing" => "Nộp hồ sơ tại bộ phận một cửa",
            "result_staged" => "Cán bộ tải lên văn bản kết quả",
            _ => "Cập nhật hồ sơ",
        })
        .to_owned();
    EventView {
        seq: row.seq,
        at: row.at,
        actor: row.actor_kind,
        action: row.action,
        label,
        from_status: row.from_status,
        to_status: row.to_status,
        note: row.note,
    }
}

/// The applicant-visible progress log of one of the applicant's dossiers.
pub async fn events(state: &Core, applicant: AccountId, id: Uuid) -> AppResult<Vec<EventView>> {
    let mut conn = state.db.get().await?;
    own(&mut conn, applicant, id, false).await?;
    Ok(store::events(&mut conn, id, true)
        .await?
        .into_iter()
        .map(event_view)
        .collect())
}

/// Who acts on a dossier.
pub enum By<'a> {
    /// Its applicant.
    Applicant(AccountId),
    /// A civil servant of its agency.
    Staff(&'a StaffSession),
}

/// Takes `action` on a dossier; returns it afterwards.
pub async fn act(
    state: &Core,
    by: By<'_>,
    id: Uuid,
    action: Action,
    if_match: Option<i32>,
    note: Option<String>,
    idempotency_key: Option<&str>,
) -> AppResult<(u16, Value)> {
    let now = state.clock.now();
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(AppError::new(ErrorKind::Unprocessable, "validation_failed")
            .with_detail("Nội dung tối đa 2000 ký tự.")
            .with_field("note", "note_too_long", "Nội dung tối đa 2000 ký tự."));
    }
    let (account, staff) = match &by {
        By::Applicant(a) => (Some(*a), None),
        By::Staff(s) => (None, Some(*s)),
    };
    let actor = match staff {
        None => Actor::Applicant,
        Some(s) => match action.actor() {
            Actor::Staff(role) if s.has(role) => Actor::Staff(role),
            // Not a staff action, or a role this civil servant lacks.
            // (AgencyAdmin takes no dossier action, so this is refused.)
            _ => Actor::Staff(StaffRole::AgencyAdmin),
        },
    };
    let request = request_hash(&[
        "act",
        &id.to_string(),
        action.as_str(),
        note.as_deref().unwrap_or_default(),
    ]);
    let mut conn = state.db.get().await?;
    if let Some(a) = account
        && let Some(answer) = replayed(&mut conn, a, idempotency_key, &request).await?
    {
        return Ok(answer);
    }
    let step = Step {
        id,
        action,
        actor,
        account,
        staff,
        if_match,
        note: note.as_deref(),
        now,
    };
    let outcome = conn
        .transaction::<_, AppError, _>(async |c| {
            let answer = step.run(state, c).await?;
            if let Some(a) = account {
                remember(c, a, idempotency_key, &request, &answer, now).await?;
            }
            Ok(answer)
        })
        .await;
    drop(conn);
    match account {
        Some(a) => settle(state, a, idempotency_key, &request, outcome).await,
        None => outcome,
    }
}

/// One action on one dossier, as checked and applied in a transaction.
struct Step<'a> {
    id: Uuid,
    action: Action,
    actor: Actor,
    account: Option<AccountId>,
    staff: Option<&'a StaffSession>,
    if_match: Option<i32>,
    note: Option<&'a str>,
    now: DateTime<Utc>,
}

impl Step<'_> {
    async fn run(&self, state: &Core, c: &mut AsyncPgConnection) -> AppResult<(u16, Value)> {
        let Self {
            id,
            action,
            actor,
            account,
            staff,
            if_match,
            note,
            now,
        } = *self;
        let row = match (account, staff) {
            (Some(a), _) => own(c, a, id, true).await?,
            (None, Some(s)) => store::find_for_update(c, id)
                .await?
                .filter(|r| r.agency_code == s.agency_code && r.status != Status::Draft.as_str())
                .ok_or_else(not_found)?,
            (None, None) => return Err(not_found()),
        };
        stale(if_match, &row)?;
        let from = status_of(&row)?;
        let to = dossier::check(from, action, actor, note).map_err(|r| refused(r, action))?;
        let (service, offered) =
            catalog_store::service_offered_by(c, &row.service_code, &row.agency_code)
                .await?
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("service vanished")))?;
        let mut change = DossierChange {
            status: Some(to.as_str().into()),
            status_code: Some(to.national_code()),
            ..DossierChange::default()
        };
        match action {
            Action::Submit => {
                if offered != Some(true) {
                    return Err(AppError::conflict("service_not_offered").with_detail(
                        "Cơ quan đang tạm ngừng tiếp nhận hồ sơ mới của thủ tục này. Hồ sơ vẫn được lưu ở dạng nháp.",
                    ));
                }
                let fields = catalog::form_of(&service)?;
                let values = row.form_values.as_object().cloned().unwrap_or_default();
                form::check_values(&fields, &values, true).map_err(form_errors)?;
                crate::vault::prefill::keep_declared(
                    state,
                    c,
                    AccountId::from(row.applicant_id),
                    row.business_id.map(crate::domain::BusinessId::from),
                    &fields,
                    &values,
                    row.value_sources.as_object().unwrap_or(&Map::new()),
                    now,
                )
                .await?;
                let day = now.with_timezone(&city_tz()).date_naive();
                let seq = store::next_receipt_number(c, &row.agency_code, day).await?;
                change.receipt_code = Some(dossier::receipt_code(&row.agency_code, day, seq));
                change.submitted_at = Some(now);
                change.queue_at = Some(now);
            }
            Action::Accept => {
                let due = due_date(c, &row.agency_code, &service, now).await?;
                change.accepted_at = Some(now);
                change.due_at = Some(due);
                change.queue_at = Some(due);
            }
            Action::RequestSupplement => change.paused_at = Some(Some(now)),
            Action::Supplement => {
                if let (Some(paused), Some(due)) = (row.paused_at, row.due_at) {
                    let agency = catalog_store::agency(c, &row.agency_code)
                        .await?
                        .ok_or_else(|| AppError::internal(anyhow::anyhow!("agency vanished")))?;
                    let calendar =
                        catalog::calendar_for(c, &agency, catalog::city_year(paused)).await?;
                    let moved =
                        calendar.add_working_time(due, calendar.working_time_between(paused, now));
                    change.due_at = Some(moved);
                    change.queue_at = Some(moved);
                }
                change.paused_at = Some(None);
            }
            Action::Approve | Action::Reject => {
                if action == Action::Approve {
                    results::on_approve(state, c, &row, &service, now).await?;
                } else {
                    results::on_close(c, id).await?;
                }
                change.decided_at = Some(now);
                change.decision = Some(
                    if action == Action::Approve {
                        "approved"
                    } else {
                        "rejected"
                    }
                    .into(),
                );
            }
            Action::Stop | Action::Withdraw => results::on_close(c, id).await?,
            _ => {}
        }
        let updated = store::update(c, id, &change, now).await?;
        let (kind, actor_id) = match (account, staff) {
            (Some(a), _) => ("applicant", Some(a.as_uuid())),
            (None, Some(s)) => ("staff", Some(s.staff_id)),
            (None, None) => ("system", None),
        };
        log(
            c,
            id,
            now,
            kind,
            actor_id,
            action.as_str(),
            Some(from),
            Some(to),
            note,
            true,
        )
        .await?;
        emails::notify_applicant(state, c, &updated, &service, action, note, now).await?;
        if let Some(s) = staff {
            staff_events::record(
                c,
                &s.into(),
                Entry::dossier(StaffEvent::DossierAction(action), id)
                    .with(serde_json::json!({ "from": from.as_str(), "to": to.as_str() })),
                now,
            )
            .await?;
        }
        let body = match staff {
            Some(s) => {
                detailed(
                    state,
                    c,
                    &updated,
                    Actor::Staff(StaffRole::Receiver),
                    &s.roles,
                )
                .await?
            }
            None => detailed(state, c, &updated, Actor::Applicant, &[]).await?,
        };
        Ok((200, serde_json::to_value(body).map_err(AppError::internal)?))
    }
}

/// The due date accepting the dossier now would set (shown before intake).
pub async fn due_if_accepted(state: &Core, id: Uuid) -> AppResult<Option<DateTime<Utc>>> {
    let mut conn = state.db.get().await?;
    let Some(row) = store::find(&mut conn, id).await? else {
        return Ok(None);
    };
    let service = catalog_store::service(&mut conn, &row.service_code)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("service vanished")))?;
    due_date(&mut conn, &row.agency_code, &service, state.clock.now())
        .await
        .map(Some)
}

async fn due_date(
    conn: &mut AsyncPgConnection,
    agency_code: &str,
    service: &ServiceRow,
    now: DateTime<Utc>,
) -> AppResult<DateTime<Utc>> {
    let agency = catalog_store::agency(conn, agency_code)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("agency vanished")))?;
    let calendar = catalog::calendar_for(conn, &agency, catalog::city_year(now)).await?;
    Ok(calendar.due(now, u32::try_from(service.processing_days).unwrap_or(0)))
}

/// Statuses each role works on, for its queue.
fn queue_statuses(roles: &[StaffRole]) -> Vec<&'static str> {
    let mut out = Vec::new();
    for role in roles {
        let statuses: &[Status] = match role {
            StaffRole::Receiver => &[Status::Submitted, Status::FeeRequested, Status::Processed],
            StaffRole::Processor => &[Status::Accepted, Status::Processing],
            StaffRole::Approver => &[Status::Accepted, Status::Processing],
            StaffRole::AgencyAdmin => &[],
        };
        for s in statuses {
            if !out.contains(&s.as_str()) {
                out.push(s.as_str());
            }
        }
    }
    out
}

/// A civil servant's queue: their agency's dossiers waiting for their roles,
/// in queue order (filing time before intake, due time after).
pub async fn queue(
    state: &Core,
    staff: &StaffSession,
    status: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<DossierView>> {
    if !(1..=100).contains(&limit) {
        return Err(AppError::bad_request("invalid_page").with_detail("limit từ 1 đến 100."));
    }
    let mine = queue_statuses(&staff.roles);
    let statuses: Vec<&str> = match status {
        None => mine,
        Some(s) if mine.contains(&s) => vec![s],
        Some(_) => {
            return Err(AppError::bad_request("invalid_status")
                .with_detail("Trạng thái không thuộc hàng đợi của vai trò bạn."));
        }
    };
    let mut conn = state.db.get().await?;
    let cursor = match after {
        Some(id) => store::find(&mut conn, id)
            .await?
            .filter(|r| r.agency_code == staff.agency_code)
            .and_then(|r| r.queue_at.map(|q| (q, r.id))),
        None => None,
    };
    let rows = store::queue(&mut conn, &staff.agency_code, &statuses, cursor, limit).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(
            view(
                &mut conn,
                row,
                Actor::Staff(StaffRole::Receiver),
                &staff.roles,
            )
            .await?,
        );
    }
    Ok(out)
}

/// Forwards a dossier being handled to another agency (or department) that
/// handles its service: it leaves this agency's queue and joins theirs; the
/// receipt code and the due date stay.
pub async fn forward(
    state: &Core,
    staff: &StaffSession,
    id: Uuid,
    to_agency: &str,
    if_match: Option<i32>,
    note: Option<String>,
) -> AppResult<DossierView> {
    if !(staff.has(StaffRole::Processor) || staff.has(StaffRole::Approver)) {
        return Err(AppError::new(ErrorKind::Forbidden, "role_not_allowed")
            .with_detail("Chỉ cán bộ xử lý hoặc lãnh đạo được chuyển hồ sơ."));
    }
    let note = note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            AppError::new(ErrorKind::Unprocessable, "validation_failed")
                .with_detail("Cần ghi lý do chuyển hồ sơ.")
                .with_field("note", "note_required", "Cần ghi lý do chuyển hồ sơ.")
        })?;
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let row = store::find_for_update(c, id)
            .await?
            .filter(|r| r.agency_code == staff.agency_code && r.status != Status::Draft.as_str())
            .ok_or_else(not_found)?;
        stale(if_match, &row)?;
        let status = status_of(&row)?;
        if !matches!(status, Status::Accepted | Status::Processing) {
            return Err(AppError::conflict("transition_not_allowed")
                .with_detail("Chỉ chuyển được hồ sơ đã tiếp nhận hoặc đang xử lý."));
        }
        let target = catalog_store::agency(c, to_agency).await?;
        let handles = match &target {
            Some(a) => {
                a.code != row.agency_code
                    && catalog_store::handles(c, &a.code, &row.service_code).await?
            }
            None => false,
        };
        if !handles {
            return Err(AppError::new(ErrorKind::Unprocessable, "validation_failed")
                .with_detail(
                    "Cơ quan nhận không giải quyết hoặc đang tạm ngừng tiếp nhận thủ tục này.",
                )
                .with_field(
                    "to_agency",
                    "agency_does_not_handle_service",
                    "Cơ quan nhận không giải quyết hoặc đang tạm ngừng tiếp nhận thủ tục này.",
                ));
        }
        let moved = store::move_to_agency(c, id, to_agency, Status::Processing, now).await?;
        let to_name = target.map(|a| a.name).unwrap_or_default();
        log(
            c,
            id,
            now,
            "staff",
            Some(staff.staff_id),
            "forward",
            Some(status),
            Some(Status::Processing),
            Some(&format!("Chuyển đến {to_name} ({to_agency}): {note}")),
            true,
        )
        .await?;
        staff_events::record(
            c,
            &staff.into(),
            Entry::dossier(StaffEvent::DossierForwarded, id).with(
                serde_json::json!({ "from_agency": row.agency_code, "to_agency": to_agency }),
            ),
            now,
        )
        .await?;
        view(c, &moved, Actor::Staff(StaffRole::Receiver), &staff.roles).await
    })
    .await
}

/// A dossier of the civil servant's agency, with its whole log (internal notes included).
pub async fn staff_get(
    state: &Core,
    staff: &StaffSession,
    id: Uuid,
) -> AppResult<(DossierView, Vec<EventView>)> {
    let (_, view, log) = staff_read(state, staff, id).await?;
    Ok((view, log))
}

/// [`staff_get`], with the row it read.
async fn staff_read(
    state: &Core,
    staff: &StaffSession,
    id: Uuid,
) -> AppResult<(DossierRow, DossierView, Vec<EventView>)> {
    let mut conn = state.db.get().await?;
    let row = store::find(&mut conn, id)
        .await?
        .filter(|r| r.agency_code == staff.agency_code && r.status != Status::Draft.as_str())
        .ok_or_else(not_found)?;
    let view = detailed(
        state,
        &mut conn,
        &row,
        Actor::Staff(StaffRole::Receiver),
        &staff.roles,
    )
    .await?;
    let now = state.clock.now();
    results::log_staff_view(
        &mut conn,
        staff,
        &row,
        view.vault_documents.as_deref().unwrap_or_default(),
        now,
    )
    .await?;
    staff_events::record(
        &mut conn,
        &staff.into(),
        Entry::dossier(StaffEvent::DossierViewed, id),
        now,
    )
    .await?;
    let log = store::events(&mut conn, id, false)
        .await?
        .into_iter()
        .map(event_view)
        .collect();
    Ok((row, view, log))
}

/// Checks a dossier's log chain; returns the first broken row's seq, if any.
pub async fn verify_log(state: &Core, id: Uuid) -> AppResult<Option<i32>> {
    let mut conn = state.db.get().await?;
    let rows = store::events(&mut conn, id, false).await?;
    let mut previous: Vec<u8> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let expected_seq = i32::try_from(i + 1).unwrap_or(i32::MAX);
        let digest = EventDigest {
            dossier_id: row.dossier_id,
            seq: row.seq,
            at: row.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            actor_kind: &row.actor_kind,
            actor_id: row.actor_id,
            action: &row.action,
            from_status: row.from_status.as_deref(),
            to_status: row.to_status.as_deref(),
            note: row.note.as_deref(),
            visible: row.visible,
        };
        if row.seq != expected_seq || dossier::chain_hash(&previous, &digest) != row.hash {
            return Ok(Some(expected_seq));
        }
        previous.clone_from(&row.hash);
    }
    Ok(None)
}

/// Checks the log chains of one dossier or of all; returns how many were
/// checked and the broken ones with the first bad row.
pub async fn verify_logs(state: &Core, only: Option<Uuid>) -> AppResult<(usize, Vec<(Uuid, i32)>)> {
    let mut broken = Vec::new();
    if let Some(id) = only {
        if let Some(seq) = verify_log(state, id).await? {
            broken.push((id, seq));
        }
        return Ok((1, broken));
    }
    let mut checked = 0;
    let mut after = None;
    loop {
        let ids = {
            let mut conn = state.db.get().await?;
            store::ids_after(&mut conn, after, 1000).await?
        };
        let Some(last) = ids.last().copied() else {
            return Ok((checked, broken));
        };
        for id in ids {
            checked += 1;
            if let Some(seq) = verify_log(state, id).await? {
                broken.push((id, seq));
            }
        }
        after = Some(last);
    }
}

/// Loads an account for emails.
pub(crate) async fn applicant_of(
    conn: &mut AsyncPgConnection,
    row: &DossierRow,
) -> AppResult<accounts::AccountRow> {
    Ok(accounts::find(conn, row.applicant_id).await?)
}

/// Queues an email to the applicant inside the transaction.
pub(crate) async fn email_applicant<T: crate::notify::EmailTemplate>(
    state: &Core,
    conn: &mut AsyncPgConnection,
    account: &accounts::AccountRow,
    email: &T,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if let Some(to) = crate::identity::verified_email(account) {
        let domain = state.settings.mail_domain();
        queue_email(
            conn,
            now,
            &Envelope {
                to: &to,
                account_id: Some(account.id),
                mail_domain: &domain,
            },
            email,
        )
        .await?;
    }
    Ok(())
}

/// What the public look-up shows: status and dates, nothing personal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LookupView {
    /// The receipt code.
    pub receipt_code: String,
    /// The service.
    pub service_name: String,
    /// The agency.
    pub agency_name: String,
    /// Status name.
    pub status: String,
    /// National status code.
    pub status_code: i16,
    /// The status in Vietnamese.
    pub status_label: String,
    /// Filed.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Due.
    pub due_at: Option<DateTime<Utc>>,
    /// Decided.
    pub decided_at: Option<DateTime<Utc>>,
}

/// Looks a dossier up by receipt code and the applicant's ID number. Misses
/// count against the caller's address (guessing is throttled); the answer
/// for a wrong ID number is the same as for an unknown code.
pub async fn lookup(
    state: &Identity,
    receipt_code: &str,
    national_id: &str,
    caller_ip: &str,
) -> AppResult<LookupView> {
    use crate::identity::throttle;
    state
        .throttle
        .check(&throttle::LOOKUP_IP, caller_ip)
        .await?;
    let miss = || {
        AppError::not_found("dossier_not_found")
            .with_detail("Không tìm thấy hồ sơ với mã hồ sơ và số định danh này.")
    };
    let mut conn = state.db.get().await?;
    let row = if receipt_code.len() <= 64 {
        store::by_receipt(&mut conn, receipt_code.trim()).await?
    } else {
        None
    };
    let matched = match row {
        Some(row) => {
            let applicant = accounts::find(&mut conn, row.applicant_id).await?;
            crate::crypto::tokens::equal(&applicant.national_id, national_id.trim()).then_some(row)
        }
        None => None,
    };
    let Some(row) = matched else {
        drop(conn);
        state.throttle.fail(&throttle::LOOKUP_IP, caller_ip).await?;
        return Err(miss());
    };
    let service = catalog_store::service(&mut conn, &row.service_code).await?;
    let agency = catalog_store::agency(&mut conn, &row.agency_code).await?;
    let status = status_of(&row)?;
    Ok(LookupView {
        receipt_code: row.receipt_code.clone().unwrap_or_default(),
        service_name: service.map(|s| s.name).unwrap_or_default(),
        agency_name: agency.map(|a| a.name).unwrap_or_default(),
        status: row.status.clone(),
        status_code: row.status_code,
        status_label: status.label().to_owned(),
        submitted_at: row.submitted_at,
        due_at: row.due_at,
        decided_at: row.decided_at,
    })
}
