//! The dossiers' background jobs, one kind per file.

pub mod draft_apologies;
pub mod refresh_stats;

use crate::{infra::Core, notify::JobRegistry};

/// Registers the dossiers' jobs and their schedule.
pub fn register(registry: &mut JobRegistry, core: &Core) {
    refresh_stats::register(registry, core);
    draft_apologies::register(registry, core);
}
