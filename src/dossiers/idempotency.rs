//! Idempotency keys: the first answer to a request is stored with its
//! hash in the transaction that produced it and replayed on a retry.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::Code;
use crate::infra::Core;
use crate::{
    domain::AccountId,
    error::{AppError, AppResult},
    storage::dossiers::{self as store, StoredAnswer},
};

pub(super) fn request_hash(parts: &[&str]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    for p in parts {
        hasher.update(p.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize().to_vec()
}

/// An earlier answer to the same request under `key`, to replay; an error
/// when the key was used for another request or is malformed.
pub(super) async fn replayed(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    key: Option<&str>,
    request: &[u8],
) -> AppResult<Option<(u16, Value)>> {
    let Some(key) = key else {
        return Ok(None);
    };
    if key.is_empty() || key.len() > 200 || key.chars().any(char::is_control) {
        return Err(AppError::from(Code::InvalidIdempotencyKey));
    }
    match store::idempotent_answer(conn, account.as_uuid(), key).await? {
        None => Ok(None),
        Some(stored) if stored.request_hash == request => Ok(Some((
            u16::try_from(stored.status).unwrap_or(200),
            stored.response,
        ))),
        Some(_) => Err(AppError::from(Code::IdempotencyKeyReused)),
    }
}

/// Remembers the answer under `key` in the transaction that produced it.
/// A concurrent request with the same key that committed first makes this
/// fail with `idempotency_race`, undoing ours; the caller replays theirs.
pub(super) async fn remember(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    key: Option<&str>,
    request: &[u8],
    answer: &(u16, Value),
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(key) = key else {
        return Ok(());
    };
    let stored = StoredAnswer {
        request_hash: request.to_vec(),
        status: i16::try_from(answer.0).unwrap_or(200),
        response: answer.1.clone(),
    };
    if store::store_answer(conn, account.as_uuid(), key, &stored, now).await? {
        Ok(())
    } else {
        Err(AppError::from(Code::IdempotencyRace))
    }
}

/// The answer of a transaction run under an idempotency key.
pub(super) async fn settle(
    state: &Core,
    account: AccountId,
    key: Option<&str>,
    request: &[u8],
    outcome: AppResult<(u16, Value)>,
) -> AppResult<(u16, Value)> {
    match outcome {
        Err(err) if err.code() == Code::IdempotencyRace => {
            let mut conn = state.db.get().await?;
            replayed(&mut conn, account, key, request)
                .await?
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("idempotent answer vanished")))
        }
        other => other,
    }
}
