//! Forwarding a dossier being handled to another agency.

use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::{
    errors::{not_found, stale},
    log::log,
    views::{DossierView, status_of, view},
};
use crate::error::Code;
use crate::infra::Core;
use crate::{
    domain::{
        dossier::{Actor, Status},
        staff::StaffRole,
        staff_event::StaffEvent,
    },
    error::{AppError, AppResult},
    identity::{
        staff::StaffSession,
        staff_events::{self, Entry},
    },
    storage::{
        catalog::{self as catalog_store},
        dossiers::{self as store},
    },
};

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
        return Err(AppError::from(Code::RoleNotAllowed)
            .with_detail("Chỉ cán bộ xử lý hoặc lãnh đạo được chuyển hồ sơ."));
    }
    let note = note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            AppError::from(Code::ValidationFailed)
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
            return Err(AppError::from(Code::TransitionNotAllowed));
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
            return Err(AppError::from(Code::ValidationFailed)
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
