//! Agencies' signing keys: one current ECDSA P-256 key pair per agency, made
//! on first use, the private half sealed under the master key. Rotating makes
//! the current key retired (it keeps verifying what it signed) and the next
//! signature makes a new one.

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{
        ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
        UnparsedPublicKey,
    },
};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::infra::Core;
use crate::{
    error::{AppError, AppResult},
    storage::vault::{self as store, SigningKeyRow},
};

fn context(id: Uuid) -> String {
    format!("vault.signing_key:{id}")
}

fn fresh(state: &Core, agency: &str, now: DateTime<Utc>) -> AppResult<SigningKeyRow> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| AppError::internal(anyhow::anyhow!("key generation failed")))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|_| AppError::internal(anyhow::anyhow!("generated key does not parse")))?;
    let id = Uuid::now_v7();
    Ok(SigningKeyRow {
        id,
        agency_code: agency.to_owned(),
        algorithm: "ES256".into(),
        public_key: pair.public_key().as_ref().to_vec(),
        private_key: state.settings.keyring.seal(pkcs8.as_ref(), &context(id)),
        created_at: now,
        retired_at: None,
    })
}

/// Signs `message` with the agency's current key (made now if it has none);
/// the key id and the signature (r || s, 64 bytes).
pub async fn sign(
    state: &Core,
    conn: &mut AsyncPgConnection,
    agency: &str,
    message: &[u8],
    now: DateTime<Utc>,
) -> AppResult<(Uuid, Vec<u8>)> {
    let key = match store::active_signing_key(conn, agency).await? {
        Some(k) => k,
        None => {
            let row = fresh(state, agency, now)?;
            // Two first signatures at once: one key wins, both use it.
            store::insert_signing_key(conn, &row).await?;
            store::active_signing_key(conn, agency)
                .await?
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("signing key vanished")))?
        }
    };
    let pkcs8 = state
        .settings
        .keyring
        .open(&key.private_key, &context(key.id))
        .map_err(|e| AppError::internal(anyhow::anyhow!("signing key {}: {e}", key.id)))?;
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8).map_err(|_| {
            AppError::internal(anyhow::anyhow!("signing key {} does not parse", key.id))
        })?;
    let signature = pair
        .sign(&SystemRandom::new(), message)
        .map_err(|_| AppError::internal(anyhow::anyhow!("signing failed")))?;
    Ok((key.id, signature.as_ref().to_vec()))
}

/// Whether `signature` over `message` verifies under `public_key`.
pub fn verifies(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key)
        .verify(message, signature)
        .is_ok()
}

/// Retires the agency's current key; the next signature makes a new one.
pub async fn rotate(state: &Core, agency: &str) -> AppResult<Uuid> {
    use diesel_async::AsyncConnection;
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        store::retire_signing_key(c, agency, now).await?;
        let row = fresh(state, agency, now)?;
        store::insert_signing_key(c, &row).await?;
        Ok(row.id)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_message_and_key() {
        let rng = SystemRandom::new();
        let doc =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref()).expect("pair");
        let sig = pair.sign(&rng, b"statement").expect("sign");
        let public = pair.public_key().as_ref();
        assert!(verifies(public, b"statement", sig.as_ref()));
        assert!(!verifies(public, b"statement!", sig.as_ref()));
        let mut bad = sig.as_ref().to_vec();
        bad[5] ^= 1;
        assert!(!verifies(public, b"statement", &bad));
        assert!(!verifies(b"not a key", b"statement", sig.as_ref()));
    }
}
