//! The city's systems and the nation's that hear of dossiers: the National
//! Public Service Portal (every filing and status change mirrored) and the
//! webhook subscribers of city systems. Both are told of each progress-log
//! row in the transaction that appends it ([`dossier_logged`]) and deliver
//! through the outbox afterwards.

pub mod national_portal;
pub mod webhooks;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::{domain::dossier::Status, error::AppResult};

/// A row just appended to a dossier's progress log.
#[derive(Debug, Clone, Copy)]
pub struct LoggedEvent<'a> {
    /// The dossier.
    pub dossier_id: Uuid,
    /// The row's place in the log (1 for a new draft).
    pub seq: i32,
    /// When.
    pub at: DateTime<Utc>,
    /// What happened (`submit`, `accept`, `fee_paid` …).
    pub action: &'a str,
    /// The status before, for a status change.
    pub from: Option<Status>,
    /// The status after, for a status change.
    pub to: Option<Status>,
    /// Whether the applicant sees the row.
    pub visible: bool,
}

impl LoggedEvent<'_> {
    /// Whether the row changes the dossier's status.
    pub fn changes_status(&self) -> bool {
        self.to.is_some() && self.to != self.from
    }
}

/// Queues what the row causes for the national portal and the webhook
/// subscribers (inside the caller's transaction).
pub async fn dossier_logged(
    conn: &mut AsyncPgConnection,
    event: &LoggedEvent<'_>,
) -> AppResult<()> {
    national_portal::queue(conn, event).await?;
    webhooks::queue(conn, event).await?;
    Ok(())
}
