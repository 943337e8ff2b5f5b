//! Password reset by email and password change. Both revoke every refresh
//! token of the account in the change's transaction and end the other sessions.

use diesel_async::AsyncConnection;
use secrecy::{ExposeSecret, SecretString};

use crate::identity::Identity;
use crate::{
    crypto::tokens,
    domain::{AccountId, EmailAddress, national_id::NationalId, password_policy},
    error::{AppError, AppResult, ErrorKind},
    identity::{
        ClientInfo,
        account_changes::{self, Change},
        audit, emails,
        registration::{issue_email_token, spend_quota},
        throttle,
    },
    notify::{outbox::Envelope, queue_email},
    storage::{accounts, email_tokens, oidc},
};

/// How long a reset link works.
pub const RESET_TOKEN_TTL: chrono::Duration = chrono::Duration::hours(1);

fn weak_password(invalid: crate::domain::Invalid) -> AppError {
    AppError::new(ErrorKind::Unprocessable, "validation_failed")
        .with_detail(invalid.message.to_string())
        .with_field("new_password", invalid.code, invalid.message)
}

/// Sends a reset link to the verified email of the account `username`
/// designates (national ID or email). Says nothing about whether it exists.
pub async fn request_reset(state: &Identity, username: &str, client: &ClientInfo) -> AppResult<()> {
    spend_quota(
        state,
        &throttle::EMAIL_SENDING_IP,
        client.ip.as_deref().unwrap_or("-"),
    )
    .await?;
    let mut conn = state.db.get().await?;
    let account = if let Ok(id) = NationalId::parse(username) {
        accounts::find_by_national_id(&mut conn, id.as_str()).await?
    } else if let Ok(email) = EmailAddress::parse(username) {
        accounts::find_by_verified_email(&mut conn, email.as_str()).await?
    } else {
        None
    };
    let Some(account) = account else {
        return Ok(());
    };
    // An active account, or one its holder locked (a reset reopens it).
    if !account_changes::reset_may_reopen(&mut conn, &account).await? {
        return Ok(());
    }
    let Some(email) = crate::identity::verified_email(&account) else {
        return Ok(());
    };
    if state
        .throttle
        .spend(
            &throttle::EMAIL_SENDING_RECIPIENT,
            &email.as_str().to_lowercase(),
        )
        .await?
        .is_some()
    {
        return Ok(());
    }
    let now = state.clock.now();
    let domain = state.settings.mail_domain();
    let id = AccountId::from(account.id);
    conn.transaction::<_, AppError, _>(async |c| {
        let token =
            issue_email_token(c, id, "reset_password", &email, now, RESET_TOKEN_TTL).await?;
        audit::record(
            c,
            id,
            "password_reset_requested",
            client,
            serde_json::json!({}),
            now,
        )
        .await?;
        queue_email(
            c,
            now,
            &Envelope {
                to: &email,
                account_id: Some(account.id),
                mail_domain: &domain,
            },
            &emails::PasswordReset {
                full_name: account.full_name.clone(),
                link: format!("{}/reset-password?token={token}", state.settings.issuer()),
                expires_at: emails::vietnam_time(now + RESET_TOKEN_TTL),
            },
        )
        .await?;
        Ok(())
    })
    .await
}

/// Sets a new password with a reset token; ends every session of the account.
pub async fn confirm_reset(
    state: &Identity,
    token: &str,
    new_password: SecretString,
    client: &ClientInfo,
) -> AppResult<()> {
    let ip = client.ip.as_deref().unwrap_or("-");
    state.throttle.check(&throttle::TOKEN_IP, ip).await?;
    let invalid = || {
        AppError::bad_request("invalid_token")
            .with_detail("Liên kết không hợp lệ, đã được sử dụng hoặc đã hết hạn.")
    };
    if !tokens::well_formed(token) {
        state.throttle.fail(&throttle::TOKEN_IP, ip).await?;
        return Err(invalid());
    }
    let now = state.clock.now();
    let hash_of_token = tokens::hash(token);
    let mut conn = state.db.get().await?;
    // Check the policy before using the token up, so a weak password can be retried.
    let pending = email_tokens::peek(&mut conn, &hash_of_token, "reset_password", now).await?;
    let Some(pending) = pending else {
        state.throttle.fail(&throttle::TOKEN_IP, ip).await?;
        return Err(invalid());
    };
    let account = accounts::find(&mut conn, pending.account_id).await?;
    password_policy::check_password(
        new_password.expose_secret(),
        &[
            account.national_id.as_str(),
            account.email.as_deref().unwrap_or_default(),
        ],
    )
    .map_err(weak_password)?;
    let new_hash = state.hasher.hash(new_password).await?;
    let id = AccountId::from(account.id);
    let redeemed = conn
        .transaction::<_, AppError, _>(async |c| {
            let Some(token) =
                email_tokens::redeem(c, &hash_of_token, "reset_password", now).await?
            else {
                return Ok(false);
            };
            let row = accounts::find_for_update(c, account.id).await?;
            accounts::set_password_hash(c, account.id, &new_hash, true, now).await?;
            // The link proves the address it was sent to: the one a receiver
            // typed for a citizen proven at the counter is verified by it.
            if row.email_verified_at.is_none()
                && row
                    .email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(&token.email))
            {
                accounts::mark_email_verified(c, account.id, &token.email, now).await?;
            }
            let revoked = oidc::revoke_account_refresh_tokens(c, account.id, now).await?;
            audit::record(
                c,
                id,
                "password_reset",
                client,
                serde_json::json!({ "refresh_tokens_revoked": revoked }),
                now,
            )
            .await?;
            account_changes::reopen_after_reset(c, &row, client, now).await?;
            Ok(true)
        })
        .await?;
    if !redeemed {
        return Err(invalid());
    }
    crate::identity::end_sessions(state, id, None).await?;
    state
        .throttle
        .reset(&throttle::SIGN_IN_ACCOUNT, &throttle::account_subject(id))
        .await?;
    Ok(())
}

/// Changes the password of a signed-in person: the current password is
/// checked against the account's sign-in counter (an account without one
/// needs a sign-in in the last five minutes); every refresh token is revoked
/// with the change and the other sessions end.
pub async fn change_password(
    state: &Identity,
    account: AccountId,
    current: (&str, chrono::DateTime<chrono::Utc>),
    current_password: SecretString,
    new_password: SecretString,
    client: &ClientInfo,
) -> AppResult<()> {
    let (current_token, authenticated_at) = current;
    let row =
        match account_changes::check_current_password(state, account, current_password).await? {
            Some(row) => row,
            // No password yet (VNeID only): setting one needs a fresh sign-in.
            None if account_changes::recently_signed_in(authenticated_at, state.clock.now()) => {
                let mut conn = state.db.get().await?;
                accounts::find(&mut conn, account.as_uuid()).await?
            }
            None => return Err(account_changes::reauthentication_required()),
        };
    password_policy::check_password(
        new_password.expose_secret(),
        &[
            row.national_id.as_str(),
            row.email.as_deref().unwrap_or_default(),
        ],
    )
    .map_err(weak_password)?;
    let new_hash = state.hasher.hash(new_password).await?;
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        accounts::set_password_hash(c, row.id, &new_hash, true, now).await?;
        let revoked = oidc::revoke_account_refresh_tokens(c, row.id, now).await?;
        audit::record(
            c,
            account,
            "password_changed",
            client,
            serde_json::json!({ "refresh_tokens_revoked": revoked }),
            now,
        )
        .await?;
        Ok(())
    })
    .await?;
    crate::identity::end_sessions(state, account, Some(current_token)).await
}

/// Starts a change of email: a verification link goes to the new address,
/// and the account's address changes only when it is followed. The
/// holder is confirmed first ([`account_changes::confirm_holder`]: `holder`
/// is the session's sign-in time and the password if given); the old
/// verified address is told, with a link that undoes the change and locks.
pub async fn request_email_change(
    state: &Identity,
    account: AccountId,
    holder: account_changes::Holder,
    new_email: &EmailAddress,
    client: &ClientInfo,
) -> AppResult<()> {
    account_changes::confirm_holder(state, account, holder).await?;
    spend_quota(
        state,
        &throttle::EMAIL_SENDING_IP,
        client.ip.as_deref().unwrap_or("-"),
    )
    .await?;
    let now = state.clock.now();
    let domain = state.settings.mail_domain();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let row = accounts::find(c, account.as_uuid()).await?;
        let token = issue_email_token(
            c,
            account,
            "verify_email",
            new_email,
            now,
            crate::identity::registration::VERIFY_TOKEN_TTL,
        )
        .await?;
        audit::record(
            c,
            account,
            "email_change_requested",
            client,
            serde_json::json!({}),
            now,
        )
        .await?;
        account_changes::notify_old_address(c, state, &row, Change::Email, now).await?;
        queue_email(
            c,
            now,
            &Envelope {
                to: new_email,
                account_id: Some(account.as_uuid()),
                mail_domain: &domain,
            },
            &emails::VerifyEmail {
                full_name: row.full_name.clone(),
                link: crate::identity::registration::verification_link(state, &token),
                expires_at: emails::vietnam_time(
                    now + crate::identity::registration::VERIFY_TOKEN_TTL,
                ),
            },
        )
        .await?;
        Ok(())
    })
    .await
}
