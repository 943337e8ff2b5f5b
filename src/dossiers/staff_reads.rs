//! A civil servant reading a dossier of their agency (logged).

use uuid::Uuid;

use super::{
    errors::not_found,
    results,
    views::{DossierView, EventView, detailed, event_view},
};
use crate::infra::Core;
use crate::{
    domain::{
        dossier::{Actor, Status},
        staff::StaffRole,
        staff_event::StaffEvent,
    },
    error::AppResult,
    identity::{
        staff::StaffSession,
        staff_events::{self, Entry},
    },
    storage::dossiers::{self as store, DossierRow},
};

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
pub(super) async fn staff_read(
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
