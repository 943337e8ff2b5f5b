//! Identity's background jobs, one kind per file.

pub mod purge_stale_registrations;

use crate::{infra::Core, notify::JobRegistry};

/// Registers identity's jobs and their schedule.
pub fn register(registry: &mut JobRegistry, core: &Core) {
    purge_stale_registrations::register(registry, core);
}
