//! The emails of the identity core (templates under `templates/email/`).

use crate::notify::templates::email_template;

/// Verify the address given at registration.
#[derive(Debug, Clone)]
pub struct VerifyEmail {
    /// Name to greet.
    pub full_name: String,
    /// The verification link (carries the token).
    pub link: String,
    /// Expiry, formatted for people (Vietnam time).
    pub expires_at: String,
}

email_template!(
    VerifyEmail,
    name = "verify_email",
    sensitive = true,
    subject = "email/verify_email/subject.txt",
    text = "email/verify_email/body.txt",
    html = "email/verify_email/body.html"
);

/// Reset a forgotten password.
#[derive(Debug, Clone)]
pub struct PasswordReset {
    /// Name to greet.
    pub full_name: String,
    /// The reset link (carries the token).
    pub link: String,
    /// Expiry, formatted for people (Vietnam time).
    pub expires_at: String,
}

email_template!(
    PasswordReset,
    name = "password_reset",
    sensitive = true,
    subject = "email/password_reset/subject.txt",
    text = "email/password_reset/body.txt",
    html = "email/password_reset/body.html"
);

/// A sign-in from a device not seen before.
#[derive(Debug, Clone)]
pub struct NewSignIn {
    /// Name to greet.
    pub full_name: String,
    /// When, formatted for people (Vietnam time).
    pub at: String,
    /// The client software.
    pub device: String,
    /// The client address.
    pub ip: String,
}

email_template!(
    NewSignIn,
    name = "new_sign_in",
    sensitive = false,
    subject = "email/new_sign_in/subject.txt",
    text = "email/new_sign_in/body.txt",
    html = "email/new_sign_in/body.html"
);

/// A passkey was added to or removed from the account.
#[derive(Debug, Clone)]
pub struct PasskeyChanged {
    /// Name to greet.
    pub full_name: String,
    /// Added (else removed).
    pub added: bool,
    /// The passkey's name.
    pub name: String,
    /// When, formatted for people (Vietnam time).
    pub at: String,
    /// The client software.
    pub device: String,
    /// The client address.
    pub ip: String,
}

email_template!(
    PasskeyChanged,
    name = "passkey_changed",
    sensitive = false,
    subject = "email/passkey_changed/subject.txt",
    text = "email/passkey_changed/body.txt",
    html = "email/passkey_changed/body.html"
);

/// The one-time code of a sign-in's second step.
#[derive(Debug, Clone)]
pub struct SignInCode {
    /// Name to greet.
    pub full_name: String,
    /// The six digits.
    pub code: String,
}

email_template!(
    SignInCode,
    name = "sign_in_code",
    sensitive = true,
    subject = "email/sign_in_code/subject.txt",
    text = "email/sign_in_code/body.txt",
    html = "email/sign_in_code/body.html"
);

/// The account reached assurance level 2.
#[derive(Debug, Clone)]
pub struct LevelRaised {
    /// Name to greet.
    pub full_name: String,
    /// How the identity was verified, in Vietnamese.
    pub method: String,
    /// When, formatted for people (Vietnam time).
    pub at: String,
}

email_template!(
    LevelRaised,
    name = "level_raised",
    sensitive = false,
    subject = "email/level_raised/subject.txt",
    text = "email/level_raised/body.txt",
    html = "email/level_raised/body.html"
);

/// Someone tried to register a national ID that already has an account: the
/// address they gave learns it, and how the ID's real owner takes it over.
#[derive(Debug, Clone)]
pub struct RegistrationIdTaken {
    /// The name typed in the form.
    pub full_name: String,
    /// The last three digits of the national ID.
    pub national_id_tail: String,
    /// The sign-in page.
    pub login_link: String,
}

email_template!(
    RegistrationIdTaken,
    name = "registration_id_taken",
    sensitive = false,
    subject = "email/registration_id_taken/subject.txt",
    text = "email/registration_id_taken/body.txt",
    html = "email/registration_id_taken/body.html"
);

/// The proven owner of a national ID replaced the account's earlier holder:
/// that holder's verified address is told.
#[derive(Debug, Clone)]
pub struct IdentityReclaimed {
    /// The last three digits of the national ID.
    pub national_id_tail: String,
    /// How the owner proved it, in Vietnamese.
    pub method: String,
    /// When, formatted for people (Vietnam time).
    pub at: String,
}

email_template!(
    IdentityReclaimed,
    name = "identity_reclaimed",
    sensitive = false,
    subject = "email/identity_reclaimed/subject.txt",
    text = "email/identity_reclaimed/body.txt",
    html = "email/identity_reclaimed/body.html"
);

/// A citizen proven at the counter sets the password of their account.
#[derive(Debug, Clone)]
pub struct AccountSetup {
    /// Name to greet.
    pub full_name: String,
    /// Where they were proven (the agency).
    pub place: String,
    /// When, formatted for people (Vietnam time).
    pub at: String,
    /// The link that sets the password (carries the token).
    pub link: String,
    /// Expiry, formatted for people.
    pub expires_at: String,
}

email_template!(
    AccountSetup,
    name = "account_setup",
    sensitive = true,
    subject = "email/account_setup/subject.txt",
    text = "email/account_setup/body.txt",
    html = "email/account_setup/body.html"
);

/// A citizen was authorised to act for a business.
#[derive(Debug, Clone)]
pub struct BusinessAuthorizationGranted {
    /// Name to greet.
    pub full_name: String,
    /// Who granted it.
    pub representative: String,
    /// The business.
    pub business_name: String,
    /// Its tax code.
    pub tax_code: String,
    /// Until when, formatted for people.
    pub valid_until: Option<String>,
}

email_template!(
    BusinessAuthorizationGranted,
    name = "business_authorization_granted",
    sensitive = false,
    subject = "email/business_authorization_granted/subject.txt",
    text = "email/business_authorization_granted/body.txt",
    html = "email/business_authorization_granted/body.html"
);

/// An authorisation to act for a business was revoked.
#[derive(Debug, Clone)]
pub struct BusinessAuthorizationRevoked {
    /// Name to greet.
    pub full_name: String,
    /// The business.
    pub business_name: String,
    /// Its tax code.
    pub tax_code: String,
    /// When, formatted for people.
    pub at: String,
}

email_template!(
    BusinessAuthorizationRevoked,
    name = "business_authorization_revoked",
    sensitive = false,
    subject = "email/business_authorization_revoked/subject.txt",
    text = "email/business_authorization_revoked/body.txt",
    html = "email/business_authorization_revoked/body.html"
);

/// A change of the account's email or phone was asked for: the old address
/// is told, with a link that undoes it and locks the account.
#[derive(Debug, Clone)]
pub struct AccountChange {
    /// Name to greet.
    pub full_name: String,
    /// What is changing, in Vietnamese (`địa chỉ email`, `số điện thoại`).
    pub what: String,
    /// When, formatted for people (Vietnam time).
    pub at: String,
    /// The undo link (carries the token).
    pub link: String,
    /// Expiry of the link, formatted for people (Vietnam time).
    pub expires_at: String,
}

email_template!(
    AccountChange,
    name = "account_change",
    sensitive = true,
    subject = "email/account_change/subject.txt",
    text = "email/account_change/body.txt",
    html = "email/account_change/body.html"
);

/// Formats an instant for people: Vietnam time (UTC+7, no daylight saving).
pub fn vietnam_time(at: chrono::DateTime<chrono::Utc>) -> String {
    let vietnam = chrono::FixedOffset::east_opt(7 * 3600).unwrap_or_else(|| chrono::Utc.fix());
    at.with_timezone(&vietnam)
        .format("%H:%M ngày %d/%m/%Y")
        .to_string()
}

use chrono::Offset as _;

/// The calendar date in Vietnam at an instant.
pub fn vietnam_date(at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    let vietnam = chrono::FixedOffset::east_opt(7 * 3600).unwrap_or_else(|| chrono::Utc.fix());
    at.with_timezone(&vietnam).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::EmailTemplate;
    use chrono::TimeZone;

    #[test]
    fn times_are_shown_in_vietnam_time() {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 1, 2, 20, 5, 0)
            .single()
            .expect("valid");
        assert_eq!(vietnam_time(at), "03:05 ngày 03/01/2026");
    }

    #[test]
    fn link_emails_are_sensitive_and_carry_the_link() {
        let e = VerifyEmail {
            full_name: "Nguyễn Văn An".into(),
            link: "https://x.test/verify-email?token=abc".into(),
            expires_at: "10:00 ngày 01/01/2027".into(),
        };
        let r = e.render().expect("renders");
        assert!(r.text.contains("token=abc") && r.html.contains("token=abc"));
        assert_eq!(
            r.subject,
            "Xác minh địa chỉ email cho tài khoản Dịch vụ công"
        );
        const { assert!(VerifyEmail::SENSITIVE && PasswordReset::SENSITIVE) };
        const { assert!(!NewSignIn::SENSITIVE) };
    }
}
