//! `purge_ended_sessions` (scheduled): forgets which clients joined browser
//! sessions that have certainly ended, and revocation and replay records
//! that guard nothing any more.

use crate::{
    identity::sessions::ABSOLUTE_TIMEOUT,
    notify::{Job, JobFailure, JobRegistry, jobs::unexpected},
    oidc::Provider,
};

/// Registers the job and queues it at every maintenance round (sessions
/// last at most `ABSOLUTE_TIMEOUT`, rounded up to the hour).
pub fn register(registry: &mut JobRegistry, provider: &Provider) {
    let hours = ABSOLUTE_TIMEOUT.as_secs() / 3600 + 1;
    let job = Job::PurgeEndedSessions {
        older_than_hours: u32::try_from(hours).unwrap_or(u32::MAX),
    };
    let core = provider.core.clone();
    registry
        .handle(job.kind(), move |job| {
            let core = core.clone();
            Box::pin(async move {
                let Job::PurgeEndedSessions { older_than_hours } = job else {
                    return Err(unexpected(&job));
                };
                let now = core.clock.now();
                let before = now - chrono::Duration::hours(i64::from(older_than_hours));
                let purging = |e: diesel::result::Error| JobFailure::retry(format!("purging: {e}"));
                let mut conn = core
                    .db
                    .get()
                    .await
                    .map_err(|e| JobFailure::retry(format!("database unavailable: {e}")))?;
                let sessions = crate::storage::oidc::purge_session_clients(&mut conn, before)
                    .await
                    .map_err(purging)?;
                let records = crate::storage::revocations::purge_expired(&mut conn, now)
                    .await
                    .map_err(purging)?;
                Ok(format!(
                    "forgot {sessions} ended sessions and {records} expired revocation records"
                ))
            })
        })
        .schedule(job);
}
