//! The access log: every read of vault data by someone other than its owner
//! (a civil servant handling a dossier, an integrator with a consented scope),
//! append-only, listed to the owner.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::infra::Core;
use crate::{
    domain::vault::Owner,
    error::{AppError, AppResult},
    storage::{
        catalog as catalog_store,
        vault::{self as store, NewAccess},
    },
};

/// Who read.
#[derive(Debug, Clone)]
pub enum Reader<'a> {
    /// A civil servant, for a dossier of their agency.
    Staff {
        /// The civil servant.
        staff_id: Uuid,
        /// Their agency.
        agency_code: &'a str,
        /// The dossier that justified it.
        dossier_id: Uuid,
    },
    /// A receiver at the counter, before any dossier exists (intake prefill).
    Counter {
        /// The civil servant.
        staff_id: Uuid,
        /// Their agency.
        agency_code: &'a str,
    },
    /// An integrator, with a scope the owner consented to.
    Client {
        /// The client.
        client_id: &'a str,
        /// The scope.
        scope: &'a str,
    },
}

/// Appends one read of `items` of `owner`'s vault (in the caller's transaction).
pub async fn record(
    conn: &mut AsyncPgConnection,
    owner: Owner,
    reader: Reader<'_>,
    items: Vec<String>,
    purpose: String,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (account_id, business_id) = owner.columns();
    let row = match reader {
        Reader::Staff {
            staff_id,
            agency_code,
            dossier_id,
        } => NewAccess {
            account_id,
            business_id,
            at: now,
            reader_kind: "staff".into(),
            staff_id: Some(staff_id),
            agency_code: Some(agency_code.to_owned()),
            client_id: None,
            scope: None,
            dossier_id: Some(dossier_id),
            items,
            purpose,
        },
        Reader::Counter {
            staff_id,
            agency_code,
        } => NewAccess {
            account_id,
            business_id,
            at: now,
            reader_kind: "staff".into(),
            staff_id: Some(staff_id),
            agency_code: Some(agency_code.to_owned()),
            client_id: None,
            scope: None,
            dossier_id: None,
            items,
            purpose,
        },
        Reader::Client { client_id, scope } => NewAccess {
            account_id,
            business_id,
            at: now,
            reader_kind: "client".into(),
            staff_id: None,
            agency_code: None,
            client_id: Some(client_id.to_owned()),
            scope: Some(scope.to_owned()),
            dossier_id: None,
            items,
            purpose,
        },
    };
    store::log_access(conn, &row).await?;
    Ok(())
}

/// An access as its owner sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccessView {
    /// Position (pass as `before` for the next page).
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// `staff` or `client`.
    pub reader: String,
    /// Who, in Vietnamese.
    pub reader_label: String,
    /// The agency of the civil servant.
    pub agency_code: Option<String>,
    /// The integrator.
    pub client_id: Option<String>,
    /// The scope it used.
    pub scope: Option<String>,
    /// The dossier that justified it.
    pub dossier_id: Option<Uuid>,
    /// What was read: vault keys, or `document:<id>`.
    pub items: Vec<String>,
    /// Why.
    pub purpose: String,
}

/// The owner's access log, newest first.
pub async fn list(
    state: &Core,
    owner: Owner,
    before: Option<i64>,
    limit: i64,
) -> AppResult<Vec<AccessView>> {
    if !(1..=100).contains(&limit) {
        return Err(AppError::bad_request("invalid_page").with_detail("limit từ 1 đến 100."));
    }
    let mut conn = state.db.get().await?;
    let rows = store::access_log(&mut conn, owner, before, limit).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let reader_label = match (&r.agency_code, &r.client_id) {
            (Some(code), _) => {
                let name = catalog_store::agency(&mut conn, code)
                    .await?
                    .map_or_else(|| code.clone(), |a| a.name);
                format!("Cán bộ {name}")
            }
            (None, Some(client)) => format!("Ứng dụng {client}"),
            (None, None) => "Không rõ".to_owned(),
        };
        out.push(AccessView {
            id: r.id,
            at: r.at,
            reader: r.reader_kind,
            reader_label,
            agency_code: r.agency_code,
            client_id: r.client_id,
            scope: r.scope,
            dossier_id: r.dossier_id,
            items: r.items,
            purpose: r.purpose,
        });
    }
    Ok(out)
}
