//! What we sent a person, with its delivery status (`GET /api/v1/notifications`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::infra::Core;
use crate::{
    domain::AccountId,
    error::{AppError, AppResult},
    storage::emails,
};

/// One message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Notification {
    /// Id.
    pub id: Uuid,
    /// `email`.
    pub channel: &'static str,
    /// The event (`dossier_update`, `verify_email` …).
    pub event: String,
    /// The subject.
    pub subject: String,
    /// `queued`, `retrying`, `sent` or `failed`.
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// Queued.
    pub created_at: DateTime<Utc>,
    /// Delivered.
    pub sent_at: Option<DateTime<Utc>>,
}

/// The account's messages, newest first (keyset: the last id as `before`).
pub async fn list(
    state: &Core,
    account: AccountId,
    before: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<Notification>> {
    if !(1..=100).contains(&limit) {
        return Err(AppError::bad_request("invalid_page").with_detail("limit từ 1 đến 100."));
    }
    let mut conn = state.db.get().await?;
    let cursor = match before {
        Some(id) => Some(
            emails::position(&mut conn, account.as_uuid(), id)
                .await?
                .ok_or_else(|| {
                    AppError::bad_request("invalid_cursor")
                        .with_detail("Vị trí trang không hợp lệ.")
                })?,
        ),
        None => None,
    };
    Ok(
        emails::of_account(&mut conn, account.as_uuid(), cursor, limit)
            .await?
            .into_iter()
            .map(
                |(id, event, subject, status, attempts, created_at, sent_at)| Notification {
                    id,
                    channel: "email",
                    event,
                    subject,
                    status,
                    attempts,
                    created_at,
                    sent_at,
                },
            )
            .collect(),
    )
}
