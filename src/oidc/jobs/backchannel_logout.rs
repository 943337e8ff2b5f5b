//! `backchannel_logout`: tells a client that a browser session it joined
//! has ended (OpenID Connect Back-Channel Logout 1.0).

use crate::{
    notify::{Job, JobRegistry, jobs::unexpected},
    oidc::Provider,
};

/// The kind's stored name.
const KIND: &str = "backchannel_logout";

/// Registers the job.
pub fn register(registry: &mut JobRegistry, provider: &Provider) {
    let provider = provider.clone();
    registry.handle(KIND, move |job| {
        let provider = provider.clone();
        Box::pin(async move {
            let Job::BackchannelLogout {
                client_id,
                sid,
                account_id,
            } = &job
            else {
                return Err(unexpected(&job));
            };
            Ok(crate::oidc::backchannel::deliver(&provider, client_id, sid, *account_id).await?)
        })
    });
}
