//! Operator commands behind `eservices admin …`: they use the same service
//! functions as the HTTP doors, and print plain text for people.

use diesel_async::AsyncConnection;

use crate::identity::Identity;
use crate::infra::Core;
use crate::{
    domain::{EmailAddress, outbox::JobState},
    error::AppError,
    notify::{outbox::Envelope, queue_email, templates::SmtpTestEmail},
    storage::jobs,
};

/// Queues a test email to `to`; returns the email id.
pub async fn queue_test_email(state: &Core, to: &str) -> anyhow::Result<uuid::Uuid> {
    let to = EmailAddress::parse(to).map_err(|e| anyhow::anyhow!("--to: {e}"))?;
    let now = state.clock.now();
    let domain = state.settings.mail_domain();
    let email = SmtpTestEmail {
        requested_by: "eservices admin mail test".into(),
        public_url: state.settings.issuer(),
    };
    let mut conn = state.db.get().await?;
    let id = conn
        .transaction::<_, AppError, _>(async |c| {
            let envelope = Envelope {
                to: &to,
                account_id: None,
                mail_domain: &domain,
            };
            queue_email(c, now, &envelope, &email).await
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(id)
}

/// Jobs per state (queued, running, dead).
pub async fn job_stats(state: &Core) -> anyhow::Result<Vec<(JobState, i64)>> {
    let mut conn = state.db.get().await?;
    Ok(jobs::depth(&mut conn).await?)
}

/// Requeues dead jobs; returns how many.
pub async fn retry_dead(state: &Core, kind: Option<&str>) -> anyhow::Result<usize> {
    let mut conn = state.db.get().await?;
    Ok(jobs::requeue_dead(&mut conn, kind, state.clock.now()).await?)
}

/// What `admin account lock|unlock` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountLockOutcome {
    /// The account changed state.
    Changed,
    /// It already was in that state (a lock still ends every session).
    Unchanged,
}

/// Locks (`lock` = true) or reopens the citizen account of `national_id`
/// for the support desk. A lock disables the account, revokes its refresh
/// tokens in the same transaction and ends its sessions.
pub async fn set_account_lock(
    state: &Identity,
    national_id: &str,
    lock: bool,
) -> anyhow::Result<AccountLockOutcome> {
    use crate::identity::account_changes;
    let id = crate::domain::national_id::NationalId::parse(national_id)
        .map_err(|e| anyhow::anyhow!("--national-id: {e}"))?;
    let mut conn = state.db.get().await?;
    let account = crate::storage::accounts::find_by_national_id(&mut conn, id.as_str())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account with national ID {}", id.as_str()))?;
    drop(conn);
    let account = crate::domain::AccountId::from(account.id);
    let client = crate::identity::ClientInfo {
        ip: None,
        user_agent: Some("eservices admin account".into()),
    };
    let changed = if lock {
        account_changes::lock(state, account, account_changes::LockedBy::Support, &client).await
    } else {
        account_changes::unlock(state, account, &client).await
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(if changed {
        AccountLockOutcome::Changed
    } else {
        AccountLockOutcome::Unchanged
    })
}
