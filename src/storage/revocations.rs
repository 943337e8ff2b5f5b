//! The OpenID provider's durable revocation and replay records: revoked
//! access tokens, exchanged authorization codes and accepted
//! `private_key_jwt` assertions. Redis caches some of them; these rows
//! decide, so a Redis flush or outage forgets nothing. Every row expires with
//! what it guards and is purged by the scheduled maintenance.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{oidc_assertion_jtis, oidc_revoked_access_tokens, oidc_used_codes};

/// Records that the access token with this jti (SHA-256) is revoked until
/// `expires_at`, when it would have expired anyway.
pub async fn revoke_access_token(
    conn: &mut AsyncPgConnection,
    jti_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(oidc_revoked_access_tokens::table)
        .values((
            oidc_revoked_access_tokens::jti_hash.eq(jti_hash),
            oidc_revoked_access_tokens::expires_at.eq(expires_at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(drop)
}

/// When the revocation of the access token with this jti (SHA-256) ends, if
/// it is revoked.
pub async fn access_token_revoked_until(
    conn: &mut AsyncPgConnection,
    jti_hash: &[u8],
) -> QueryResult<Option<DateTime<Utc>>> {
    oidc_revoked_access_tokens::table
        .find(jti_hash)
        .select(oidc_revoked_access_tokens::expires_at)
        .first(conn)
        .await
        .optional()
}

/// Every access-token revocation still in force at `now` (SHA-256 of the
/// jti, until when): what the Redis cache is rebuilt from.
pub async fn access_tokens_revoked_at(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> QueryResult<Vec<(Vec<u8>, DateTime<Utc>)>> {
    oidc_revoked_access_tokens::table
        .filter(oidc_revoked_access_tokens::expires_at.gt(now))
        .select((
            oidc_revoked_access_tokens::jti_hash,
            oidc_revoked_access_tokens::expires_at,
        ))
        .load(conn)
        .await
}

/// An exchanged authorization code and what it issued.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = oidc_used_codes)]
pub struct UsedCodeRow {
    /// SHA-256 of the code.
    pub code_hash: Vec<u8>,
    /// The refresh-token family it began (it may hold no token).
    pub family_id: uuid::Uuid,
    /// The account it was issued for.
    pub account_id: uuid::Uuid,
    /// SHA-256 of the jti of the access token it issued.
    pub access_jti_hash: Vec<u8>,
    /// When that access token expires.
    pub access_expires_at: DateTime<Utc>,
    /// Replays are recognised until then.
    pub expires_at: DateTime<Utc>,
}

/// Records an exchanged code (in the transaction that issued its tokens).
pub async fn record_used_code(conn: &mut AsyncPgConnection, row: &UsedCodeRow) -> QueryResult<()> {
    diesel::insert_into(oidc_used_codes::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(drop)
}

/// The record of an exchanged code (SHA-256), while replays are recognised.
pub async fn used_code(
    conn: &mut AsyncPgConnection,
    code_hash: &[u8],
    now: DateTime<Utc>,
) -> QueryResult<Option<UsedCodeRow>> {
    oidc_used_codes::table
        .find(code_hash)
        .filter(oidc_used_codes::expires_at.gt(now))
        .select(UsedCodeRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Remembers an accepted assertion (SHA-256 of client id and jti) until
/// `expires_at`; false if it was already remembered and has not expired (a
/// replay). An expired record is taken over, so the answer does not depend
/// on when the purge last ran.
pub async fn remember_assertion(
    conn: &mut AsyncPgConnection,
    jti_hash: &[u8],
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::sql_query(
        "INSERT INTO oidc_assertion_jtis (jti_hash, expires_at) VALUES ($1, $2) \
         ON CONFLICT (jti_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at \
         WHERE oidc_assertion_jtis.expires_at <= $3",
    )
    .bind::<diesel::sql_types::Bytea, _>(jti_hash)
    .bind::<diesel::sql_types::Timestamptz, _>(expires_at)
    .bind::<diesel::sql_types::Timestamptz, _>(now)
    .execute(conn)
    .await
    .map(|n| n == 1)
}

/// Deletes the records that expired before `now`; returns how many.
pub async fn purge_expired(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    let revoked = diesel::delete(
        oidc_revoked_access_tokens::table.filter(oidc_revoked_access_tokens::expires_at.le(now)),
    )
    .execute(conn)
    .await?;
    let codes = diesel::delete(oidc_used_codes::table.filter(oidc_used_codes::expires_at.le(now)))
        .execute(conn)
        .await?;
    let assertions =
        diesel::delete(oidc_assertion_jtis::table.filter(oidc_assertion_jtis::expires_at.le(now)))
            .execute(conn)
            .await?;
    Ok(revoked + codes + assertions)
}
