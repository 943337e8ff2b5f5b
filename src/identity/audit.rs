//! Security events of an account (sign-ins, changes), which its owner can list.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::{domain::AccountId, error::AppResult, identity::ClientInfo, storage::accounts};

/// Records an event about `account`.
pub async fn record(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    kind: &str,
    client: &ClientInfo,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    accounts::insert_event(
        conn,
        &accounts::AuthEventRow {
            id: Uuid::now_v7(),
            account_id: account.as_uuid(),
            kind: kind.to_owned(),
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
            detail,
            created_at: now,
        },
    )
    .await?;
    Ok(())
}
