//! The applicant's drafts: creating one (checked, prefilled from the
//! vault), editing its values, reading and listing their dossiers.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{
    errors::{form_errors, not_found, stale},
    idempotency::{remember, replayed, request_hash, settle},
    log::{LogLine, append_after},
    results,
    views::{DossierView, EventView, detailed, event_view, status_of, view},
};
use crate::error::Code;
use crate::infra::Core;
use crate::vault::prefill::Prefilled;
use crate::{
    catalog,
    domain::{
        AccountId, Invalid, TaxCode,
        dossier::{Actor, Status},
        form,
    },
    error::{AppError, AppResult},
    storage::{
        businesses,
        catalog::{self as catalog_store, AgencyRow, ServiceRow},
        dossiers::{self as store, DossierChange, DossierRow},
    },
};

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

/// Creates a draft (prefilled later by the vault); 201 and the dossier.
pub async fn create_draft(
    state: &Core,
    applicant: AccountId,
    new: NewDraft,
    idempotency_key: Option<&str>,
) -> AppResult<(u16, Value)> {
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let target = checked_target(&mut conn, applicant, &new, now).await?;
    let fields = catalog::form_of(&target.service)?;
    let values = form::check_values(&fields, &new.form_values, false).map_err(form_errors)?;
    let prefilled = crate::vault::prefill::prefill(
        state,
        &mut conn,
        applicant,
        target.business.map(crate::domain::BusinessId::from),
        &fields,
        values,
        &catalog::required_documents(&target.service),
        now,
    )
    .await?;
    drop(conn);
    let request = request_hash(&[
        "create",
        &target.service.code,
        &target.agency.code,
        new.on_behalf_of.as_deref().unwrap_or_default(),
        &Value::Object(new.form_values.clone()).to_string(),
    ]);
    let mut conn = state.db.get().await?;
    if let Some(answer) = replayed(&mut conn, applicant, idempotency_key, &request).await? {
        return Ok(answer);
    }
    let outcome = conn
        .transaction::<_, AppError, _>(async |c| {
            let draft = insert_draft(state, c, applicant, &target, &prefilled, now).await?;
            let body = serde_json::to_value(draft).map_err(AppError::internal)?;
            let answer = (201, body);
            remember(c, applicant, idempotency_key, &request, &answer, now).await?;
            Ok(answer)
        })
        .await;
    drop(conn);
    settle(state, applicant, idempotency_key, &request, outcome).await
}

/// What a new draft was checked to be for.
struct Target {
    service: ServiceRow,
    agency: AgencyRow,
    business: Option<Uuid>,
}

/// Checks the service, the agency (that it takes this service now) and the
/// business acted for; every problem at once, as one 422.
async fn checked_target(
    conn: &mut AsyncPgConnection,
    applicant: AccountId,
    new: &NewDraft,
    now: DateTime<Utc>,
) -> AppResult<Target> {
    let mut errors = crate::error::FieldErrors::default();
    let (service, offered) =
        match catalog_store::service_offered_by(conn, &new.service_code, &new.agency_code).await? {
            Some((service, offered)) => (Some(service), offered == Some(true)),
            None => (None, false),
        };
    let agency = catalog_store::agency(conn, &new.agency_code).await?;
    if service.is_none() {
        errors.push(
            "service_code",
            Invalid::new("service_unknown", "Không có thủ tục hành chính với mã này."),
        );
    }
    if agency.is_none() {
        errors.push(
            "agency_code",
            Invalid::new("agency_unknown", "Không có cơ quan với mã này."),
        );
    }
    if service.is_some() && agency.is_some() && !offered {
        errors.push(
            "agency_code",
            Invalid::new(
                "agency_does_not_handle_service",
                "Cơ quan này không giải quyết hoặc đang tạm ngừng tiếp nhận thủ tục đã chọn.",
            ),
        );
    }
    let business = match &new.on_behalf_of {
        None => None,
        Some(raw) => match business_acted_for(conn, applicant, raw, now).await? {
            Ok(id) => Some(id),
            Err(invalid) => {
                errors.push("on_behalf_of", invalid);
                None
            }
        },
    };
    errors.into_result()?;
    let (Some(service), Some(agency)) = (service, agency) else {
        return Err(AppError::internal(anyhow::anyhow!("checked above")));
    };
    Ok(Target {
        service,
        agency,
        business,
    })
}

/// The business with tax code `raw` the applicant represents or is
/// authorised for now; why not, otherwise.
async fn business_acted_for(
    conn: &mut AsyncPgConnection,
    applicant: AccountId,
    raw: &str,
    now: DateTime<Utc>,
) -> AppResult<Result<Uuid, Invalid>> {
    let tax = match TaxCode::parse(raw) {
        Ok(tax) => tax,
        Err(invalid) => return Ok(Err(invalid)),
    };
    let acting = businesses::acting_for(conn, applicant.as_uuid(), now).await?;
    Ok(acting
        .into_iter()
        .find(|(b, _)| b.tax_code == tax.as_str())
        .map(|(b, _)| b.id)
        .ok_or_else(|| {
            Invalid::new(
                "not_acting_for_business",
                "Bạn không đại diện hoặc không được ủy quyền cho doanh nghiệp này.",
            )
        }))
}

/// Stores the draft, its vault references and its first log row; the
/// draft as its applicant sees it.
async fn insert_draft(
    state: &Core,
    c: &mut AsyncPgConnection,
    applicant: AccountId,
    target: &Target,
    prefilled: &Prefilled,
    now: DateTime<Utc>,
) -> AppResult<DossierView> {
    let row = DossierRow {
        id: Uuid::now_v7(),
        service_code: target.service.code.clone(),
        agency_code: target.agency.code.clone(),
        applicant_id: applicant.as_uuid(),
        business_id: target.business,
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
    let first = LogLine {
        at: now,
        actor_kind: "applicant",
        actor_id: Some(applicant.as_uuid()),
        action: "create",
        from: None,
        to: Some(Status::Draft),
        note: None,
        visible: true,
    };
    append_after(c, row.id, None, first).await?;
    // A new draft uses exactly the vault documents just referenced.
    let mut draft = view(c, &row, Actor::Applicant, &[]).await?;
    draft.vault_documents = Some(if prefilled.refs.is_empty() {
        Vec::new()
    } else {
        results::refs(state, c, row.id).await?
    });
    Ok(draft)
}

pub(super) async fn own(
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
            return Err(AppError::from(Code::NotEditable)
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
            AppError::from(Code::InvalidStatus).with_detail("Trạng thái hồ sơ không hợp lệ.")
        );
    }
    if !(1..=100).contains(&limit) {
        return Err(super::errors::invalid_page());
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
