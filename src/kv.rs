//! Redis: sessions, throttling, short-lived protocol state and caches.
//!
//! Redis may be lost at any time; durable facts live in PostgreSQL. The
//! connection is made lazily and re-made by redis' connection manager, so the
//! process starts and keeps running while Redis is down (requests that need
//! it get a 503) and recovers when it is back.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::ExposeSecret;
use tokio::sync::Mutex;

use crate::config::RedisSettings;

/// How long to wait for Redis before calling it unavailable.
const TIMEOUT: Duration = Duration::from_secs(1);

/// A handle on Redis with this deployment's key prefix.
pub struct Kv {
    client: redis::Client,
    prefix: String,
    manager: Mutex<Option<ConnectionManager>>,
}

impl std::fmt::Debug for Kv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kv").field("prefix", &self.prefix).finish()
    }
}

impl Kv {
    /// A handle; nothing is connected yet.
    pub fn new(settings: &RedisSettings) -> redis::RedisResult<Self> {
        Ok(Self {
            client: redis::Client::open(settings.url.expose_secret())?,
            prefix: settings.prefix.clone(),
            manager: Mutex::new(None),
        })
    }

    /// The full key for `name` under this deployment's prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// A connection (cheap to clone; reconnects by itself after a failure).
    pub async fn conn(&self) -> redis::RedisResult<ConnectionManager> {
        let mut guard = self.manager.lock().await;
        if let Some(manager) = guard.as_ref() {
            return Ok(manager.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(TIMEOUT)
            .set_response_timeout(TIMEOUT)
            .set_number_of_retries(2)
            .set_max_delay(500);
        let manager = self
            .client
            .get_connection_manager_with_config(config)
            .await?;
        *guard = Some(manager.clone());
        Ok(manager)
    }

    /// Answers whether Redis takes commands.
    pub async fn ping(&self) -> redis::RedisResult<()> {
        let mut conn = self.conn().await?;
        let pong: String = redis::cmd("PING").query_async(&mut conn).await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(redis::RedisError::from((
                redis::ErrorKind::ResponseError,
                "unexpected PING answer",
            )))
        }
    }
}
