//! Citizen self-registration and email verification.
//!
//! A registration creates a `pending` account at level 1 and emails a
//! single-use verification link; redeeming it activates the account. One
//! account per national ID is enforced by the database, also under concurrent
//! registrations; a registration of a taken ID answers like any other and
//! tells the typed address by email. Such an account proves nothing about
//! its holder: a counter check or a VNeID sign-in replaces it
//! (`identity::proofing`). Whether an email address is already in use is never
//! revealed: the verification of an address another account has verified fails.

use chrono::{Datelike, NaiveDate};
use diesel_async::AsyncConnection;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::identity::Identity;
use crate::infra::Core;
use crate::{
    crypto::tokens,
    domain::{
        AccountId, EmailAddress, Invalid,
        national_id::{NationalId, Sex},
        password_policy,
        person_name::PersonName,
        phone::PhoneNumber,
    },
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    identity::{ClientInfo, audit, emails, throttle},
    notify::{outbox::Envelope, queue_email},
    storage::{accounts, email_tokens},
};

/// How long a verification link works.
pub const VERIFY_TOKEN_TTL: chrono::Duration = chrono::Duration::hours(24);
/// The youngest age at which a citizen may hold an account (the age at which
/// the chip identity card is issued).
pub const MINIMUM_AGE: i32 = 14;

/// The registration form as sent by the app.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationRequest {
    /// 12-digit national ID.
    pub national_id: String,
    /// Full name.
    pub full_name: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date, example = "1990-05-17")]
    pub date_of_birth: String,
    /// `male` or `female`.
    #[schema(example = "female")]
    pub sex: String,
    /// Email address.
    pub email: String,
    /// Mobile phone.
    pub phone: String,
    /// Password: at least 10 characters, not the ID or email, not a common one.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

/// A registration whose every field parsed.
#[derive(Debug)]
pub struct CitizenRegistration {
    /// National ID.
    pub national_id: NationalId,
    /// Full name.
    pub full_name: PersonName,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Sex.
    pub sex: Sex,
    /// Email.
    pub email: EmailAddress,
    /// Phone.
    pub phone: PhoneNumber,
    /// Password (policy checked).
    pub password: SecretString,
}

/// Parses a `YYYY-MM-DD` date of birth for someone old enough on `today`.
pub fn parse_date_of_birth(raw: &str, today: NaiveDate) -> Result<NaiveDate, Invalid> {
    let date = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        Invalid::new(
            "date_of_birth_format",
            "Ngày sinh phải là một ngày có thật, theo dạng NNNN-TT-NN (ví dụ 1990-05-31).",
        )
    })?;
    if date > today || date.year() < 1900 {
        return Err(Invalid::new(
            "date_of_birth_range",
            "Ngày sinh không hợp lệ.",
        ));
    }
    let age = today.year()
        - date.year()
        - i32::from((today.month(), today.day()) < (date.month(), date.day()));
    if age < MINIMUM_AGE {
        return Err(Invalid::new(
            "date_of_birth_too_young",
            format!("Công dân từ đủ {MINIMUM_AGE} tuổi mới được đăng ký tài khoản."),
        ));
    }
    Ok(date)
}

impl RegistrationRequest {
    /// Parses every field, reporting all invalid ones at once.
    pub fn parse(self, today: NaiveDate) -> AppResult<CitizenRegistration> {
        let mut errors = FieldErrors::default();
        let national_id = errors.take("national_id", NationalId::parse(&self.national_id));
        let full_name = errors.take("full_name", PersonName::parse(&self.full_name));
        let date_of_birth = errors.take(
            "date_of_birth",
            parse_date_of_birth(&self.date_of_birth, today),
        );
        let sex = errors.take("sex", Sex::parse(&self.sex));
        let email = errors.take(
            "email",
            EmailAddress::parse(&self.email)
                .map_err(|e| Invalid::new("email_format", e.to_string())),
        );
        let phone = errors.take("phone", PhoneNumber::parse(&self.phone));
        if let (Some(id), Some(dob), Some(sex)) = (&national_id, date_of_birth, sex) {
            errors.take("national_id", id.check_birth(dob, sex));
        }
        let identifiers: Vec<&str> = [Some(self.national_id.trim()), Some(self.email.trim())]
            .into_iter()
            .flatten()
            .collect();
        errors.take(
            "password",
            password_policy::check_password(self.password.expose_secret(), &identifiers),
        );
        errors.into_result()?;
        match (national_id, full_name, date_of_birth, sex, email, phone) {
            (
                Some(national_id),
                Some(full_name),
                Some(date_of_birth),
                Some(sex),
                Some(email),
                Some(phone),
            ) => Ok(CitizenRegistration {
                national_id,
                full_name,
                date_of_birth,
                sex,
                email,
                phone,
                password: self.password,
            }),
            _ => Err(AppError::of_kind(ErrorKind::Unprocessable)),
        }
    }
}

/// Refuses with 429 when `subject` used up its quota under `rule`.
pub async fn spend_quota(state: &Identity, rule: &throttle::Rule, subject: &str) -> AppResult<()> {
    match state.throttle.spend(rule, subject).await? {
        Some(wait) => Err(throttle::too_many(wait)),
        None => Ok(()),
    }
}

/// Stores a fresh single-use token for `account` and returns it.
pub async fn issue_email_token(
    conn: &mut diesel_async::AsyncPgConnection,
    account: AccountId,
    purpose: &str,
    email: &EmailAddress,
    now: chrono::DateTime<chrono::Utc>,
    ttl: chrono::Duration,
) -> AppResult<String> {
    email_tokens::void_unused(conn, account.as_uuid(), purpose, now).await?;
    let token = tokens::generate();
    email_tokens::insert(
        conn,
        &email_tokens::EmailTokenRow {
            token_hash: tokens::hash(&token),
            account_id: account.as_uuid(),
            purpose: purpose.to_owned(),
            email: email.as_str().to_owned(),
            expires_at: now + ttl,
            used_at: None,
            created_at: now,
        },
    )
    .await?;
    Ok(token)
}

/// The link a verification email carries.
pub fn verification_link(state: &Core, token: &str) -> String {
    format!("{}/verify-email?token={token}", state.settings.issuer())
}

/// Registers a citizen: a pending level-1 account and a verification email.
///
/// A national ID that already has an account answers exactly like a free one
/// (so the form tells nobody whose ID is registered, in the same time: the
/// password is hashed either way); the address typed learns it by email,
/// with how the ID's real owner takes the account over (a counter check or a
/// VNeID sign-in, see `identity::proofing`), and the holder's own audit trail
/// shows the attempt. Returns the new account, if one was made.
pub async fn register(
    state: &Identity,
    registration: CitizenRegistration,
    client: &ClientInfo,
) -> AppResult<Option<AccountId>> {
    spend_quota(
        state,
        &throttle::EMAIL_SENDING_IP,
        client.ip.as_deref().unwrap_or("-"),
    )
    .await?;
    let hash = state.hasher.hash(registration.password.clone()).await?;
    let now = state.clock.now();
    let id = AccountId::generate();
    let domain = state.settings.mail_domain();
    let row = accounts::AccountRow {
        id: id.as_uuid(),
        national_id: registration.national_id.as_str().to_owned(),
        full_name: registration.full_name.as_str().to_owned(),
        date_of_birth: registration.date_of_birth,
        sex: registration.sex.as_str().to_owned(),
        email: Some(registration.email.as_str().to_owned()),
        email_verified_at: None,
        phone: Some(registration.phone.e164().to_owned()),
        password_hash: Some(hash),
        password_changed_at: Some(now),
        assurance_level: 1,
        status: "pending".into(),
        created_at: now,
        updated_at: now,
        phone_verified_at: None,
    };
    // Decided before the transaction (Redis is not part of it): whether the
    // typed address may get one more email now.
    let recipient = registration.email.as_str().to_lowercase();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        if !accounts::insert(c, &row).await? {
            return id_taken(state, c, &registration, &recipient, client, now).await;
        }
        let token = issue_email_token(
            c,
            id,
            "verify_email",
            &registration.email,
            now,
            VERIFY_TOKEN_TTL,
        )
        .await?;
        audit::record(c, id, "registered", client, serde_json::json!({}), now).await?;
        queue_email(
            c,
            now,
            &Envelope {
                to: &registration.email,
                account_id: Some(id.as_uuid()),
                mail_domain: &domain,
            },
            &emails::VerifyEmail {
                full_name: registration.full_name.as_str().to_owned(),
                link: verification_link(state, &token),
                expires_at: emails::vietnam_time(now + VERIFY_TOKEN_TTL),
            },
        )
        .await?;
        Ok(Some(id))
    })
    .await
}

/// The registration of a national ID that has an account: nothing is made;
/// the typed address is told (unless it had its share of emails), and the
/// holder's audit trail records the attempt.
async fn id_taken(
    state: &Identity,
    c: &mut diesel_async::AsyncPgConnection,
    registration: &CitizenRegistration,
    recipient: &str,
    client: &ClientInfo,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Option<AccountId>> {
    let Some(holder) = accounts::find_by_national_id(c, registration.national_id.as_str()).await?
    else {
        return Ok(None);
    };
    audit::record(
        c,
        AccountId::from(holder.id),
        "registration_refused_id_taken",
        client,
        serde_json::json!({}),
        now,
    )
    .await?;
    if state
        .throttle
        .spend(&throttle::EMAIL_SENDING_RECIPIENT, recipient)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let domain = state.settings.mail_domain();
    queue_email(
        c,
        now,
        &Envelope {
            to: &registration.email,
            account_id: None,
            mail_domain: &domain,
        },
        &emails::RegistrationIdTaken {
            full_name: registration.full_name.as_str().to_owned(),
            national_id_tail: crate::domain::proofing::mask_national_id(
                registration.national_id.as_str(),
            ),
            login_link: format!("{}/login", state.settings.issuer()),
        },
    )
    .await?;
    Ok(None)
}

fn invalid_token() -> AppError {
    AppError::bad_request("invalid_token")
        .with_detail("Liên kết không hợp lệ, đã được sử dụng hoặc đã hết hạn.")
}

/// Redeems a verification token: the email is verified and the account active.
pub async fn verify_email(
    state: &Identity,
    token: &str,
    client: &ClientInfo,
) -> AppResult<AccountId> {
    let ip = client.ip.as_deref().unwrap_or("-");
    state.throttle.check(&throttle::TOKEN_IP, ip).await?;
    if !tokens::well_formed(token) {
        state.throttle.fail(&throttle::TOKEN_IP, ip).await?;
        return Err(invalid_token());
    }
    let now = state.clock.now();
    let hash = tokens::hash(token);
    let mut conn = state.db.get().await?;
    let result = conn
        .transaction::<_, AppError, _>(async |c| {
            let Some(redeemed) = email_tokens::redeem(c, &hash, "verify_email", now).await? else {
                return Ok(None);
            };
            let account = AccountId::from(redeemed.account_id);
            if !accounts::mark_email_verified(c, redeemed.account_id, &redeemed.email, now).await? {
                return Err(AppError::conflict("email_unavailable").with_detail(
                    "Địa chỉ email này không thể dùng cho tài khoản; vui lòng đăng ký bằng địa chỉ khác.",
                ));
            }
            audit::record(c, account, "email_verified", client, serde_json::json!({}), now).await?;
            Ok(Some(account))
        })
        .await?;
    match result {
        Some(account) => Ok(account),
        None => {
            state.throttle.fail(&throttle::TOKEN_IP, ip).await?;
            Err(invalid_token())
        }
    }
}

/// Sends a new verification link to a pending registration's address. Says
/// nothing about whether there was one.
pub async fn resend_verification(
    state: &Identity,
    email: &EmailAddress,
    client: &ClientInfo,
) -> AppResult<()> {
    spend_quota(
        state,
        &throttle::EMAIL_SENDING_IP,
        client.ip.as_deref().unwrap_or("-"),
    )
    .await?;
    if state
        .throttle
        .spend(
            &throttle::EMAIL_SENDING_RECIPIENT,
            &email.as_str().to_lowercase(),
        )
        .await?
        .is_some()
    {
        // Quietly do nothing more: answering differently would reveal the address.
        return Ok(());
    }
    let now = state.clock.now();
    let domain = state.settings.mail_domain();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let Some(account) = accounts::find_pending_by_email(c, email.as_str()).await? else {
            return Ok(());
        };
        let id = AccountId::from(account.id);
        let token = issue_email_token(c, id, "verify_email", email, now, VERIFY_TOKEN_TTL).await?;
        queue_email(
            c,
            now,
            &Envelope {
                to: email,
                account_id: Some(account.id),
                mail_domain: &domain,
            },
            &emails::VerifyEmail {
                full_name: account.full_name,
                link: verification_link(state, &token),
                expires_at: emails::vietnam_time(now + VERIFY_TOKEN_TTL),
            },
        )
        .await?;
        Ok(())
    })
    .await
}
