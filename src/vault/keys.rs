//! The master key: a check at start that `VAULT_MASTER_KEY` (and
//! `VAULT_RETIRED_KEYS`) open what this database holds, and the rotation
//! that re-seals every value under the active key, so a retired key can be
//! dropped. Rotation runs while the service serves: values sealed under
//! either key open throughout, and each value is swapped only if unchanged.
//! Rotation also moves record payloads of the first format to the
//! owner-bound one.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::{owner_bound, record_context};
use crate::crypto::keyring::{DataKey, Keyring, OWNER_BOUND_PREFIX};
use crate::storage::{
    vault::{self as store, SealedColumn},
    vault_formats,
};

const CANARY: &str = "vault.canary";

/// Why the configured keys do not fit the database.
#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    /// Values are sealed under a key that is not configured.
    #[error(
        "data in this database is sealed under master key {0}, which is neither VAULT_MASTER_KEY nor in VAULT_RETIRED_KEYS: refusing to start"
    )]
    Missing(String),
    /// A configured key has the id of a stored key but is another key.
    #[error(
        "VAULT_MASTER_KEY (or a retired key) with id {0} is not the key this database was sealed with: refusing to start"
    )]
    Wrong(String),
    /// The database did not answer.
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Checks the keyring against the database and records the active key's canary.
pub async fn check(
    ring: &Keyring,
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> Result<(), KeyCheckError> {
    let checks = store::key_checks(conn).await?;
    if checks.is_empty() {
        // First start with canaries: whatever is sealed already must open.
        for kid in store::key_ids_in_use(conn).await? {
            if !ring.knows(&kid) {
                return Err(KeyCheckError::Missing(kid));
            }
        }
    }
    for (kid, canary) in &checks {
        if !ring.knows(kid) {
            return Err(KeyCheckError::Missing(kid.clone()));
        }
        if ring.open(canary, CANARY).is_err() {
            return Err(KeyCheckError::Wrong(kid.clone()));
        }
    }
    if !checks.iter().any(|(kid, _)| kid == ring.active_id()) {
        let canary = ring.seal(b"ok", CANARY);
        store::insert_key_check(conn, ring.active_id(), &canary, now).await?;
    }
    Ok(())
}

/// What a rotation re-sealed, per column.
#[derive(Debug, Default)]
pub struct Rotation {
    /// `(column, values re-sealed)`.
    pub resealed: Vec<(&'static str, usize)>,
    /// Master keys nothing is sealed under any more (drop them from VAULT_RETIRED_KEYS).
    pub released: Vec<String>,
}

/// Re-seals every value sealed under a retired key with the active key.
pub async fn rotate(ring: &Keyring, conn: &mut AsyncPgConnection) -> anyhow::Result<Rotation> {
    let mut report = Rotation::default();
    for column in SealedColumn::ALL {
        let mut count = 0;
        loop {
            let batch = store::sealed_not_under(conn, column, ring.active_id(), 500).await?;
            if batch.is_empty() {
                break;
            }
            let mut progressed = false;
            for (id, old) in batch {
                let Some(new) = ring
                    .reseal(&old, &column.context(&id))
                    .map_err(|e| anyhow::anyhow!("{} {id}: {e}", column.name()))?
                else {
                    continue;
                };
                store::reseal(conn, column, &id, &old, &new).await?;
                count += 1;
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
        report.resealed.push((column.name(), count));
    }
    report.resealed.push((
        "vault_records payloads (owner-bound)",
        bind_owners(ring, conn).await?,
    ));
    let in_use = store::key_ids_in_use(conn).await?;
    for (kid, _) in store::key_checks(conn).await? {
        if kid != ring.active_id() && !in_use.contains(&kid) {
            store::delete_key_check(conn, &kid).await?;
            report.released.push(kid);
        }
    }
    Ok(report)
}

/// Moves record payloads of the first format (the record id alone as
/// associated data) to the owner-bound one, each swap only if unchanged; a
/// payload that does not open is left as it is (and logged by id). Returns
/// how many moved. Documents' files keep their format: they open either way.
async fn bind_owners(ring: &Keyring, conn: &mut AsyncPgConnection) -> anyhow::Result<usize> {
    let mut after = Uuid::nil();
    let mut moved = 0;
    loop {
        let batch =
            vault_formats::records_without_prefix(conn, OWNER_BOUND_PREFIX, after, 500).await?;
        let Some(last) = batch.last() else {
            return Ok(moved);
        };
        after = last.id;
        for row in &batch {
            let context = record_context(row.id);
            let opened = DataKey::open(ring, &row.data_key, &context)
                .and_then(|key| Ok((key.decrypt(&row.payload, &context)?, key)));
            let Ok((plain, key)) = opened else {
                tracing::warn!(record = %row.id, "a vault record does not open; left in its format");
                continue;
            };
            let bound = key.encrypt_bound(
                &plain,
                &owner_bound(&context, row.account_id, row.business_id),
            );
            if vault_formats::replace_payload(conn, row.id, &row.payload, &bound).await? {
                moved += 1;
            }
        }
    }
}
