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
pub mod login;
pub mod passkeys;
pub mod password;
pub mod phone;
pub mod profile;
pub mod proofing;
pub mod registration;
pub mod second_step;
pub mod sessions;
pub mod staff;
pub mod staff_events;
pub mod staff_passkey_sign_in;
pub mod staff_passkeys;
pub mod staff_session;
pub mod throttle;
pub mod tokens;
pub mod vneid;

/// Who is on the other end of a request, for audit events and throttling.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The client's address.
    pub ip: Option<String>,
    /// The client's software (`User-Agent`, truncated).
    pub user_agent: Option<String>,
}

/// Ends every browser session of `account` (but `keep`, the caller's own)
/// and tells the clients that joined them (back-channel logout). Called
/// after the transaction that made the change has committed: sessions live
/// in Redis.
pub async fn end_sessions(
    state: &crate::startup::AppState,
    account: crate::domain::AccountId,
    keep: Option<&str>,
) -> crate::error::AppResult<()> {
    let ended = state
        .sessions
        .revoke_all(&account.to_string(), keep)
        .await?;
    crate::oidc::backchannel::sessions_ended(state, &ended).await?;
    Ok(())
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
