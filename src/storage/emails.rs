//! The `emails` table: rendered outgoing messages and their delivery status.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::emails;
use crate::domain::outbox::DeliveryStatus;

/// A message to store.
#[derive(Debug, Insertable)]
#[diesel(table_name = emails)]
pub struct NewEmail<'a> {
    /// Its id (also in the Message-ID).
    pub id: Uuid,
    /// The RFC 5322 Message-ID, stable across retries.
    pub message_id: &'a str,
    /// The address it goes to.
    pub recipient: &'a str,
    /// The account it concerns.
    pub account_id: Option<Uuid>,
    /// The template (event) name.
    pub template: &'a str,
    /// The subject line.
    pub subject: &'a str,
    /// The plain-text body.
    pub body_text: &'a str,
    /// The HTML body.
    pub body_html: &'a str,
    /// Whether the bodies carry secrets and are erased after delivery.
    pub sensitive: bool,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
}

/// A stored message.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = emails)]
pub struct EmailRow {
    /// Its id.
    pub id: Uuid,
    /// Its Message-ID.
    pub message_id: String,
    /// The address it goes to.
    pub recipient: String,
    /// The account it concerns.
    pub account_id: Option<Uuid>,
    /// The template (event) name.
    pub template: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body (erased after delivery when sensitive).
    pub body_text: Option<String>,
    /// The HTML body (erased after delivery when sensitive).
    pub body_html: Option<String>,
    /// Whether the bodies carry secrets.
    pub sensitive: bool,
    /// Delivered or not.
    #[diesel(deserialize_as = String)]
    pub status: DeliveryStatus,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// The last SMTP response or error.
    pub last_response: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it was delivered.
    pub sent_at: Option<DateTime<Utc>>,
}

/// Stores a message.
pub async fn insert(conn: &mut AsyncPgConnection, email: &NewEmail<'_>) -> QueryResult<()> {
    diesel::insert_into(emails::table)
        .values(email)
        .execute(conn)
        .await
        .map(drop)
}

/// Loads a message.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<EmailRow> {
    emails::table
        .find(id)
        .select(EmailRow::as_select())
        .first(conn)
        .await
}

/// Records a delivery; erases the bodies of sensitive messages.
pub async fn mark_sent(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
    response: &str,
) -> QueryResult<()> {
    diesel::update(emails::table.find(id))
        .set((
            emails::status.eq(DeliveryStatus::Sent.as_str()),
            emails::attempts.eq(emails::attempts + 1),
            emails::last_response.eq(response),
            emails::sent_at.eq(now),
        ))
        .execute(conn)
        .await?;
    diesel::update(emails::table.find(id).filter(emails::sensitive))
        .set((
            emails::body_text.eq(None::<String>),
            emails::body_html.eq(None::<String>),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Records a failed attempt: `retrying` while attempts remain, `failed` after the last.
pub async fn mark_attempt_failed(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    response: &str,
    final_attempt: bool,
) -> QueryResult<()> {
    diesel::update(emails::table.find(id))
        .set((
            emails::status.eq(if final_attempt {
                DeliveryStatus::Failed
            } else {
                DeliveryStatus::Retrying
            }
            .as_str()),
            emails::attempts.eq(emails::attempts + 1),
            emails::last_response.eq(response),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// What an account was sent: (id, template, subject, status, attempts, created, sent),
/// newest first, after the keyset `before`.
#[allow(clippy::type_complexity)]
pub async fn of_account(
    conn: &mut AsyncPgConnection,
    account: Uuid,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<
    Vec<(
        Uuid,
        String,
        String,
        String,
        i32,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
    )>,
> {
    let mut query = emails::table
        .filter(emails::account_id.eq(account))
        .order((emails::created_at.desc(), emails::id.desc()))
        .select((
            emails::id,
            emails::template,
            emails::subject,
            emails::status,
            emails::attempts,
            emails::created_at,
            emails::sent_at,
        ))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = before {
        query = query.filter(
            emails::created_at
                .lt(at)
                .or(emails::created_at.eq(at).and(emails::id.lt(id))),
        );
    }
    query.load(conn).await
}

/// The keyset position of one of an account's messages.
pub async fn position(
    conn: &mut AsyncPgConnection,
    account: Uuid,
    id: Uuid,
) -> QueryResult<Option<(DateTime<Utc>, Uuid)>> {
    emails::table
        .filter(emails::id.eq(id))
        .filter(emails::account_id.eq(account))
        .select((emails::created_at, emails::id))
        .first(conn)
        .await
        .optional()
}

/// An email as a list shows it.
#[derive(Debug, Clone, Queryable)]
pub struct SentEmail {
    /// The subject line.
    pub subject: String,
    /// Delivered or not.
    #[diesel(deserialize_as = String)]
    pub status: DeliveryStatus,
    /// Queued.
    pub created_at: DateTime<Utc>,
    /// Delivered.
    pub sent_at: Option<DateTime<Utc>>,
}

/// The emails about one dossier (its receipt code in the subject) sent to
/// its applicant, oldest first.
pub async fn about_dossier(
    conn: &mut AsyncPgConnection,
    account: Uuid,
    receipt_code: &str,
) -> QueryResult<Vec<SentEmail>> {
    emails::table
        .filter(emails::account_id.eq(account))
        .filter(emails::template.like("dossier_%"))
        .filter(emails::subject.like(format!("%{receipt_code}%")))
        .select((
            emails::subject,
            emails::status,
            emails::created_at,
            emails::sent_at,
        ))
        .order(emails::created_at.asc())
        .load(conn)
        .await
}
