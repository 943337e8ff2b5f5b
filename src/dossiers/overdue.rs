//! Overdue dossiers and apology letters, as Vietnamese one-stop offices do:
//! a scheduled job finds dossiers past their due date and drafts a letter
//! with a new appointment date; an approver of the agency approves it (and
//! may change the date); the applicant gets it by email and in the log.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::infra::Core;
use crate::{
    catalog,
    domain::{calendar::city_tz, staff::StaffRole, staff_event::StaffEvent},
    error::{AppError, AppResult, ErrorKind},
    identity::{
        staff::StaffSession,
        staff_events::{self, Entry},
    },
    notify::templates::email_template,
    storage::{
        catalog as catalog_store,
        dossiers::{self as store, ApologyRow, DossierChange},
    },
};

/// The apology email.
#[derive(Debug, Clone)]
pub struct DossierApology {
    /// Name to greet.
    pub full_name: String,
    /// The receipt code.
    pub receipt_code: String,
    /// The service.
    pub service_name: String,
    /// The agency.
    pub agency_name: String,
    /// The date that was missed, for people.
    pub missed_due: String,
    /// The new appointment date, for people.
    pub new_due: String,
    /// Why.
    pub reason: String,
}

email_template!(
    DossierApology,
    name = "dossier_apology",
    sensitive = false,
    subject = "email/dossier_apology/subject.txt",
    text = "email/dossier_apology/body.txt",
    html = "email/dossier_apology/body.html"
);

fn for_people(at: DateTime<Utc>) -> String {
    at.with_timezone(&city_tz())
        .format("%H:%M ngày %d/%m/%Y")
        .to_string()
}

/// A letter as the staff API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApologyView {
    /// Id.
    pub id: Uuid,
    /// The dossier.
    pub dossier_id: Uuid,
    /// The due date missed.
    pub missed_due: DateTime<Utc>,
    /// The new appointment date (proposed, or promised once approved).
    pub new_due: DateTime<Utc>,
    /// `drafted` or `approved`.
    pub status: String,
    /// The reason given.
    pub reason: Option<String>,
    /// Drafted.
    pub drafted_at: DateTime<Utc>,
}

impl From<ApologyRow> for ApologyView {
    fn from(r: ApologyRow) -> Self {
        Self {
            id: r.id,
            dossier_id: r.dossier_id,
            missed_due: r.missed_due,
            new_due: r.new_due,
            status: r.status,
            reason: r.reason,
            drafted_at: r.drafted_at,
        }
    }
}

/// Drafts letters for dossiers past their due date (the scheduled job);
/// returns how many. Safe to run from many workers at once.
pub async fn draft_apologies(state: &Core) -> AppResult<usize> {
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let overdue = store::overdue_without_apology(c, now, 200).await?;
        let mut drafted = 0;
        for dossier in overdue {
            let (Some(missed), Some(service), Some(agency)) = (
                dossier.due_at,
                catalog_store::service(c, &dossier.service_code).await?,
                catalog_store::agency(c, &dossier.agency_code).await?,
            ) else {
                continue;
            };
            let calendar = catalog::calendar_for(c, &agency, catalog::city_year(now)).await?;
            // Propose half the service's time again (at least a working day).
            let days = u32::try_from(service.processing_days)
                .unwrap_or(1)
                .div_ceil(2)
                .max(1);
            let row = ApologyRow {
                id: Uuid::now_v7(),
                dossier_id: dossier.id,
                agency_code: dossier.agency_code.clone(),
                missed_due: missed,
                new_due: calendar.due(now, days),
                reason: None,
                status: "drafted".into(),
                drafted_at: now,
                approved_by: None,
                approved_at: None,
            };
            if store::insert_apology(c, &row).await? {
                super::log(
                    c,
                    dossier.id,
                    now,
                    "system",
                    None,
                    "overdue",
                    None,
                    None,
                    Some("Quá hạn giải quyết; đã soạn thư xin lỗi chờ phê duyệt."),
                    false,
                )
                .await?;
                drafted += 1;
            }
        }
        Ok(drafted)
    })
    .await
}

/// The agency's letters waiting for approval.
pub async fn drafted(state: &Core, staff: &StaffSession) -> AppResult<Vec<ApologyView>> {
    let mut conn = state.db.get().await?;
    Ok(store::apologies(&mut conn, &staff.agency_code, "drafted")
        .await?
        .into_iter()
        .map(ApologyView::from)
        .collect())
}

/// An approver approves a letter (with the date the applicant is promised
/// and the reason); the applicant is told.
pub async fn approve(
    state: &Core,
    staff: &StaffSession,
    id: Uuid,
    new_due: Option<DateTime<Utc>>,
    reason: &str,
) -> AppResult<ApologyView> {
    if !staff.has(StaffRole::Approver) {
        return Err(AppError::new(ErrorKind::Forbidden, "role_not_allowed")
            .with_detail("Chỉ lãnh đạo phê duyệt mới duyệt thư xin lỗi."));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::new(ErrorKind::Unprocessable, "validation_failed")
            .with_detail("Cần ghi lý do chậm trễ (tối đa 2000 ký tự).")
            .with_field("reason", "reason_required", "Cần ghi lý do chậm trễ."));
    }
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let letter = store::apology_for_update(c, id)
            .await?
            .filter(|l| l.agency_code == staff.agency_code)
            .ok_or_else(|| {
                AppError::not_found("apology_not_found").with_detail("Không tìm thấy thư xin lỗi.")
            })?;
        if letter.status != "drafted" {
            return Err(AppError::conflict("apology_already_approved")
                .with_detail("Thư xin lỗi này đã được phê duyệt."));
        }
        let new_due = new_due.unwrap_or(letter.new_due);
        if new_due <= now {
            return Err(AppError::new(ErrorKind::Unprocessable, "validation_failed")
                .with_detail("Ngày hẹn mới phải sau thời điểm hiện tại.")
                .with_field(
                    "new_due",
                    "new_due_in_past",
                    "Ngày hẹn mới phải sau thời điểm hiện tại.",
                ));
        }
        let dossier = store::find_for_update(c, letter.dossier_id)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("dossier vanished")))?;
        store::approve_apology(c, id, new_due, reason, staff.staff_id, now).await?;
        let updated = store::update(
            c,
            dossier.id,
            &DossierChange {
                due_at: Some(new_due),
                queue_at: Some(new_due),
                ..DossierChange::default()
            },
            now,
        )
        .await?;
        let note = format!(
            "{reason} Ngày hẹn trả kết quả mới: {}.",
            for_people(new_due)
        );
        super::log(
            c,
            dossier.id,
            now,
            "staff",
            Some(staff.staff_id),
            "apology",
            None,
            None,
            Some(&note),
            true,
        )
        .await?;
        staff_events::record(
            c,
            &staff.into(),
            Entry::dossier(StaffEvent::ApologyApproved, dossier.id)
                .with(serde_json::json!({ "letter": id, "new_due": new_due })),
            now,
        )
        .await?;
        let service = catalog_store::service(c, &dossier.service_code).await?;
        let agency = catalog_store::agency(c, &dossier.agency_code).await?;
        let account = super::applicant_of(c, &updated).await?;
        let email = DossierApology {
            full_name: account.full_name.clone(),
            receipt_code: updated.receipt_code.clone().unwrap_or_default(),
            service_name: service.map(|s| s.name).unwrap_or_default(),
            agency_name: agency.map(|a| a.name).unwrap_or_default(),
            missed_due: for_people(letter.missed_due),
            new_due: for_people(new_due),
            reason: reason.to_owned(),
        };
        super::email_applicant(state, c, &account, &email, now).await?;
        let mut view = ApologyView::from(letter);
        view.status = "approved".into();
        view.new_due = new_due;
        view.reason = Some(reason.to_owned());
        Ok(view)
    })
    .await
}
