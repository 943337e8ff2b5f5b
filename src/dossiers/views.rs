//! How a dossier and its log rows are shown: to the applicant, or to a
//! civil servant with the actions their roles leave open.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::results;
use crate::infra::Core;
use crate::{
    domain::{
        dossier::{self, Action, Actor, Status},
        staff::StaffRole,
    },
    error::{AppError, AppResult},
    storage::{
        businesses,
        dossiers::{DossierRow, EventRow},
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

pub(super) fn status_of(row: &DossierRow) -> AppResult<Status> {
    Status::parse(&row.status)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown status {}", row.status)))
}

pub(super) async fn view(
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
pub(super) async fn detailed(
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

pub(super) fn event_view(row: EventRow) -> EventView {
    let label = dossier::event_label(&row.action).to_owned();
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
