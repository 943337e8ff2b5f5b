//! `draft_apologies` (scheduled): drafts apology letters for dossiers past
//! their due date.

use crate::{
    infra::Core,
    notify::{Job, JobFailure, JobRegistry},
};

/// Registers the job and queues it at every maintenance round.
pub fn register(registry: &mut JobRegistry, core: &Core) {
    let core = core.clone();
    registry
        .handle(Job::DraftApologies.kind(), move |_job| {
            let core = core.clone();
            Box::pin(async move {
                crate::dossiers::overdue::draft_apologies(&core)
                    .await
                    .map(|n| format!("drafted {n} apology letters"))
                    .map_err(|e| JobFailure::retry(format!("drafting apologies: {}", e.code())))
            })
        })
        .schedule(Job::DraftApologies);
}
