//! What handlers reach: the Core and each feature's state, put together
//! once by the composition root (`startup`). Only `http/` and the
//! composition root know this type; services take the `Core` or the one
//! feature state they use.

use std::ops::Deref;

use crate::{
    clock::SharedClock,
    config::Settings,
    identity::Identity,
    infra::Core,
    notify::{Mailer, Senders, sms::SmsSender},
    oidc::Provider,
};

/// The application's state. Cheap to clone. It derefs to the [`Core`], so
/// a handler hands `&state` to a service that needs only the core.
#[derive(Clone)]
pub struct AppState {
    /// The shared infrastructure.
    pub core: Core,
    /// Accounts, sessions, sign-in.
    pub identity: Identity,
    /// The OpenID provider.
    pub oidc: Provider,
    /// The transports the outbox worker sends through (handlers never send:
    /// they queue).
    pub senders: Senders,
}

impl AppState {
    /// Builds the state: pools and clients are created, nothing is connected yet.
    pub fn build(settings: Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let core = Core::build(settings, clock)?;
        Ok(Self {
            identity: Identity::build(&core)?,
            oidc: Provider::new(&core),
            senders: Senders {
                mailer: Mailer::build(&core.settings.mail.transport)?,
                sms: SmsSender::build(&core.settings.sms)?,
            },
            core,
        })
    }

    /// Refuses to go on when the configured master keys do not open what
    /// this database holds (a wrong or missing `VAULT_MASTER_KEY`).
    pub async fn check_master_key(&self) -> anyhow::Result<()> {
        let mut conn = self.db.get().await?;
        crate::vault::keys::check(&self.settings.keyring, &mut conn, self.clock.now()).await?;
        Ok(())
    }
}

impl Deref for AppState {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
}
