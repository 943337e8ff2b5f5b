//! Operator commands behind `eservices admin …`: they use the same service
//! functions as the HTTP doors, and print plain text for people.

use diesel_async::AsyncConnection;

use crate::{
    domain::EmailAddress,
    error::AppError,
    notify::{outbox::Envelope, queue_email, templates::SmtpTestEmail},
    startup::AppState,
    storage::jobs,
};

/// Queues a test email to `to`; returns the email id.
pub async fn queue_test_email(state: &AppState, to: &str) -> anyhow::Result<uuid::Uuid> {
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
pub async fn job_stats(state: &AppState) -> anyhow::Result<Vec<(String, i64)>> {
    let mut conn = state.db.get().await?;
    Ok(jobs::depth(&mut conn).await?)
}

/// Requeues dead jobs; returns how many.
pub async fn retry_dead(state: &AppState, kind: Option<&str>) -> anyhow::Result<usize> {
    let mut conn = state.db.get().await?;
    Ok(jobs::requeue_dead(&mut conn, kind, state.clock.now()).await?)
}
