//! The Core: what every feature runs on and nothing more — the settings,
//! the PostgreSQL pool, Redis, the clock, the file store, the metrics and
//! the outgoing HTTP client. It imports nothing above `storage` and
//! `config`; each feature keeps its own state beside it
//! (`identity::Identity`, `oidc::Provider`), and only the HTTP layer's
//! state puts them together.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use object_store::ObjectStore;

use crate::{
    clock::SharedClock,
    config::{FilesSettings, Settings},
    kv::Kv,
    metrics::Metrics,
    storage::{self, DbPool},
};

/// The shared infrastructure. Cheap to clone (every part is shared).
#[derive(Clone)]
pub struct Core {
    /// The settings.
    pub settings: Arc<Settings>,
    /// PostgreSQL.
    pub db: DbPool,
    /// Redis.
    pub kv: Arc<Kv>,
    /// The time.
    pub clock: SharedClock,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Dossier files and staged results.
    pub files: Arc<dyn ObjectStore>,
    /// Outgoing HTTP (VNeID, back-channel logout): short timeouts, no redirects.
    pub http: reqwest::Client,
}

impl Core {
    /// Builds the core: pools and clients are created, nothing is connected yet.
    pub fn build(settings: Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let db = storage::build_pool(&settings.database)?;
        let kv = Kv::new(&settings.redis).context("REDIS_URL")?;
        Ok(Self {
            files: open_store(&settings.files).context("FILES_URL / FILES_DIR")?,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .connect_timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .context("HTTP client")?,
            settings: Arc::new(settings),
            db,
            kv: Arc::new(kv),
            clock,
            metrics: Arc::new(Metrics::new()?),
        })
    }
}

/// Opens the configured file store.
pub fn open_store(settings: &FilesSettings) -> anyhow::Result<Arc<dyn ObjectStore>> {
    Ok(match settings {
        FilesSettings::Url(url) => {
            let (store, prefix) = object_store::parse_url(url)?;
            if prefix.as_ref().is_empty() {
                Arc::from(store)
            } else {
                Arc::new(object_store::prefix::PrefixStore::new(store, prefix))
            }
        }
        FilesSettings::Dir(dir) => {
            std::fs::create_dir_all(dir)?;
            Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?)
        }
    })
}
