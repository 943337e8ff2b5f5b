//! The National Public Service Portal (Cổng Dịch vụ công quốc gia): every
//! filed dossier and each change of it mirrored there, in order.

use diesel_async::AsyncPgConnection;

use super::LoggedEvent;
use crate::{
    error::AppResult,
    notify::{Job, outbox},
};

/// Queues the dossier's synchronisation: one pending run per dossier sends
/// everything the portal has not received yet, so updates arrive in order.
pub async fn queue(conn: &mut AsyncPgConnection, event: &LoggedEvent<'_>) -> AppResult<()> {
    if event.to == Some(crate::domain::dossier::Status::Draft) && event.seq == 1 {
        // A new draft: nothing for the portal until it is filed.
        return Ok(());
    }
    outbox::enqueue(
        conn,
        event.at,
        &Job::SyncNationalPortal {
            dossier_id: event.dossier_id,
        },
    )
    .await?;
    Ok(())
}

/// Registers the synchronisation job.
pub fn register(registry: &mut crate::notify::JobRegistry, core: &crate::infra::Core) {
    let core = core.clone();
    registry.handle(
        Job::SyncNationalPortal {
            dossier_id: uuid::Uuid::nil(),
        }
        .kind(),
        move |job| {
            let core = core.clone();
            Box::pin(async move {
                let Job::SyncNationalPortal { dossier_id } = job else {
                    return Err(crate::notify::jobs::unexpected(&job));
                };
                sync(&core, dossier_id).await
            })
        },
    );
}

/// Sends the portal what it has not received of `dossier_id`.
async fn sync(
    core: &crate::infra::Core,
    dossier_id: uuid::Uuid,
) -> Result<String, crate::notify::JobFailure> {
    if core.settings.national_portal.is_none() {
        return Ok(format!(
            "national portal not configured; dossier {dossier_id} not sent"
        ));
    }
    Err(crate::notify::JobFailure::retry(
        "synchronisation with the national portal is not available yet",
    ))
}
