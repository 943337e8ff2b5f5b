//! Accounts and how people prove who they are: registration, email
//! verification, passwords (argon2id), sessions, throttling, and sign-in with
//! the national identity provider (VNeID).

pub mod account_changes;
pub mod audit;
pub mod business_registrations;
pub mod businesses;
pub mod counter_check;
pub mod credentials;
pub mod emails;
pub mod jobs;
pub mod login;
pub mod passkeys;
pub mod password;
pub mod phone;
pub mod profile;
pub mod proofing;
pub mod registration;
pub mod second_step;
pub mod session_end;
pub mod sessions;
pub mod staff;
pub mod staff_events;
pub mod staff_passkey_sign_in;
pub mod staff_passkeys;
pub mod staff_session;
pub mod state;
pub mod throttle;
pub mod vneid;

pub use session_end::end_sessions;
pub use state::Identity;

/// Who is on the other end of a request, for audit events and throttling.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The client's address.
    pub ip: Option<String>,
    /// The client's software (`User-Agent`, truncated).
    pub user_agent: Option<String>,
}

/// The account's email address if it is verified (the only one we write to
/// about the account's security).
pub fn verified_email(
    account: &crate::storage::accounts::AccountRow,
) -> Option<crate::domain::EmailAddress> {
    account
        .email
        .as_deref()
        .filter(|_| account.email_verified_at.is_some())
        .and_then(|e| crate::domain::EmailAddress::parse(e).ok())
}
