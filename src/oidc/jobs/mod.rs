//! The provider's background jobs, one kind per file.

pub mod backchannel_logout;
pub mod purge_ended_sessions;

use crate::{notify::JobRegistry, oidc::Provider};

/// Registers the provider's jobs and their schedule.
pub fn register(registry: &mut JobRegistry, provider: &Provider) {
    backchannel_logout::register(registry, provider);
    purge_ended_sessions::register(registry, provider);
}
