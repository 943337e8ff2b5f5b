//! A citizen's passkeys: register (after a recent strong sign-in), list,
//! rename, remove. Every addition and removal is an audit event and a
//! notice to the verified email.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use serde_json::json;

use super::{ceremony, clean_name};
use crate::error::Code;
use crate::identity::Identity;
use crate::infra::Core;
use crate::{
    domain::AccountId,
    error::{AppError, AppResult},
    identity::{ClientInfo, audit, emails},
    notify::{outbox::Envelope, queue_email},
    storage::{
        accounts,
        passkeys::{self as store, Owner, PasskeyRow},
    },
};

/// A passkey as its owner sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PasskeyView {
    /// Id.
    pub id: uuid::Uuid,
    /// The name its owner gave it.
    pub name: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it last signed in.
    pub last_used_at: Option<DateTime<Utc>>,
    /// A synced passkey (copies in a cloud keychain), not bound to one device.
    pub synced: bool,
}

impl From<PasskeyRow> for PasskeyView {
    fn from(r: PasskeyRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            synced: r.synced,
        }
    }
}

/// 404: not one of the owner's passkeys (also another owner's).
pub fn not_found() -> AppError {
    AppError::from(Code::PasskeyNotFound)
}

/// The account's passkeys, newest first.
pub async fn list(state: &Core, account: AccountId) -> AppResult<Vec<PasskeyView>> {
    let mut conn = state.db.get().await?;
    Ok(store::list(&mut conn, Owner::Account(account.as_uuid()))
        .await?
        .into_iter()
        .map(PasskeyView::from)
        .collect())
}

/// Starts registering a passkey for the account (the caller checked the
/// recent strong sign-in).
pub async fn start(
    state: &Identity,
    account: AccountId,
    binding: &str,
) -> AppResult<(String, serde_json::Value)> {
    let mut conn = state.db.get().await?;
    let row = accounts::find(&mut conn, account.as_uuid()).await?;
    drop(conn);
    let user_name = crate::domain::proofing::mask_national_id(&row.national_id);
    ceremony::start_registration(
        state,
        Owner::Account(account.as_uuid()),
        &format!("{} ({user_name})", row.full_name),
        &row.full_name,
        binding,
    )
    .await
}

/// Finishes registering: stored, recorded, announced.
pub async fn finish(
    state: &Identity,
    account: AccountId,
    binding: &str,
    challenge_id: &str,
    name: &str,
    credential: &serde_json::Value,
    client: &ClientInfo,
) -> AppResult<PasskeyView> {
    let name = clean_name(name)?;
    let now = state.clock.now();
    let owner = Owner::Account(account.as_uuid());
    let ip = client.ip.clone().unwrap_or_else(|| "-".into());
    let row =
        ceremony::finish_registration(state, owner, binding, challenge_id, &name, credential, &ip)
            .await?;
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        ceremony::store_new(c, owner, &row).await?;
        announce(c, state, account, &row, true, client, now).await
    })
    .await?;
    Ok(row.into())
}

/// Renames one of the account's passkeys.
pub async fn rename(
    state: &Core,
    account: AccountId,
    id: uuid::Uuid,
    name: &str,
) -> AppResult<PasskeyView> {
    let name = clean_name(name)?;
    let mut conn = state.db.get().await?;
    store::rename(&mut conn, Owner::Account(account.as_uuid()), id, &name)
        .await?
        .map(PasskeyView::from)
        .ok_or_else(not_found)
}

/// Removes one of the account's passkeys (the caller checked the recent
/// strong sign-in); another account's id is 404.
pub async fn remove(
    state: &Core,
    account: AccountId,
    id: uuid::Uuid,
    client: &ClientInfo,
) -> AppResult<()> {
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let row = store::delete(c, Owner::Account(account.as_uuid()), id)
            .await?
            .ok_or_else(not_found)?;
        announce(c, state, account, &row, false, client, now).await
    })
    .await
}

/// In the change's transaction: the audit event and the notice to the
/// verified email.
async fn announce(
    c: &mut AsyncPgConnection,
    state: &Core,
    account: AccountId,
    row: &PasskeyRow,
    added: bool,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let kind = if added {
        "passkey_added"
    } else {
        "passkey_removed"
    };
    audit::record(
        c,
        account,
        kind,
        client,
        json!({ "passkey_id": row.id, "name": row.name, "synced": row.synced }),
        now,
    )
    .await?;
    let holder = accounts::find(c, account.as_uuid()).await?;
    if let Some(email) = crate::identity::verified_email(&holder) {
        let domain = state.settings.mail_domain();
        queue_email(
            c,
            now,
            &Envelope {
                to: &email,
                account_id: Some(holder.id),
                mail_domain: &domain,
            },
            &emails::PasskeyChanged {
                full_name: holder.full_name.clone(),
                added,
                name: row.name.clone(),
                at: emails::vietnam_time(now),
                device: client
                    .user_agent
                    .clone()
                    .unwrap_or_else(|| "không rõ".into()),
                ip: client.ip.clone().unwrap_or_else(|| "không rõ".into()),
            },
        )
        .await?;
    }
    Ok(())
}
