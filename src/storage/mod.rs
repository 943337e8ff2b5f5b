//! PostgreSQL access: the connection pool, the embedded migrations, and one
//! repository module per aggregate. All SQL of the application lives below
//! this module; callers get plain row structs and `QueryResult`s.

pub mod account_changes;
pub mod accounts;
pub mod apologies;
pub mod businesses;
pub mod catalog;
pub mod demo;
pub mod dossiers;
pub mod email_tokens;
pub mod emails;
pub mod jobs;
pub mod national_portal;
pub mod oidc;
pub mod passkeys;
pub mod payments;
pub mod revocations;
#[allow(missing_docs)]
pub mod schema;
pub mod sms;
pub mod staff;
pub mod staff_passkeys;
pub mod stats;
pub mod vault;
pub mod vault_formats;
pub mod webhooks;

use std::time::Duration;

use anyhow::Context;
use diesel::Connection;
use diesel_async::{
    AsyncPgConnection, RunQueryDsl,
    async_connection_wrapper::AsyncConnectionWrapper,
    pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod, deadpool},
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use secrecy::{ExposeSecret, SecretString};

use crate::config::DatabaseSettings;

/// The pool of async PostgreSQL connections.
pub type DbPool = deadpool::Pool<AsyncPgConnection>;
/// A connection checked out of the pool.
pub type DbConn = deadpool::Object<AsyncPgConnection>;
/// Why a connection could not be had.
pub type PoolError = deadpool::PoolError;

/// The migrations compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Serialises concurrent `migrate` runs (any fixed number works; this one spells "ESRV").
const MIGRATION_LOCK: i64 = 0x4553_5256;

/// Builds the pool. No connection is made until the first request, so the
/// process starts (and reports not-ready) while the database is down.
pub fn build_pool(settings: &DatabaseSettings) -> anyhow::Result<DbPool> {
    let mut config = ManagerConfig::default();
    // A broken connection is detected on return (is_broken) and dropped, so a
    // database restart costs the requests in flight, not the process.
    config.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        settings.url.expose_secret(),
        config,
    );
    deadpool::Pool::builder(manager)
        .max_size(settings.pool_size)
        .runtime(::deadpool::Runtime::Tokio1)
        .wait_timeout(Some(settings.timeout))
        .create_timeout(Some(settings.timeout))
        .recycle_timeout(Some(settings.timeout))
        .build()
        .context("building the database pool")
}

/// Runs the pending migrations and returns the versions applied.
///
/// Holds a PostgreSQL advisory lock meanwhile, so several processes may call it at once.
pub async fn run_migrations(url: &SecretString) -> anyhow::Result<Vec<String>> {
    let url = url.expose_secret().to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .context("connecting to DATABASE_URL")?;
        diesel::RunQueryDsl::execute(
            diesel::sql_query("SELECT pg_advisory_lock($1)")
                .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK),
            &mut conn,
        )
        .context("taking the migration lock")?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("running migrations: {e}"))?
            .iter()
            .map(ToString::to_string)
            .collect();
        diesel::RunQueryDsl::execute(
            diesel::sql_query("SELECT pg_advisory_unlock($1)")
                .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK),
            &mut conn,
        )
        .context("releasing the migration lock")?;
        Ok(applied)
    })
    .await
    .context("migration task")?
}

/// Answers whether the database takes queries, within `timeout`.
pub async fn ping(pool: &DbPool, timeout: Duration) -> anyhow::Result<()> {
    let check = async {
        let mut conn = pool.get().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await?;
        anyhow::Ok(())
    };
    tokio::time::timeout(timeout, check)
        .await
        .map_err(|_| anyhow::anyhow!("database did not answer within {timeout:?}"))?
}
