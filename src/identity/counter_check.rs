//! The counter check: a receiver checks a citizen's chip ID card and binds
//! the proven person to their national ID (`identity::proofing`).
//!
//! It has two steps so that nobody raises an account they have not looked at:
//! the receiver first sees the account that holds the ID (contact details
//! masked, creation date, level) and asks the citizen whether it is theirs;
//! only then do they confirm. An account the citizen does not recognise is
//! replaced: the citizen gives their own email at the counter and sets their
//! password through the link sent to it.

use chrono::NaiveDate;
use diesel_async::AsyncConnection;
use uuid::Uuid;

use crate::identity::Identity;
use crate::infra::Core;
use crate::{
    domain::{
        AccountId, EmailAddress, Invalid, NationalId, PersonName, PhoneNumber, Sex,
        proofing::{self, Binding, Recognised},
        staff::StaffRole,
        staff_event::StaffEvent,
    },
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    identity::{
        ClientInfo, emails,
        proofing::{Bound, Proof, ProofMethod, ProvenIdentity},
        registration::{issue_email_token, parse_date_of_birth},
        staff::StaffSession,
        staff_events::{self, Entry},
    },
    notify::{outbox::Envelope, queue_email},
    storage::accounts::{self, AccountRow},
};

/// How long the link that sets the password of an account proven at the
/// counter works.
pub const SETUP_TOKEN_TTL: chrono::Duration = chrono::Duration::hours(24);

/// What a receiver is shown of the account holding a national ID: enough to
/// ask the citizen whether it is theirs, no more.
#[derive(Debug, Clone)]
pub struct HolderSummary {
    /// The account (bound into the confirmation).
    pub account_id: Uuid,
    /// The name on the account.
    pub full_name: String,
    /// Date of birth, `dd/mm/yyyy`.
    pub date_of_birth: String,
    /// `YYYY-MM-DD`, to prefill the form.
    pub date_of_birth_iso: String,
    /// `male` or `female`.
    pub sex: String,
    /// Masked email, and whether it was verified.
    pub email: Option<(String, bool)>,
    /// Masked phone.
    pub phone: Option<String>,
    /// Created, `dd/mm/yyyy`.
    pub created_on: String,
    /// 1 or 2.
    pub level: i16,
    /// Whether the account was ever used (its email verified).
    pub pending: bool,
    /// Whether it is locked.
    pub disabled: bool,
}

impl HolderSummary {
    fn of(row: &AccountRow) -> Self {
        Self {
            account_id: row.id,
            full_name: row.full_name.clone(),
            date_of_birth: row.date_of_birth.format("%d/%m/%Y").to_string(),
            date_of_birth_iso: row.date_of_birth.format("%Y-%m-%d").to_string(),
            sex: row.sex.clone(),
            email: row
                .email
                .as_deref()
                .map(|e| (proofing::mask_email(e), row.email_verified_at.is_some())),
            phone: row.phone.as_deref().map(proofing::mask_phone),
            created_on: emails::vietnam_date(row.created_at)
                .format("%d/%m/%Y")
                .to_string(),
            level: row.assurance_level,
            pending: row.status == "pending",
            disabled: row.status == "disabled",
        }
    }
}

fn require_receiver(receiver: &StaffSession) -> AppResult<()> {
    if receiver.has(StaffRole::Receiver) {
        Ok(())
    } else {
        Err(AppError::new(ErrorKind::Forbidden, "role_required")
            .with_detail("Chỉ cán bộ tiếp nhận được xác thực danh tính công dân tại quầy."))
    }
}

fn invalid(field: &str, e: Invalid) -> AppError {
    AppError::new(ErrorKind::Unprocessable, "validation_failed")
        .with_detail(e.message.to_string())
        .with_field(field, e.code, e.message)
}

fn parse_evidence(raw: &str) -> AppResult<String> {
    let evidence = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if evidence.chars().count() < 3 || evidence.chars().count() > 500 {
        return Err(invalid(
            "evidence",
            Invalid::new(
                "evidence_length",
                "Vui lòng ghi giấy tờ đã kiểm tra (3–500 ký tự).",
            ),
        ));
    }
    Ok(evidence)
}

/// Step one: the account holding `national_id`, as the receiver may see it.
/// The look-up is in the agency's audit trail.
pub async fn look_up(
    state: &Core,
    receiver: &StaffSession,
    national_id: &str,
    evidence: &str,
) -> AppResult<HolderSummary> {
    require_receiver(receiver)?;
    let national_id = NationalId::parse(national_id).map_err(|e| invalid("national_id", e))?;
    parse_evidence(evidence)?;
    let mut conn = state.db.get().await?;
    let Some(row) = accounts::find_by_national_id(&mut conn, national_id.as_str()).await? else {
        return Err(AppError::not_found("account_not_found")
            .with_detail("Công dân này chưa có tài khoản Dịch vụ công."));
    };
    staff_events::record(
        &mut conn,
        &receiver.into(),
        Entry::about(StaffEvent::IdentityLookedUp, row.id.to_string()),
        state.clock.now(),
    )
    .await?;
    Ok(HolderSummary::of(&row))
}

/// Step two, as the receiver filled it in.
#[derive(Debug, Clone, Default)]
pub struct CounterConfirmation {
    /// National ID.
    pub national_id: String,
    /// What was checked.
    pub evidence: String,
    /// The account shown in step one.
    pub account_id: String,
    /// `yes` when the citizen recognised the account's contact details.
    pub recognised: String,
    /// For a replaced account: the citizen's email.
    pub email: String,
    /// For a replaced account: the citizen's phone (optional).
    pub phone: String,
    /// For a replaced account: the name on the card.
    pub full_name: String,
    /// For a replaced account: the date of birth on the card (`YYYY-MM-DD`).
    pub date_of_birth: String,
    /// For a replaced account: the sex on the card.
    pub sex: String,
}

struct Replacement {
    email: EmailAddress,
    phone: Option<PhoneNumber>,
    identity: ProvenIdentity,
}

fn parse_replacement(
    form: &CounterConfirmation,
    national_id: &NationalId,
    today: NaiveDate,
) -> AppResult<Replacement> {
    let mut errors = FieldErrors::default();
    let email = errors.take(
        "email",
        EmailAddress::parse(&form.email).map_err(|_| {
            Invalid::new(
                "email_format",
                "Vui lòng nhập địa chỉ email của chính công dân.",
            )
        }),
    );
    let phone = if form.phone.trim().is_empty() {
        None
    } else {
        errors.take("phone", PhoneNumber::parse(&form.phone))
    };
    let full_name = errors.take("full_name", PersonName::parse(&form.full_name));
    let date_of_birth = errors.take(
        "date_of_birth",
        parse_date_of_birth(&form.date_of_birth, today),
    );
    let sex = errors.take("sex", Sex::parse(&form.sex));
    if let (Some(dob), Some(sex)) = (date_of_birth, sex) {
        errors.take("national_id", national_id.check_birth(dob, sex));
    }
    errors.into_result()?;
    match (email, full_name, date_of_birth, sex) {
        (Some(email), Some(full_name), Some(date_of_birth), Some(sex)) => Ok(Replacement {
            email,
            phone,
            identity: ProvenIdentity {
                national_id: national_id.clone(),
                full_name,
                date_of_birth,
                sex,
            },
        }),
        _ => Err(AppError::of_kind(ErrorKind::Unprocessable)),
    }
}

/// Step two: binds the proven citizen to their national ID, in one
/// transaction with the record of who checked what, where and when.
pub async fn confirm(
    state: &Identity,
    receiver: &StaffSession,
    form: &CounterConfirmation,
    client: &ClientInfo,
) -> AppResult<Bound> {
    require_receiver(receiver)?;
    let national_id =
        NationalId::parse(&form.national_id).map_err(|e| invalid("national_id", e))?;
    let evidence = parse_evidence(&form.evidence)?;
    let expected = Uuid::parse_str(form.account_id.trim()).map_err(|_| {
        AppError::bad_request("account_not_shown")
            .with_detail("Vui lòng tra cứu tài khoản và kiểm tra với công dân trước khi xác nhận.")
    })?;
    let now = state.clock.now();
    let recognised = if form.recognised == "yes" {
        Recognised::Yes
    } else {
        Recognised::No
    };
    let mut conn = state.db.get().await?;
    let shown = accounts::find(&mut conn, expected)
        .await
        .map_err(|_| stale())?;
    if shown.national_id != national_id.as_str() {
        return Err(stale());
    }
    let holder = proofing::Holder {
        level: shown.assurance_level,
        status: proofing::HolderStatus::parse(&shown.status)
            .unwrap_or(proofing::HolderStatus::Active),
    };
    let needs_new_credentials = matches!(
        proofing::decide(Some(holder), recognised),
        Binding::ReplacePending | Binding::ClearAndRaise
    );
    let replacement = if needs_new_credentials {
        Some(parse_replacement(form, &national_id, now.date_naive())?)
    } else {
        None
    };
    let proof = Proof {
        national_id: national_id.clone(),
        identity: replacement.as_ref().map(|r| r.identity.clone()),
        method: ProofMethod::Counter {
            staff_id: receiver.staff_id,
            agency_code: receiver.agency_code.clone(),
            evidence,
        },
        recognised,
        expected_account: Some(expected),
    };
    let domain = state.settings.mail_domain();
    let place = format!("bộ phận một cửa ({})", receiver.agency_code);
    let bound = conn
        .transaction::<_, AppError, _>(async |c| {
            let bound = crate::identity::proofing::bind(c, &proof, client, now).await?;
            // The holder changed between the look-up and now (and with it
            // what the receiver was asked to confirm): start again.
            if replacement.is_some()
                != matches!(
                    bound.binding,
                    Binding::ReplacePending | Binding::ClearAndRaise
                )
            {
                return Err(stale());
            }
            let id = AccountId::from(bound.account.id);
            staff_events::record(
                c,
                &receiver.into(),
                Entry::about(StaffEvent::IdentityVerified, bound.account.id.to_string()),
                now,
            )
            .await?;
            if let Some(old) = &bound.replaced_email {
                queue_email(
                    c,
                    now,
                    &Envelope {
                        to: old,
                        account_id: None,
                        mail_domain: &domain,
                    },
                    &emails::IdentityReclaimed {
                        national_id_tail: proofing::mask_national_id(national_id.as_str()),
                        method: "xác thực căn cước tại bộ phận một cửa".into(),
                        at: emails::vietnam_time(now),
                    },
                )
                .await?;
            }
            if let Some(r) = &replacement {
                accounts::set_unverified_email(
                    c,
                    bound.account.id,
                    r.email.as_str(),
                    r.phone.as_ref().map(PhoneNumber::e164),
                    now,
                )
                .await?;
                let token =
                    issue_email_token(c, id, "reset_password", &r.email, now, SETUP_TOKEN_TTL)
                        .await?;
                queue_email(
                    c,
                    now,
                    &Envelope {
                        to: &r.email,
                        account_id: Some(bound.account.id),
                        mail_domain: &domain,
                    },
                    &emails::AccountSetup {
                        full_name: r.identity.full_name.as_str().to_owned(),
                        place: place.clone(),
                        at: emails::vietnam_time(now),
                        link: format!("{}/reset-password?token={token}", state.settings.issuer()),
                        expires_at: emails::vietnam_time(now + SETUP_TOKEN_TTL),
                    },
                )
                .await?;
            } else if bound.binding == Binding::Raise
                && let Some(email) = crate::identity::verified_email(&bound.account)
            {
                queue_email(
                    c,
                    now,
                    &Envelope {
                        to: &email,
                        account_id: Some(bound.account.id),
                        mail_domain: &domain,
                    },
                    &emails::LevelRaised {
                        full_name: bound.account.full_name.clone(),
                        method: "xác thực căn cước tại bộ phận một cửa".into(),
                        at: emails::vietnam_time(now),
                    },
                )
                .await?;
            }
            Ok(bound)
        })
        .await?;
    crate::identity::proofing::end_sessions(state, &bound).await?;
    Ok(bound)
}

fn stale() -> AppError {
    AppError::new(ErrorKind::Conflict, "account_changed").with_detail(
        "Tài khoản của số định danh này vừa thay đổi. Vui lòng tra cứu và kiểm tra lại với công dân.",
    )
}
