//! What identity keeps beside the Core: the session stores, the throttle,
//! the password hasher, the VNeID client and the WebAuthn relying party.

use std::{ops::Deref, sync::Arc};

use crate::{
    identity::{
        passkeys::RelyingParty, password::PasswordHasher, sessions::SessionStore,
        staff::StaffSession, throttle::Throttle, vneid::Vneid,
    },
    infra::Core,
};

/// Identity's state, carrying the Core it runs on (it derefs to it, so a
/// service that needs only the Core can be handed an `&Identity`).
#[derive(Clone)]
pub struct Identity {
    /// The shared infrastructure.
    pub core: Core,
    /// Citizens' browser sessions.
    pub sessions: SessionStore,
    /// Civil servants' back-office sessions.
    pub staff_sessions: SessionStore<StaffSession>,
    /// Throttling of guesses.
    pub throttle: Throttle,
    /// Password hashing on a bounded pool.
    pub hasher: PasswordHasher,
    /// Sign-in with VNeID, when configured.
    pub vneid: Option<Arc<Vneid>>,
    /// The WebAuthn relying party (`None`: passkeys are off on this server).
    pub passkeys: Option<Arc<RelyingParty>>,
}

impl Identity {
    /// Builds identity's state on `core`.
    pub fn build(core: &Core) -> anyhow::Result<Self> {
        let settings = &core.settings;
        let vneid = match &settings.vneid {
            Some(v) => Some(Arc::new(Vneid::new(v.clone(), &settings.issuer())?)),
            None => None,
        };
        Ok(Self {
            sessions: SessionStore::new(core.kv.clone()),
            staff_sessions: SessionStore::new(core.kv.clone()),
            throttle: Throttle::new(core.kv.clone()),
            hasher: PasswordHasher::for_this_machine()?,
            vneid,
            passkeys: RelyingParty::build(&settings.webauthn),
            core: core.clone(),
        })
    }
}

impl Deref for Identity {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
}
