//! Undo links of email and phone changes (rows of `email_tokens` with the
//! purposes `undo_email_change` and `undo_phone_change`) and the account
//! lock: what the holder's undo and the support desk change.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{accounts, auth_events, email_tokens};

/// The purpose of the link that undoes an email change.
pub const UNDO_EMAIL: &str = "undo_email_change";
/// The purpose of the link that undoes a phone change.
pub const UNDO_PHONE: &str = "undo_phone_change";

/// An undo link as stored (the token's SHA-256 only).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = email_tokens)]
pub struct UndoTokenRow {
    /// SHA-256 of the token.
    pub token_hash: Vec<u8>,
    /// The account.
    pub account_id: Uuid,
    /// [`UNDO_EMAIL`] or [`UNDO_PHONE`].
    pub purpose: String,
    /// The address the link was sent to; for an email change, the address
    /// the undo restores.
    pub email: String,
    /// For a phone change: the number the undo restores.
    pub previous_phone: Option<String>,
    /// For a phone change: when that number had been verified.
    pub previous_phone_verified_at: Option<DateTime<Utc>>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Stores an undo link.
pub async fn insert_undo_token(
    conn: &mut AsyncPgConnection,
    row: &UndoTokenRow,
) -> QueryResult<()> {
    diesel::insert_into(email_tokens::table)
        .values(row)
        .execute(conn)
        .await
        .map(drop)
}

/// Uses an undo link up, atomically (it works once even when followed twice
/// at the same time): the row if it was unused and unexpired.
pub async fn redeem_undo_token(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> QueryResult<Option<UndoTokenRow>> {
    diesel::update(
        email_tokens::table
            .filter(email_tokens::token_hash.eq(token_hash))
            .filter(email_tokens::purpose.eq_any([UNDO_EMAIL, UNDO_PHONE]))
            .filter(email_tokens::used_at.is_null())
            .filter(email_tokens::expires_at.gt(now)),
    )
    .set(email_tokens::used_at.eq(now))
    .returning(UndoTokenRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Voids the account's unused tokens of these purposes made at or after
/// `since` (all of them with `since` = `None`).
pub async fn void_tokens(
    conn: &mut AsyncPgConnection,
    account: Uuid,
    purposes: &[&str],
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let mut query = diesel::update(email_tokens::table)
        .filter(email_tokens::account_id.eq(account))
        .filter(email_tokens::purpose.eq_any(purposes))
        .filter(email_tokens::used_at.is_null())
        .into_boxed();
    if let Some(since) = since {
        query = query.filter(email_tokens::created_at.ge(since));
    }
    query.set(email_tokens::used_at.eq(now)).execute(conn).await
}

/// Sets the account's status (`active` or `disabled`).
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    account: Uuid,
    status: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(accounts::table.find(account))
        .set((accounts::status.eq(status), accounts::updated_at.eq(now)))
        .execute(conn)
        .await
        .map(drop)
}

/// Puts back a previous verified email address; `false` (and nothing
/// changed) when another account has verified it since.
pub async fn restore_email(
    conn: &mut AsyncPgConnection,
    account: Uuid,
    email: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    if super::accounts::verified_elsewhere(conn, account, email).await? {
        return Ok(false);
    }
    diesel::update(accounts::table.find(account))
        .set((
            accounts::email.eq(email),
            accounts::email_verified_at.eq(now),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// Puts back a previous phone number and when it had been verified.
pub async fn restore_phone(
    conn: &mut AsyncPgConnection,
    account: Uuid,
    phone: Option<&str>,
    verified_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(accounts::table.find(account))
        .set((
            accounts::phone.eq(phone),
            accounts::phone_verified_at.eq(verified_at),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The kind and detail of the account's newest `account_locked` or
/// `account_unlocked` event, if any (the detail says who: `by`).
pub async fn last_lock_event(
    conn: &mut AsyncPgConnection,
    account: Uuid,
) -> QueryResult<Option<(String, serde_json::Value)>> {
    auth_events::table
        .filter(auth_events::account_id.eq(account))
        .filter(auth_events::kind.eq_any(["account_locked", "account_unlocked"]))
        .order((auth_events::created_at.desc(), auth_events::id.desc()))
        .select((auth_events::kind, auth_events::detail))
        .first(conn)
        .await
        .optional()
}
