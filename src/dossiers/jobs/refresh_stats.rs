//! `refresh_stats` (scheduled): recomputes the dashboard's figures.

use crate::{
    infra::Core,
    notify::{Job, JobFailure, JobRegistry},
};

/// Registers the job and queues it at every maintenance round.
pub fn register(registry: &mut JobRegistry, core: &Core) {
    let core = core.clone();
    registry
        .handle(Job::RefreshStats.kind(), move |_job| {
            let core = core.clone();
            Box::pin(async move {
                crate::dossiers::stats::refresh(&core)
                    .await
                    .map(|()| "refreshed the dashboard's figures".to_owned())
                    .map_err(|e| JobFailure::retry(format!("refreshing figures: {}", e.code())))
            })
        })
        .schedule(Job::RefreshStats);
}
