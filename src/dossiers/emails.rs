//! The applicant's email at each step they can see (outbox, Vietnamese).

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use crate::infra::Core;
use crate::notify::{outbox::Envelope, queue_email};
use crate::storage::accounts;
use crate::{
    domain::{calendar::city_tz, dossier::Action},
    error::AppResult,
    notify::templates::email_template,
    storage::{catalog::ServiceRow, dossiers::DossierRow},
};

/// A step in a dossier's life, told to its applicant.
#[derive(Debug, Clone)]
pub struct DossierUpdate {
    /// Name to greet.
    pub full_name: String,
    /// The receipt code.
    pub receipt_code: String,
    /// The service.
    pub service_name: String,
    /// What happened (one sentence).
    pub headline: String,
    /// The civil servant's note (reason, what is missing …).
    pub note: Option<String>,
    /// The due date, formatted for people.
    pub due: Option<String>,
    /// Where to follow it.
    pub link: String,
}

email_template!(
    DossierUpdate,
    name = "dossier_update",
    sensitive = false,
    subject = "email/dossier_update/subject.txt",
    text = "email/dossier_update/body.txt",
    html = "email/dossier_update/body.html"
);

pub(super) fn headline(action: Action) -> Option<&'static str> {
    Some(match action {
        Action::Submit => "Hồ sơ của bạn đã được nộp thành công và đang chờ tiếp nhận.",
        Action::Accept => "Hồ sơ của bạn đã được tiếp nhận.",
        Action::Refuse => "Hồ sơ của bạn không được tiếp nhận.",
        Action::RequestSupplement => "Cơ quan giải quyết đề nghị bạn bổ sung hồ sơ.",
        Action::Supplement => "Bạn đã bổ sung hồ sơ; hồ sơ tiếp tục được xử lý.",
        Action::RequestFee => "Cơ quan giải quyết đề nghị bạn nộp phí, lệ phí.",
        Action::ConfirmPayment => "Cơ quan giải quyết đã xác nhận bạn nộp phí, lệ phí.",
        Action::Approve => "Hồ sơ của bạn đã có kết quả.",
        Action::Reject => "Hồ sơ của bạn đã được giải quyết: không chấp thuận.",
        Action::Stop => "Hồ sơ của bạn đã bị dừng xử lý.",
        Action::ReturnResult => "Kết quả giải quyết hồ sơ đã được trả cho bạn.",
        Action::Withdraw => "Bạn đã rút hồ sơ.",
        Action::StartProcessing => return None,
    })
}

/// Queues the applicant's email about `action` (inside the transaction).
pub async fn notify_applicant(
    state: &Core,
    conn: &mut AsyncPgConnection,
    dossier: &DossierRow,
    service: &ServiceRow,
    action: Action,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(headline) = headline(action) else {
        return Ok(());
    };
    let headline = if action == Action::Submit && dossier.status == "fee_requested" {
        "Hồ sơ của bạn đã được nộp; vui lòng nộp phí, lệ phí để hồ sơ được tiếp nhận."
    } else {
        headline
    };
    // A draft withdrawn before filing has nothing to tell.
    let Some(receipt_code) = dossier.receipt_code.clone() else {
        return Ok(());
    };
    let account = applicant_of(conn, dossier).await?;
    let email = DossierUpdate {
        full_name: account.full_name.clone(),
        receipt_code,
        service_name: service.name.clone(),
        headline: headline.to_owned(),
        note: note.map(str::to_owned),
        due: dossier
            .due_at
            .filter(|_| matches!(action, Action::Accept | Action::Supplement))
            .map(|d| {
                d.with_timezone(&city_tz())
                    .format("%H:%M ngày %d/%m/%Y")
                    .to_string()
            }),
        link: format!("{}/ho-so/{}", state.settings.issuer(), dossier.id),
    };
    email_applicant(state, conn, &account, &email, now).await
}

/// Queues the applicant's email that their fee was paid (inside the transaction).
pub async fn notify_fee_paid(
    state: &Core,
    conn: &mut AsyncPgConnection,
    dossier: &DossierRow,
    service: &ServiceRow,
    note: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(receipt_code) = dossier.receipt_code.clone() else {
        return Ok(());
    };
    let account = applicant_of(conn, dossier).await?;
    let email = DossierUpdate {
        full_name: account.full_name.clone(),
        receipt_code,
        service_name: service.name.clone(),
        headline: "Bạn đã nộp phí, lệ phí thành công; biên lai điện tử đã được lưu vào kho dữ liệu của bạn.".into(),
        note: Some(note.to_owned()),
        due: None,
        link: format!("{}/ho-so/{}", state.settings.issuer(), dossier.id),
    };
    email_applicant(state, conn, &account, &email, now).await
}

/// Loads an account for emails.
pub(crate) async fn applicant_of(
    conn: &mut AsyncPgConnection,
    row: &DossierRow,
) -> AppResult<accounts::AccountRow> {
    Ok(accounts::find(conn, row.applicant_id).await?)
}

/// Queues an email to the applicant inside the transaction.
pub(crate) async fn email_applicant<T: crate::notify::EmailTemplate>(
    state: &Core,
    conn: &mut AsyncPgConnection,
    account: &accounts::AccountRow,
    email: &T,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if let Some(to) = crate::identity::verified_email(account) {
        let domain = state.settings.mail_domain();
        queue_email(
            conn,
            now,
            &Envelope {
                to: &to,
                account_id: Some(account.id),
                mail_domain: &domain,
            },
            email,
        )
        .await?;
    }
    Ok(())
}
