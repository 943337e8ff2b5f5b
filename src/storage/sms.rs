//! The `sms_messages` and `phone_verifications` tables.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{phone_verifications, sms_messages};
use crate::domain::outbox::DeliveryStatus;

/// A stored SMS.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sms_messages)]
pub struct SmsRow {
    /// Id (also sent to the gateway to deduplicate retries).
    pub id: Uuid,
    /// E.164 number.
    pub recipient: String,
    /// The account it concerns.
    pub account_id: Option<Uuid>,
    /// The template (event) name.
    pub template: String,
    /// Text (erased after delivery when sensitive).
    pub body: Option<String>,
    /// Whether it carries a secret.
    pub sensitive: bool,
    /// Delivered or not.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: DeliveryStatus,
    /// Delivery attempts.
    pub attempts: i32,
    /// Last gateway answer.
    pub last_response: Option<String>,
    /// Queued.
    pub created_at: DateTime<Utc>,
    /// Delivered.
    pub sent_at: Option<DateTime<Utc>>,
}

/// Stores a message.
pub async fn insert(conn: &mut AsyncPgConnection, row: &SmsRow) -> QueryResult<()> {
    diesel::insert_into(sms_messages::table)
        .values(row.clone())
        .execute(conn)
        .await
        .map(drop)
}

/// Loads a message.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<SmsRow> {
    sms_messages::table
        .find(id)
        .select(SmsRow::as_select())
        .first(conn)
        .await
}

/// Records a delivery; erases the body of sensitive messages.
pub async fn mark_sent(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
    response: &str,
) -> QueryResult<()> {
    diesel::update(sms_messages::table.find(id))
        .set((
            sms_messages::status.eq(DeliveryStatus::Sent.as_str()),
            sms_messages::attempts.eq(sms_messages::attempts + 1),
            sms_messages::last_response.eq(response),
            sms_messages::sent_at.eq(now),
        ))
        .execute(conn)
        .await?;
    diesel::update(sms_messages::table.find(id).filter(sms_messages::sensitive))
        .set(sms_messages::body.eq(None::<String>))
        .execute(conn)
        .await
        .map(drop)
}

/// Records a failed attempt.
pub async fn mark_attempt_failed(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    response: &str,
    final_attempt: bool,
) -> QueryResult<()> {
    diesel::update(sms_messages::table.find(id))
        .set((
            sms_messages::status.eq(if final_attempt {
                DeliveryStatus::Failed
            } else {
                DeliveryStatus::Retrying
            }
            .as_str()),
            sms_messages::attempts.eq(sms_messages::attempts + 1),
            sms_messages::last_response.eq(response),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// A pending phone verification.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = phone_verifications)]
pub struct PhoneVerificationRow {
    /// The account.
    pub account_id: Uuid,
    /// The number being verified (E.164).
    pub phone: String,
    /// SHA-256 of the code.
    pub code_hash: Vec<u8>,
    /// Wrong codes entered so far.
    pub attempts: i32,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// Started.
    pub created_at: DateTime<Utc>,
}

/// Starts (or restarts) an account's phone verification.
pub async fn put_verification(
    conn: &mut AsyncPgConnection,
    row: &PhoneVerificationRow,
) -> QueryResult<()> {
    diesel::insert_into(phone_verifications::table)
        .values(row)
        .on_conflict(phone_verifications::account_id)
        .do_update()
        .set((
            phone_verifications::phone.eq(&row.phone),
            phone_verifications::code_hash.eq(&row.code_hash),
            phone_verifications::attempts.eq(0),
            phone_verifications::expires_at.eq(row.expires_at),
            phone_verifications::created_at.eq(row.created_at),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The account's pending verification, locked for this transaction.
pub async fn verification_for_update(
    conn: &mut AsyncPgConnection,
    account_id: Uuid,
) -> QueryResult<Option<PhoneVerificationRow>> {
    phone_verifications::table
        .find(account_id)
        .select(PhoneVerificationRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Counts a wrong code.
pub async fn count_wrong_code(conn: &mut AsyncPgConnection, account_id: Uuid) -> QueryResult<()> {
    diesel::update(phone_verifications::table.find(account_id))
        .set(phone_verifications::attempts.eq(phone_verifications::attempts + 1))
        .execute(conn)
        .await
        .map(drop)
}

/// Ends a verification (used or abandoned).
pub async fn delete_verification(
    conn: &mut AsyncPgConnection,
    account_id: Uuid,
) -> QueryResult<()> {
    diesel::delete(phone_verifications::table.find(account_id))
        .execute(conn)
        .await
        .map(drop)
}
