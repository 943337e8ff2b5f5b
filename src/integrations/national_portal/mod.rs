//! The National Public Service Portal (Cổng Dịch vụ công quốc gia): every
//! filed dossier and each change of it mirrored there, in order.
//!
//! - [`queue`] runs in the transaction of each progress-log row: it notes
//!   the row in the backlog, keeps the supplement requests' due dates, and
//!   queues the dossier's `sync_national_portal` job (one pending per
//!   dossier).
//! - [`sync`] is the job: the record, then the progress rows after the
//!   dossier's cursor, each acknowledged before the next ([`client`] logs
//!   in and keeps the session; [`payload`] names the fields as the national
//!   specification does).
//! - [`admin`] shows agency admins what failed for good and sends it again.
//!
//! The statuses' national codes, the time format and what the portal's
//! answers mean are the pure rules of `domain::national_portal`.

pub mod admin;
pub mod client;
pub mod payload;
pub mod sync;

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::LoggedEvent;
use crate::{
    domain::dossier::{Action, Status},
    error::AppResult,
    notify::{Job, JobRegistry, outbox},
    storage::national_portal as store,
};

/// The job that sweeps for dossiers left behind rather than sending one:
/// `SyncNationalPortal` for the nil id, queued on the workers' schedule.
pub const SWEEP: Uuid = Uuid::nil();

/// Notes a new log row for the portal and queues the dossier's
/// synchronisation (inside the caller's transaction). A row of a dossier
/// being drafted queues nothing until it is filed.
pub async fn queue(conn: &mut AsyncPgConnection, event: &LoggedEvent<'_>) -> AppResult<()> {
    if event.to == Some(Status::Draft) {
        // A new draft (online or at the counter): nothing for the portal yet.
        return Ok(());
    }
    let id = event.dossier_id;
    // The dossier row is already updated in this transaction: its due date
    // is the one before a request, and the one a supplement set.
    if event.action == Action::RequestSupplement.as_str() {
        let due = store::due_at(conn, id).await?;
        store::supplement_requested(conn, id, event.seq, event.at, due).await?;
    } else if event.action == Action::Supplement.as_str() {
        let due = store::due_at(conn, id).await?;
        store::supplement_supplied(conn, id, event.seq, event.at, due).await?;
    }
    store::note_logged(conn, id, event.seq, event.at).await?;
    outbox::enqueue(conn, event.at, &Job::SyncNationalPortal { dossier_id: id }).await?;
    Ok(())
}

/// Registers the synchronisation job and the sweep on the workers' schedule.
pub fn register(registry: &mut JobRegistry, core: &crate::infra::Core) {
    let core = core.clone();
    registry
        .handle(
            Job::SyncNationalPortal { dossier_id: SWEEP }.kind(),
            move |job| {
                let core = core.clone();
                Box::pin(async move {
                    let Job::SyncNationalPortal { dossier_id } = job else {
                        return Err(crate::notify::jobs::unexpected(&job));
                    };
                    sync::run(&core, dossier_id).await
                })
            },
        )
        .schedule(Job::SyncNationalPortal { dossier_id: SWEEP });
}
