//! `reconcile_payments` (scheduled): asks the platform about payments still
//! pending a while (a callback lost or late), applies what it says, and
//! expires those left pending too long.

use chrono::Duration;

use super::{
    callback,
    platform::{self, Platform, PlatformError},
};
use crate::infra::Core;
use crate::{
    domain::payment::{PaymentStatus, Reported},
    notify::{Job, JobFailure, JobRegistry},
    storage::payments as store,
};

/// Payments younger than this are left to their callback.
const QUIET: Duration = Duration::minutes(2);
/// At most this many per run.
const BATCH: i64 = 200;

/// Registers the job and queues it at every maintenance round.
pub fn register(registry: &mut JobRegistry, core: &Core) {
    let core = core.clone();
    registry
        .handle(Job::ReconcilePayments.kind(), move |_job| {
            let core = core.clone();
            Box::pin(async move { reconcile(&core).await })
        })
        .schedule(Job::ReconcilePayments);
}

/// One reconciliation round; what it did.
pub async fn reconcile(core: &Core) -> Result<String, JobFailure> {
    let Some(platform) = platform::configured(core) else {
        return Ok("payment platform not configured".into());
    };
    let now = core.clock.now();
    let fail = |e: crate::error::AppError| {
        JobFailure::retry(format!("reconciling payments: {}", e.code()))
    };
    let mut conn = core.db.get().await.map_err(|e| fail(e.into()))?;
    let pending = store::pending_since(&mut conn, now - QUIET, BATCH)
        .await
        .map_err(|e| fail(e.into()))?;
    drop(conn);
    let (mut settled, mut expired, mut unreachable) = (0, 0, 0);
    for transaction in pending {
        match platform.query(&transaction).await {
            Ok(report) if report.status != Reported::Pending => {
                if callback::apply(core, &report).await.map_err(fail)? == callback::Applied::Settled
                {
                    settled += 1;
                }
            }
            Ok(_) | Err(PlatformError::Unknown) => {
                if expire_if_due(core, &transaction).await.map_err(fail)? {
                    expired += 1;
                }
            }
            Err(e) => {
                tracing::warn!(transaction = %transaction, error = %e, "reconciliation: the platform did not answer");
                unreachable += 1;
            }
        }
    }
    Ok(format!(
        "reconciled payments: {settled} paid, {expired} expired, {unreachable} unanswered"
    ))
}

/// Expires a payment still pending past its time; whether it did.
async fn expire_if_due(core: &Core, transaction: &str) -> crate::error::AppResult<bool> {
    use diesel_async::AsyncConnection;
    let now = core.clock.now();
    let mut conn = core.db.get().await?;
    conn.transaction::<_, crate::error::AppError, _>(async |c| {
        match store::by_transaction_for_update(c, transaction).await? {
            Some(p) if p.status == PaymentStatus::Pending && p.expires_at <= now => {
                store::settle(c, p.id, PaymentStatus::Expired, now, None, None).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    })
    .await
}
