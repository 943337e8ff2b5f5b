//! The agency's audit trail: what each civil servant did, recorded by the
//! domain functions themselves (so the back office and the staff API leave
//! the same trail), in the transaction of the change where there is one.
//! Agency admins read their agency's trail at /backoffice/audit.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::Value;
use uuid::Uuid;

use crate::infra::Core;
use crate::{
    domain::{staff::StaffRole, staff_event::StaffEvent},
    error::{AppError, AppResult, ErrorKind},
    identity::{ClientInfo, staff::StaffSession},
    storage::staff::{self as store, EventQuery, StaffEventRow},
};

/// Who did it, and from where.
#[derive(Debug, Clone)]
pub struct Doer<'a> {
    /// The civil servant.
    pub staff_id: Uuid,
    /// Their agency.
    pub agency_code: &'a str,
    /// Client address and software.
    pub client: ClientInfo,
}

impl<'a> From<&'a StaffSession> for Doer<'a> {
    fn from(session: &'a StaffSession) -> Self {
        Self {
            staff_id: session.staff_id,
            agency_code: &session.agency_code,
            client: ClientInfo {
                ip: session.ip.clone(),
                user_agent: session.user_agent.clone(),
            },
        }
    }
}

/// What happened to what.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The kind.
    pub event: StaffEvent,
    /// The dossier concerned.
    pub dossier: Option<Uuid>,
    /// Another thing concerned (a username, a service code, a date).
    pub subject: Option<String>,
    /// Details without personal data (statuses, roles, codes).
    pub detail: Value,
}

impl Entry {
    /// An event about nothing in particular (sign-in, export).
    pub fn plain(event: StaffEvent) -> Self {
        Self {
            event,
            dossier: None,
            subject: None,
            detail: Value::Object(Default::default()),
        }
    }

    /// An event about a dossier.
    pub fn dossier(event: StaffEvent, id: Uuid) -> Self {
        Self {
            dossier: Some(id),
            ..Self::plain(event)
        }
    }

    /// An event about another thing.
    pub fn about(event: StaffEvent, subject: impl Into<String>) -> Self {
        Self {
            subject: Some(subject.into()),
            ..Self::plain(event)
        }
    }

    /// With details.
    pub fn with(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }
}

/// Records an event on `conn` (inside the caller's transaction, if any).
pub async fn record(
    conn: &mut AsyncPgConnection,
    doer: &Doer<'_>,
    entry: Entry,
    now: DateTime<Utc>,
) -> AppResult<()> {
    store::insert_event(
        conn,
        &StaffEventRow {
            id: Uuid::now_v7(),
            agency_code: doer.agency_code.to_owned(),
            staff_id: doer.staff_id,
            kind: entry.event.as_str(),
            dossier_id: entry.dossier,
            subject: entry.subject,
            detail: entry.detail,
            ip: doer.client.ip.clone(),
            user_agent: doer.client.user_agent.clone(),
            created_at: now,
        },
    )
    .await?;
    Ok(())
}

/// Records an event on a connection of its own.
pub async fn record_now(state: &Core, doer: &Doer<'_>, entry: Entry) -> AppResult<()> {
    let mut conn = state.db.get().await?;
    record(&mut conn, doer, entry, state.clock.now()).await
}

/// One line of the audit page.
#[derive(Debug, Clone)]
pub struct EventLine {
    /// Id (the keyset of the next page).
    pub id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (username).
    pub username: String,
    /// What it says (Vietnamese).
    pub label: String,
    /// The dossier concerned.
    pub dossier: Option<Uuid>,
    /// Another thing concerned.
    pub subject: Option<String>,
    /// Details.
    pub detail: Value,
    /// Client address.
    pub ip: Option<String>,
}

/// Events on one page of the audit trail.
pub const PAGE: i64 = 50;

/// The admin's agency's trail, newest first; one more than a page is read to
/// know whether there is a next one.
pub async fn list(
    state: &Core,
    admin: &StaffSession,
    mut query: EventQuery,
) -> AppResult<(Vec<EventLine>, Option<Uuid>)> {
    if !admin.has(StaffRole::AgencyAdmin) {
        return Err(AppError::new(ErrorKind::Forbidden, "role_required")
            .with_detail("Chỉ quản trị đơn vị được xem nhật ký thao tác."));
    }
    query.agency_code = admin.agency_code.clone();
    query.limit = PAGE + 1;
    let mut conn = state.db.get().await?;
    let mut rows = store::events(&mut conn, &query).await?;
    let next = if rows.len() > PAGE as usize {
        rows.truncate(PAGE as usize);
        rows.last().map(|(r, _)| r.id)
    } else {
        None
    };
    let lines = rows
        .into_iter()
        .map(|(row, username)| EventLine {
            id: row.id,
            at: row.created_at,
            username,
            label: StaffEvent::parse(&row.kind)
                .map(StaffEvent::label)
                .unwrap_or(row.kind),
            dossier: row.dossier_id,
            subject: row.subject,
            detail: row.detail,
            ip: row.ip,
        })
        .collect();
    Ok((lines, next))
}
