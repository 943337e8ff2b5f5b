//! The platform's callback (IPN) and the reconciliation query share one
//! path: a verified report applied to the stored payment under its lock,
//! decided by `domain::payment::decide` against the amount we stored.
//! Duplicates, retries and out-of-order reports change nothing twice.

use diesel_async::AsyncConnection;
use serde::Serialize;

use super::platform::{Platform, Report};
use crate::infra::Core;
use crate::{
    domain::payment::{Decision, PaymentStatus, decide},
    dossiers::fees,
    error::{AppError, AppResult},
    storage::payments as store,
};

/// Our answer to a callback (the platform's convention: a code and a message).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    #[serde(skip)]
    pub status: u16,
    /// `00` recorded (or already recorded), `97` bad checksum, `01` unknown
    /// transaction, `04` wrong amount, `02` malformed.
    pub code: &'static str,
    /// For people reading logs.
    pub message: &'static str,
}

const fn answer(status: u16, code: &'static str, message: &'static str) -> Answer {
    Answer {
        status,
        code,
        message,
    }
}

/// What applying a report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The fee is paid, the dossier moved on.
    Settled,
    /// Recorded as failed, cancelled or to refund.
    Closed,
    /// Nothing new.
    Unchanged,
    /// The amount differs from ours: refused.
    WrongAmount,
    /// No such payment of ours.
    Unknown,
}

/// Applies a verified report to its payment, in one transaction.
pub async fn apply(core: &Core, report: &Report) -> AppResult<Applied> {
    let now = core.clock.now();
    let mut conn = core.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let Some(payment) = store::by_transaction_for_update(c, &report.transaction_id).await? else {
            return Ok(Applied::Unknown);
        };
        let fee = store::fee_for_update(c, payment.fee_request_id)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("fee request vanished")))?;
        let platform_id = Some(report.platform_transaction_id.as_str());
        match decide(
            payment.status,
            payment.amount_vnd,
            report.status,
            report.amount,
            fee.paid_at.is_none(),
        ) {
            Decision::Settle => {
                fees::settle_paid(core, c, &fee, &payment, platform_id, now).await?;
                Ok(Applied::Settled)
            }
            Decision::RefundDue => {
                tracing::error!(alert = true, transaction = %payment.transaction_id, dossier = %payment.dossier_id,
                    "a payment was taken for a fee already paid: refund it");
                store::settle(c, payment.id, PaymentStatus::RefundDue, now, platform_id, None).await?;
                Ok(Applied::Closed)
            }
            Decision::Close(status) => {
                store::settle(c, payment.id, status, now, platform_id, None).await?;
                Ok(Applied::Closed)
            }
            Decision::Nothing => Ok(Applied::Unchanged),
            Decision::WrongAmount => Ok(Applied::WrongAmount),
        }
    })
    .await
}

/// Handles a callback body: verified under key 2, applied, logged.
pub async fn receive(
    core: &Core,
    platform: &dyn Platform,
    body: &serde_json::Value,
) -> AppResult<Answer> {
    let now = core.clock.now();
    let claimed = body
        .get("transaction_id")
        .and_then(serde_json::Value::as_str)
        .map(|t| t.chars().take(64).collect::<String>());
    let (outcome, reply) = match platform.verify_callback(body) {
        None => {
            tracing::error!(alert = true, transaction = ?claimed,
                "a payment callback failed its checksum (forged or malformed): refused");
            ("forged", answer(400, "97", "invalid checksum"))
        }
        Some(report) => match apply(core, &report).await? {
            Applied::Settled => ("settled", answer(200, "00", "payment recorded")),
            Applied::Closed => ("closed", answer(200, "00", "outcome recorded")),
            Applied::Unchanged => ("duplicate", answer(200, "00", "already recorded")),
            Applied::Unknown => {
                tracing::warn!(transaction = %report.transaction_id, "a payment callback names an unknown transaction");
                ("unknown", answer(400, "01", "unknown transaction"))
            }
            Applied::WrongAmount => {
                tracing::error!(alert = true, transaction = %report.transaction_id, amount = report.amount,
                    "a payment callback reports another amount than the transaction's: refused");
                ("wrong_amount", answer(400, "04", "amount does not match"))
            }
        },
    };
    let mut conn = core.db.get().await?;
    store::record_callback(&mut conn, now, claimed.as_deref(), outcome, reply.message).await?;
    Ok(reply)
}
