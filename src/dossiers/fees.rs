//! A dossier's fees: asked for at filing or on a processor's request (as
//! the service's catalog entry says), paid online (the payments module
//! settles through [`settle_paid`]) or at the counter (`confirm_payment`),
//! each payment with an electronic receipt signed by the agency in the
//! payer's vault. Paying moves the dossier on in the same transaction:
//! back to processing, or on to intake when the fee was due at filing.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::{emails, log::log, results::owner_of};
use crate::infra::Core;
use crate::{
    domain::{
        calendar::city_tz,
        dossier::{Action, Status},
        payment::{Channel, FeeStage, PaymentStatus},
        vault::DocumentStatus,
    },
    error::{AppError, AppResult},
    storage::{
        catalog::ServiceRow,
        dossiers::{self as store, DossierChange, DossierRow},
        payments::{self as pay_store, FeeRequestRow, PaymentRow},
        vault as vault_store,
    },
    vault::documents,
};

/// The fee a service asks at `stage`, if it has a positive one.
fn fee_at(service: &ServiceRow, stage: FeeStage) -> Option<i64> {
    service
        .fee_vnd
        .filter(|a| *a > 0)
        .filter(|_| service.fee_stage == stage)
}

/// The status an action leads to once fees are considered: filing a
/// dossier whose service asks its fee at filing waits for the payment; a
/// fee paid before intake goes on to intake, not to processing.
pub(super) fn target(action: Action, to: Status, row: &DossierRow, service: &ServiceRow) -> Status {
    match action {
        Action::Submit if fee_at(service, FeeStage::Filing).is_some() => Status::FeeRequested,
        Action::ConfirmPayment if row.accepted_at.is_none() => Status::Submitted,
        _ => to,
    }
}

/// Records the fee asked of the dossier (at filing, or on a processor's
/// request when the service's fee is asked then); none when the catalog
/// knows no amount (the fee can then be paid at the counter only).
pub(super) async fn request(
    c: &mut AsyncPgConnection,
    row: &DossierRow,
    service: &ServiceRow,
    stage: FeeStage,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(amount) = service.fee_vnd.filter(|a| *a > 0) else {
        return Ok(());
    };
    if pay_store::open_fee_for_update(c, row.id).await?.is_some() {
        return Ok(());
    }
    pay_store::insert_fee_request(
        c,
        &FeeRequestRow {
            id: Uuid::now_v7(),
            dossier_id: row.id,
            amount_vnd: amount,
            stage,
            description: format!("Phí, lệ phí: {}", service.name),
            requested_at: now,
            paid_at: None,
        },
    )
    .await?;
    Ok(())
}

/// A fee paid at the counter, confirmed by a receiver: recorded as a
/// payment with its receipt (when the fee request has an amount).
pub(super) async fn paid_at_counter(
    state: &Core,
    c: &mut AsyncPgConnection,
    row: &DossierRow,
    service: &ServiceRow,
    receiver: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(fee) = pay_store::open_fee_for_update(c, row.id).await? else {
        return Ok(());
    };
    if let Some(pending) = pay_store::pending_for_fee(c, fee.id).await? {
        // An online payment still open: it is superseded (a later "paid"
        // callback for it becomes a refund, never a second payment).
        pay_store::settle(c, pending.id, PaymentStatus::Cancelled, now, None, None).await?;
    }
    let payment = PaymentRow {
        id: Uuid::now_v7(),
        fee_request_id: fee.id,
        dossier_id: row.id,
        payer_id: row.applicant_id,
        amount_vnd: fee.amount_vnd,
        channel: Channel::Counter,
        status: PaymentStatus::Paid,
        transaction_id: format!("QUAY-{}", Uuid::now_v7().simple()),
        platform_transaction_id: None,
        payment_url: None,
        created_at: now,
        expires_at: now,
        settled_at: Some(now),
        receipt_document_id: None,
        recorded_by: Some(receiver),
    };
    pay_store::insert_payment(c, &payment).await?;
    pay_store::mark_fee_paid(c, fee.id, now).await?;
    let receipt = issue_receipt(state, c, row, service, &fee, &payment, now).await?;
    pay_store::settle(c, payment.id, PaymentStatus::Paid, now, None, Some(receipt))
        .await
        .map_err(AppError::from)
}

/// A payment the platform reports paid, for its (open, locked) fee
/// request: the fee is settled, the receipt issued, the dossier moved on
/// (logged, the applicant emailed), all in the caller's transaction.
pub async fn settle_paid(
    state: &Core,
    c: &mut AsyncPgConnection,
    fee: &FeeRequestRow,
    payment: &PaymentRow,
    platform_transaction_id: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let row = store::find_for_update(c, fee.dossier_id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("dossier of a fee vanished")))?;
    let service = crate::storage::catalog::service(c, &row.service_code)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("service vanished")))?;
    let from = Status::parse(&row.status)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown status {}", row.status)))?;
    if from != Status::FeeRequested {
        // Paid after the dossier left the fee step (withdrawn, refused or
        // stopped meanwhile): the money was taken for nothing; to refund.
        tracing::error!(alert = true, transaction = %payment.transaction_id, dossier = %row.id,
            status = %row.status, "a fee was paid for a dossier no longer waiting for it: refund it");
        return pay_store::settle(
            c,
            payment.id,
            PaymentStatus::RefundDue,
            now,
            platform_transaction_id,
            None,
        )
        .await
        .map_err(AppError::from);
    }
    pay_store::mark_fee_paid(c, fee.id, now).await?;
    let receipt = issue_receipt(state, c, &row, &service, fee, payment, now).await?;
    pay_store::settle(
        c,
        payment.id,
        PaymentStatus::Paid,
        now,
        platform_transaction_id,
        Some(receipt),
    )
    .await?;
    let to = if row.accepted_at.is_some() {
        Status::Processing
    } else {
        Status::Submitted
    };
    let change = DossierChange {
        status: Some(to.as_str().into()),
        status_code: Some(to.national_code()),
        ..DossierChange::default()
    };
    let updated = store::update(c, row.id, &change, now).await?;
    let note = format!(
        "Đã nộp {} trực tuyến (mã giao dịch {}).",
        vnd(payment.amount_vnd),
        payment.transaction_id
    );
    log(
        c,
        row.id,
        now,
        "system",
        None,
        "fee_paid",
        Some(from),
        Some(to),
        Some(&note),
        true,
    )
    .await?;
    emails::notify_fee_paid(state, c, &updated, &service, &note, now).await
}

/// An amount as Vietnamese write it: `150.000 đ`.
pub fn vnd(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    if amount < 0 {
        out.insert(0, '-');
    }
    format!("{out} đ")
}

/// The electronic receipt (biên lai điện tử) of `payment`, in the payer's
/// vault, signed by the dossier's agency; returns its document id.
async fn issue_receipt(
    state: &Core,
    c: &mut AsyncPgConnection,
    row: &DossierRow,
    service: &ServiceRow,
    fee: &FeeRequestRow,
    payment: &PaymentRow,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let payer = emails::applicant_of(c, row).await?;
    let receipt_code = row.receipt_code.clone().unwrap_or_default();
    let body = serde_json::json!({
        "loai": "Biên lai điện tử thu phí, lệ phí",
        "so_bien_lai": payment.transaction_id,
        "ma_ho_so": receipt_code,
        "thu_tuc": service.name,
        "co_quan_thu": row.agency_code,
        "nguoi_nop": payer.full_name,
        "noi_dung": fee.description,
        "so_tien": payment.amount_vnd,
        "so_tien_chu": vnd(payment.amount_vnd),
        "hinh_thuc": match payment.channel {
            Channel::Online => "Trực tuyến qua Nền tảng thanh toán",
            Channel::Counter => "Nộp tại Bộ phận một cửa",
        },
        "thoi_diem": now.with_timezone(&city_tz()).format("%H:%M ngày %d/%m/%Y").to_string(),
    });
    let bytes = serde_json::to_vec_pretty(&body).map_err(AppError::internal)?;
    let id = Uuid::now_v7();
    let owner = owner_of(row);
    let (data_key, sha256) = documents::put(state, id, owner, &bytes).await?;
    let (account_id, business_id) = owner.columns();
    let doc = vault_store::DocumentRow {
        id,
        account_id,
        business_id,
        document_type: "BIEN_LAI_PHI".into(),
        satisfies: Vec::new(),
        title: format!("Biên lai điện tử — hồ sơ {receipt_code}"),
        file_name: format!("bien-lai-{}.json", payment.transaction_id),
        content_type: "application/json".into(),
        size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        sha256,
        data_key,
        status: DocumentStatus::Staged,
        issuer_agency_code: None,
        source_dossier_id: None,
        receipt_code: None,
        issued_at: None,
        valid_until: None,
        signing_key_id: None,
        signature: None,
        created_at: now,
    };
    vault_store::insert_document(c, &doc).await?;
    documents::issue(
        state,
        c,
        &doc,
        &row.agency_code,
        row.receipt_code.as_deref(),
        None,
        now,
    )
    .await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::vnd;

    #[test]
    fn amounts_are_written_the_vietnamese_way() {
        assert_eq!(vnd(150_000), "150.000 đ");
        assert_eq!(vnd(1_000_000), "1.000.000 đ");
        assert_eq!(vnd(500), "500 đ");
    }
}
