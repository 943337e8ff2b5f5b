//! The master key: a check at start that `VAULT_MASTER_KEY` (and
//! `VAULT_RETIRED_KEYS`) open what this database holds, and the rotation
//! that re-seals every value under the active key, so a retired key can be
//! dropped. Rotation runs while the service serves: values sealed under
//! either key open throughout, and each value is swapped only if unchanged.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use super::crypto::Keyring;
use crate::storage::vault::{self as store, SealedColumn};

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
    let in_use = store::key_ids_in_use(conn).await?;
    for (kid, _) in store::key_checks(conn).await? {
        if kid != ring.active_id() && !in_use.contains(&kid) {
            store::delete_key_check(conn, &kid).await?;
            report.released.push(kid);
        }
    }
    Ok(report)
}
