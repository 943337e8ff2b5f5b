//! Fees paid online through the payment platform: a payment per open fee
//! request (one pending at a time, created idempotently at the platform
//! under our transaction id), the platform's callback (IPN) checked under
//! key 2 and **against the amount we stored**, reconciliation of what stays
//! pending, and the dossier moved on with its receipt in the same
//! transaction (`dossiers::fees::settle_paid`).

pub mod callback;
pub mod jobs;
pub mod platform;

use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::Code;
use crate::infra::Core;
use crate::{
    domain::{
        AccountId,
        dossier::Status,
        payment::{Channel, PaymentStatus, platform_time},
    },
    dossiers::errors::not_found,
    error::{AppError, AppResult},
    storage::{
        dossiers::{self as dossier_store, DossierRow},
        payments::{self as store, FeeRequestRow, PaymentRow},
    },
};
use platform::{Bill, FeeLine, NewTransaction, Payer, Platform};

/// A payment as the applicant sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentView {
    /// Id.
    pub id: Uuid,
    /// `pending`, `paid`, `failed`, `cancelled`, `expired`, `refund_due`.
    pub status: String,
    /// The status in Vietnamese.
    pub status_label: String,
    /// Amount in VND.
    pub amount_vnd: i64,
    /// `online` or `counter`.
    pub channel: String,
    /// Where to pay (pending online payments).
    pub payment_url: Option<String>,
    /// Our transaction id (on the receipt).
    pub transaction_id: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Settled.
    pub settled_at: Option<DateTime<Utc>>,
    /// The electronic receipt in the payer's vault.
    pub receipt_document_id: Option<Uuid>,
    /// Where anyone checks the receipt.
    pub receipt_verify_url: Option<String>,
}

impl PaymentView {
    fn of(core: &Core, row: &PaymentRow) -> Self {
        Self {
            id: row.id,
            status: row.status.as_str().into(),
            status_label: row.status.label().into(),
            amount_vnd: row.amount_vnd,
            channel: row.channel.as_str().into(),
            payment_url: row
                .payment_url
                .clone()
                .filter(|_| row.status == PaymentStatus::Pending),
            transaction_id: row.transaction_id.clone(),
            created_at: row.created_at,
            settled_at: row.settled_at,
            receipt_document_id: row.receipt_document_id,
            receipt_verify_url: row
                .receipt_document_id
                .map(|id| format!("{}/verify/{id}", core.settings.issuer())),
        }
    }
}

/// The applicant's own dossier, locked.
async fn own_dossier(
    c: &mut AsyncPgConnection,
    applicant: AccountId,
    id: Uuid,
) -> AppResult<DossierRow> {
    dossier_store::find_for_update(c, id)
        .await?
        .filter(|r| r.applicant_id == applicant.as_uuid())
        .ok_or_else(not_found)
}

/// The payment to hand the payer: the pending one of the dossier's open
/// fee (to finish), or a new one. `true` when it is new.
async fn pending_or_new(
    core: &Core,
    c: &mut AsyncPgConnection,
    applicant: AccountId,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<(DossierRow, FeeRequestRow, PaymentRow, bool)> {
    let row = own_dossier(c, applicant, id).await?;
    if Status::parse(&row.status) != Some(Status::FeeRequested) {
        return Err(AppError::from(Code::NothingToPay));
    }
    let fee = store::open_fee_for_update(c, id)
        .await?
        .ok_or_else(|| AppError::from(Code::NothingToPay))?;
    if let Some(pending) = store::pending_for_fee(c, fee.id).await? {
        if pending.expires_at > now {
            return Ok((row, fee, pending, false));
        }
        store::settle(c, pending.id, PaymentStatus::Expired, now, None, None).await?;
    }
    let minutes = core
        .settings
        .payment
        .as_ref()
        .map_or(30, |p| p.pending_minutes);
    let payment = PaymentRow {
        id: Uuid::now_v7(),
        fee_request_id: fee.id,
        dossier_id: id,
        payer_id: row.applicant_id,
        amount_vnd: fee.amount_vnd,
        channel: Channel::Online,
        status: PaymentStatus::Pending,
        transaction_id: format!("DVC{}", Uuid::now_v7().simple()).to_uppercase(),
        platform_transaction_id: None,
        payment_url: None,
        created_at: now,
        expires_at: now + Duration::minutes(i64::from(minutes)),
        settled_at: None,
        receipt_document_id: None,
        recorded_by: None,
    };
    store::insert_payment(c, &payment).await?;
    Ok((row, fee, payment, true))
}

/// Starts (or resumes) the online payment of a dossier's open fee:
/// `(201, payment)` when new, `(200, payment)` for the one already pending.
pub async fn create(
    core: &Core,
    platform: &dyn Platform,
    applicant: AccountId,
    id: Uuid,
) -> AppResult<(u16, PaymentView)> {
    let now = core.clock.now();
    let mut conn = core.db.get().await?;
    let (row, fee, payment, new) = conn
        .transaction::<_, AppError, _>(async |c| pending_or_new(core, c, applicant, id, now).await)
        .await?;
    if payment.payment_url.is_some() {
        return Ok((200, PaymentView::of(core, &payment)));
    }
    let tx = transaction_of(core, &mut conn, &row, &fee, &payment).await?;
    drop(conn);
    // The platform creates idempotently by our id: a retry after a timeout
    // finds the same transaction.
    let created = platform.create(&tx).await.map_err(|e| {
        tracing::warn!(transaction = %payment.transaction_id, error = %e, "payment platform did not create the transaction");
        AppError::from(Code::PaymentPlatformUnavailable)
    })?;
    let mut conn = core.db.get().await?;
    store::set_created(
        &mut conn,
        payment.id,
        &created.platform_transaction_id,
        &created.payment_url,
    )
    .await?;
    let stored = PaymentRow {
        platform_transaction_id: Some(created.platform_transaction_id),
        payment_url: Some(created.payment_url),
        ..payment
    };
    Ok((if new { 201 } else { 200 }, PaymentView::of(core, &stored)))
}

/// The transaction to create for `payment`, with its bill.
async fn transaction_of(
    core: &Core,
    conn: &mut AsyncPgConnection,
    row: &DossierRow,
    fee: &FeeRequestRow,
    payment: &PaymentRow,
) -> AppResult<NewTransaction> {
    let payer = crate::dossiers::emails::applicant_of(conn, row).await?;
    let procedure_code = crate::storage::catalog::service(conn, &row.service_code)
        .await?
        .and_then(|s| s.national_code)
        .unwrap_or_default();
    let issuer = core.settings.issuer();
    Ok(NewTransaction {
        transaction_id: payment.transaction_id.clone(),
        amount: payment.amount_vnd,
        description: fee.description.clone(),
        return_url: format!("{issuer}/ho-so/{}", row.id),
        ipn_url: format!("{issuer}/api/v1/payments/callback"),
        created_at: platform_time(payment.created_at),
        bill: Bill {
            service_code: row.service_code.clone(),
            procedure_code,
            agency_code: row.agency_code.clone(),
            dossier_number: row.receipt_code.clone().unwrap_or_default(),
            payer: Payer {
                name: payer.full_name,
                id_number: payer.national_id,
            },
            fee_lines: vec![FeeLine {
                name: fee.description.clone(),
                amount: fee.amount_vnd,
            }],
        },
    })
}

/// The payments of the applicant's dossier, oldest first.
pub async fn list(core: &Core, applicant: AccountId, id: Uuid) -> AppResult<Vec<PaymentView>> {
    let mut conn = core.db.get().await?;
    dossier_store::find(&mut conn, id)
        .await?
        .filter(|r| r.applicant_id == applicant.as_uuid())
        .ok_or_else(not_found)?;
    drop(conn);
    of_dossier(core, id).await
}

/// A dossier's payments for the back office (its agency checked by the caller).
pub async fn of_dossier(core: &Core, id: Uuid) -> AppResult<Vec<PaymentView>> {
    let mut conn = core.db.get().await?;
    Ok(store::of_dossier(&mut conn, id)
        .await?
        .iter()
        .map(|p| PaymentView::of(core, p))
        .collect())
}

/// A payment problem as the back office lists it.
#[derive(Debug, Clone)]
pub struct Alert {
    /// When.
    pub at: DateTime<Utc>,
    /// What, in Vietnamese.
    pub what: &'static str,
    /// The transaction named.
    pub transaction_id: String,
    /// Its dossier, when one of ours: id and receipt code.
    pub dossier: Option<(Uuid, String)>,
    /// That dossier's agency.
    pub agency_code: Option<String>,
}

/// The latest payment problems a civil servant must see: their agency's
/// (receivers and agency admins), or the whole city's (the city's admins).
pub async fn alerts(
    core: &Core,
    staff: &crate::identity::staff::StaffSession,
) -> AppResult<Vec<Alert>> {
    use crate::domain::staff::StaffRole;
    if !(staff.has(StaffRole::Receiver) || staff.has(StaffRole::AgencyAdmin)) {
        return Err(AppError::from(Code::RoleNotAllowed)
            .with_detail("Chỉ cán bộ tiếp nhận và quản trị đơn vị xem được cảnh báo thanh toán."));
    }
    let city = crate::dossiers::stats::sees_city(staff);
    let mut conn = core.db.get().await?;
    let rows = store::alerts(
        &mut conn,
        (!city).then_some(staff.agency_code.as_str()),
        100,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Alert {
            at: r.at,
            what: match r.kind.as_str() {
                "refund_due" => "Đã thu nhưng cần hoàn tiền (khoản phí đã được nộp hoặc hồ sơ không còn chờ nộp phí)",
                "wrong_amount" => "Thông báo thanh toán sai số tiền: đã từ chối",
                _ => "Thông báo thanh toán sai chữ ký (giả mạo hoặc hỏng): đã từ chối",
            },
            transaction_id: r.transaction_id.unwrap_or_default(),
            dossier: r.dossier_id.zip(r.receipt_code),
            agency_code: r.agency_code,
        })
        .collect())
}
