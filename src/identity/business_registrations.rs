//! Proof of representation: a receiver at the one-stop desk lists the
//! business registrations waiting for their desk and, after checking the
//! business registration certificate (ĐKKD) and the claimant's ID, confirms
//! or rejects one. The decision, the agency's audit-trail row, the
//! claimant's account event and the email commit in one transaction.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use crate::infra::Core;
use crate::{
    domain::{
        AccountId,
        business::{self, Decision, RegistrationStatus},
        staff::StaffRole,
        staff_event::StaffEvent,
    },
    error::{AppError, AppResult, ErrorKind},
    identity::{
        ClientInfo, audit,
        staff::StaffSession,
        staff_events::{self, Entry},
    },
    notify::{outbox::Envelope, queue_email, templates::email_template},
    storage::{
        accounts,
        businesses::{self, Decided},
        catalog as catalog_store,
    },
};

/// The claimant learns the receiver's decision.
#[derive(Debug, Clone)]
pub struct BusinessRegistrationDecided {
    /// Name to greet.
    pub full_name: String,
    /// The business.
    pub business_name: String,
    /// Its tax code.
    pub tax_code: String,
    /// Confirmed (or rejected).
    pub confirmed: bool,
    /// The receiver's agency, by name.
    pub agency_name: String,
    /// Why it was rejected (the receiver's note); unused when confirmed.
    pub note: String,
    /// When, formatted for people.
    pub at: String,
}

email_template!(
    BusinessRegistrationDecided,
    name = "business_registration_decided",
    sensitive = false,
    subject = "email/business_registration_decided/subject.txt",
    text = "email/business_registration_decided/body.txt",
    html = "email/business_registration_decided/body.html"
);

/// Most rows the pending list shows.
pub const PENDING_PAGE: i64 = 100;

/// A registration waiting for the desk.
#[derive(Debug, Clone)]
pub struct PendingRegistration {
    /// The business's id.
    pub id: Uuid,
    /// Tax code.
    pub tax_code: String,
    /// Registered name.
    pub name: String,
    /// Head office.
    pub address: String,
    /// The claimant's name (to compare with the ID shown).
    pub claimant: String,
    /// Whether the claimant chose this desk (otherwise: any desk).
    pub at_this_desk: bool,
    /// When registered.
    pub created_at: DateTime<Utc>,
}

fn receiver_only(staff: &StaffSession) -> AppResult<()> {
    if staff.has(StaffRole::Receiver) {
        Ok(())
    } else {
        Err(AppError::new(ErrorKind::Forbidden, "role_required")
            .with_detail("Chỉ cán bộ tiếp nhận được xác nhận người đại diện doanh nghiệp."))
    }
}

fn not_found() -> AppError {
    AppError::not_found("registration_not_found")
        .with_detail("Không tìm thấy đăng ký doanh nghiệp đang chờ xác nhận tại đơn vị của bạn.")
}

/// The registrations waiting for the receiver's desk (naming it, or no desk), oldest first.
pub async fn pending(state: &Core, staff: &StaffSession) -> AppResult<Vec<PendingRegistration>> {
    receiver_only(staff)?;
    let mut conn = state.db.get().await?;
    Ok(
        businesses::pending_for_desk(&mut conn, &staff.agency_code, PENDING_PAGE)
            .await?
            .into_iter()
            .map(|(b, claimant)| PendingRegistration {
                id: b.id,
                at_this_desk: b.desk_agency_code.is_some(),
                tax_code: b.tax_code,
                name: b.name,
                address: b.address,
                claimant,
                created_at: b.created_at,
            })
            .collect(),
    )
}

/// Confirms or rejects a pending registration the receiver's desk handles,
/// noting what was checked (or why it was refused); the new status.
pub async fn decide(
    state: &Core,
    staff: &StaffSession,
    business_id: Uuid,
    decision: &str,
    evidence: &str,
    client: &ClientInfo,
) -> AppResult<RegistrationStatus> {
    receiver_only(staff)?;
    let mut errors = crate::error::FieldErrors::default();
    let decision = errors.take("decision", Decision::parse(decision));
    let evidence = errors.take("evidence", business::evidence(evidence));
    errors.into_result()?;
    let (Some(decision), Some(evidence)) = (decision, evidence) else {
        return Err(AppError::of_kind(ErrorKind::Unprocessable));
    };
    let now = state.clock.now();
    let domain = state.settings.mail_domain();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let row = businesses::find_for_update(c, business_id)
            .await
            .map_err(|_| not_found())?;
        if row
            .desk_agency_code
            .as_deref()
            .is_some_and(|desk| desk != staff.agency_code)
        {
            return Err(not_found());
        }
        let current = RegistrationStatus::parse(&row.status)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown business status")))?;
        let next = decision
            .apply(current)
            .map_err(|e| AppError::conflict(e.code).with_detail(e.message.to_string()))?;
        let decided = Decided {
            status: next,
            at: now,
            by: staff.staff_id,
            agency_code: &staff.agency_code,
            evidence: &evidence,
        };
        if !businesses::decide(c, row.id, &decided).await? {
            return Err(AppError::conflict("registration_already_decided")
                .with_detail("Đăng ký doanh nghiệp này đã được xử lý."));
        }
        let event = match next {
            RegistrationStatus::Confirmed => StaffEvent::BusinessConfirmed,
            _ => StaffEvent::BusinessRejected,
        };
        staff_events::record(
            c,
            &staff.into(),
            Entry::about(event, row.id.to_string())
                .with(serde_json::json!({ "tax_code": row.tax_code, "status": next.as_str() })),
            now,
        )
        .await?;
        let claimant = accounts::find(c, row.representative_id).await?;
        audit::record(
            c,
            AccountId::from(claimant.id),
            match next {
                RegistrationStatus::Confirmed => "business_registration_confirmed",
                _ => "business_registration_rejected",
            },
            client,
            serde_json::json!({ "tax_code": row.tax_code, "agency": staff.agency_code }),
            now,
        )
        .await?;
        if let Some(email) = crate::identity::verified_email(&claimant) {
            let agency_name = catalog_store::agency(c, &staff.agency_code)
                .await?
                .map_or_else(|| staff.agency_code.clone(), |a| a.name);
            queue_email(
                c,
                now,
                &Envelope {
                    to: &email,
                    account_id: Some(claimant.id),
                    mail_domain: &domain,
                },
                &BusinessRegistrationDecided {
                    full_name: claimant.full_name.clone(),
                    business_name: row.name.clone(),
                    tax_code: row.tax_code.clone(),
                    confirmed: next == RegistrationStatus::Confirmed,
                    agency_name,
                    note: evidence.clone(),
                    at: crate::identity::emails::vietnam_time(now),
                },
            )
            .await?;
        }
        Ok(next)
    })
    .await
}
