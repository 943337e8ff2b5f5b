//! The public look-up by receipt code and ID number.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{errors::lookup_miss, views::status_of};
use crate::identity::Identity;
use crate::{
    error::AppResult,
    storage::{
        accounts,
        catalog::{self as catalog_store},
        dossiers::{self as store},
    },
};

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
        return Err(lookup_miss());
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
