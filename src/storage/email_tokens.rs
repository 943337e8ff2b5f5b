//! The `email_tokens` table: single-use tokens sent by email (hashes only).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::email_tokens;

/// A stored token.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = email_tokens)]
pub struct EmailTokenRow {
    /// SHA-256 of the token.
    pub token_hash: Vec<u8>,
    /// The account.
    pub account_id: Uuid,
    /// `verify_email` or `reset_password`.
    pub purpose: String,
    /// The address the token was sent to.
    pub email: String,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// When it was redeemed.
    pub used_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Stores a token.
pub async fn insert(conn: &mut AsyncPgConnection, row: &EmailTokenRow) -> QueryResult<()> {
    diesel::insert_into(email_tokens::table)
        .values(row)
        .execute(conn)
        .await
        .map(drop)
}

/// Redeems a token: marks it used if it is unused, unexpired and of `purpose`,
/// atomically, so a token works once even under concurrent redemption.
pub async fn redeem(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
    purpose: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<EmailTokenRow>> {
    diesel::update(
        email_tokens::table
            .filter(email_tokens::token_hash.eq(token_hash))
            .filter(email_tokens::purpose.eq(purpose))
            .filter(email_tokens::used_at.is_null())
            .filter(email_tokens::expires_at.gt(now)),
    )
    .set(email_tokens::used_at.eq(now))
    .returning(EmailTokenRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// A usable token of `purpose`, without using it up.
pub async fn peek(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
    purpose: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<EmailTokenRow>> {
    email_tokens::table
        .filter(email_tokens::token_hash.eq(token_hash))
        .filter(email_tokens::purpose.eq(purpose))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(now))
        .select(EmailTokenRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Voids an account's unused tokens of `purpose` (a new one supersedes them).
pub async fn void_unused(
    conn: &mut AsyncPgConnection,
    account_id: Uuid,
    purpose: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        email_tokens::table
            .filter(email_tokens::account_id.eq(account_id))
            .filter(email_tokens::purpose.eq(purpose))
            .filter(email_tokens::used_at.is_null()),
    )
    .set(email_tokens::used_at.eq(now))
    .execute(conn)
    .await
}
