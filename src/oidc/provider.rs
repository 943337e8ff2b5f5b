//! What the OpenID provider keeps beside the Core: its signing keys, its
//! registered clients and the access tokens it has verified, each cached in
//! this process.

use std::{ops::Deref, sync::Arc};

use crate::{
    infra::Core,
    oidc::{clients::ClientCache, jwt::VerifiedTokens, keys::KeyCache},
};

/// The provider's state, carrying the Core it runs on (it derefs to it).
#[derive(Clone)]
pub struct Provider {
    /// The shared infrastructure.
    pub core: Core,
    /// The signing keys, cached in this process.
    pub key_cache: Arc<KeyCache>,
    /// Registered clients, cached in this process.
    pub client_cache: Arc<ClientCache>,
    /// Access tokens verified by this process.
    pub verified_tokens: Arc<VerifiedTokens>,
}

impl Provider {
    /// The provider's state on `core`, with empty caches.
    pub fn new(core: &Core) -> Self {
        Self {
            core: core.clone(),
            key_cache: Arc::default(),
            client_cache: Arc::default(),
            verified_tokens: Arc::default(),
        }
    }
}

impl Deref for Provider {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
}
