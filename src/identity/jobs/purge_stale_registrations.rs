//! `purge_stale_registrations` (scheduled): deletes registrations never
//! verified in time.

use crate::{
    infra::Core,
    notify::{Job, JobFailure, JobRegistry, jobs::unexpected},
};

/// Unverified registrations are deleted after this many hours (the
/// verification link lives 24 hours).
pub const STALE_REGISTRATION_HOURS: u32 = 48;

/// Registers the job and queues it at every maintenance round.
pub fn register(registry: &mut JobRegistry, core: &Core) {
    let job = Job::PurgeStaleRegistrations {
        older_than_hours: STALE_REGISTRATION_HOURS,
    };
    let core = core.clone();
    registry
        .handle(job.kind(), move |job| {
            let core = core.clone();
            Box::pin(async move {
                let Job::PurgeStaleRegistrations { older_than_hours } = job else {
                    return Err(unexpected(&job));
                };
                let before =
                    core.clock.now() - chrono::Duration::hours(i64::from(older_than_hours));
                let mut conn = core
                    .db
                    .get()
                    .await
                    .map_err(|e| JobFailure::retry(format!("database unavailable: {e}")))?;
                crate::storage::accounts::delete_stale_pending(&mut conn, before)
                    .await
                    .map(|n| format!("deleted {n} unverified registrations"))
                    .map_err(|e| JobFailure::retry(format!("purging: {e}")))
            })
        })
        .schedule(job);
}
