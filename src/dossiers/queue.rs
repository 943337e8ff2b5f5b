//! A civil servant's queue: the statuses their roles work on.

use uuid::Uuid;

use super::views::{DossierView, view};
use crate::error::Code;
use crate::infra::Core;
use crate::{
    domain::{
        dossier::{Actor, Status},
        staff::StaffRole,
    },
    error::{AppError, AppResult},
    identity::staff::StaffSession,
    storage::dossiers::{self as store},
};

/// Statuses each role works on, for its queue.
pub(super) fn queue_statuses(roles: &[StaffRole]) -> Vec<&'static str> {
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
        return Err(super::errors::invalid_page());
    }
    let mine = queue_statuses(&staff.roles);
    let statuses: Vec<&str> = match status {
        None => mine,
        Some(s) if mine.contains(&s) => vec![s],
        Some(_) => {
            return Err(AppError::from(Code::InvalidStatus));
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
