//! Changes only the holder may make, and how they are taken back.
//!
//! - Changing the email or phone needs the holder: a sign-in in the last
//!   five minutes or the current password (throttled with the account's
//!   sign-in counter).
//! - The old address is told, with a single-use link (7 days) that restores
//!   the previous value and locks the account.
//! - A lock (from that link, or from the support desk's `eservices admin
//!   account lock`) disables the account and ends its access everywhere:
//!   refresh tokens in the same transaction, then its sessions.

use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use secrecy::SecretString;

use crate::identity::Identity;
use crate::infra::Core;
use crate::{
    crypto::tokens,
    domain::{AccountId, EmailAddress},
    error::{AppError, AppResult, ErrorKind},
    identity::{ClientInfo, audit, emails, login, password::Verification, throttle},
    notify::{outbox::Envelope, queue_email},
    storage::{
        account_changes::{self, UNDO_EMAIL, UNDO_PHONE, UndoTokenRow},
        accounts::{self, AccountRow},
        oidc, sms,
    },
};

/// How recent a sign-in must be to change the email or phone without the password.
pub const REAUTH_WINDOW: Duration = Duration::minutes(5);
/// How long an undo link works.
pub const UNDO_TOKEN_TTL: Duration = Duration::days(7);

/// What the holder reads after an undo.
pub const UNDONE_MESSAGE: &str = "Đã khôi phục thông tin cũ và khóa tài khoản. Mọi phiên đăng nhập và ứng dụng đã kết nối đã bị đăng xuất. Để mở lại tài khoản, hãy đặt lại mật khẩu hoặc đến bộ phận một cửa.";

/// Who locked an account: the holder (undo link; a password reset reopens
/// it) or the support desk (only the support desk reopens it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockedBy {
    /// The holder, through an undo link.
    Holder,
    /// The support desk, through `eservices admin account lock`.
    Support,
}

impl LockedBy {
    fn as_str(self) -> &'static str {
        match self {
            Self::Holder => "holder",
            Self::Support => "support",
        }
    }
}

/// The 403 answer when a change needs a fresh sign-in or the password.
pub fn reauthentication_required() -> AppError {
    AppError::new(ErrorKind::Forbidden, "reauthentication_required").with_detail(
        "Vì an toàn, vui lòng nhập mật khẩu hiện tại hoặc đăng nhập lại để thay đổi email hoặc số điện thoại.",
    )
}

fn wrong_password() -> AppError {
    AppError::new(ErrorKind::Unprocessable, "validation_failed")
        .with_detail("Mật khẩu hiện tại không đúng.")
        .with_field(
            "current_password",
            "wrong_password",
            "Mật khẩu hiện tại không đúng.",
        )
}

/// Checks the current password of `account` against the account's sign-in
/// counter (reserved before hashing; reset on success). An account without
/// a password proves nothing this way: `Ok(None)`.
pub async fn check_current_password(
    state: &Identity,
    account: AccountId,
    password: SecretString,
) -> AppResult<Option<AccountRow>> {
    let mut conn = state.db.get().await?;
    let row = accounts::find(&mut conn, account.as_uuid()).await?;
    drop(conn);
    if row.password_hash.is_none() {
        return Ok(None);
    }
    let subject = throttle::account_subject(account);
    login::reserve_attempt(state, &subject).await?;
    match state
        .hasher
        .verify(row.password_hash.clone(), password)
        .await?
    {
        Verification::Match { .. } => {
            state
                .throttle
                .reset(&throttle::SIGN_IN_ACCOUNT, &subject)
                .await?;
            Ok(Some(row))
        }
        _ => Err(wrong_password()),
    }
}

/// Whether a sign-in at `authenticated_at` is recent enough at `now`.
pub fn recently_signed_in(authenticated_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    authenticated_at <= now && now - authenticated_at <= REAUTH_WINDOW
}

/// Who asks for a change: how their session signed in, and the current
/// password if they typed it.
#[derive(Debug)]
pub struct Holder {
    /// The session's sign-in methods.
    pub methods: Vec<crate::domain::assurance::Method>,
    /// When the session signed in (or last stepped up).
    pub authenticated_at: DateTime<Utc>,
    /// The current password, when given.
    pub current_password: Option<SecretString>,
}

impl Holder {
    /// The holder of a browser session.
    pub fn of(
        session: &crate::identity::sessions::Session,
        current_password: Option<SecretString>,
    ) -> Self {
        Self {
            methods: session.methods.clone(),
            authenticated_at: session.authenticated_at,
            current_password,
        }
    }
}

/// Lets a change of email or phone through only for the holder: a session
/// that signed in strongly (a passkey, VNeID, or a password with a second
/// factor; else 401 `step_up_required`), and either recently
/// ([`crate::domain::assurance::RECENT_STRONG`]) or with the current password
/// typed again (a wrong one counts against the account's sign-in counter;
/// else 403 `reauthentication_required`).
pub async fn confirm_holder(state: &Identity, account: AccountId, holder: Holder) -> AppResult<()> {
    if !crate::domain::assurance::is_strong(&holder.methods) {
        return Err(crate::identity::second_step::step_up_required());
    }
    match holder.current_password {
        Some(password) => match check_current_password(state, account, password).await? {
            Some(_) => Ok(()),
            None => Err(reauthentication_required()),
        },
        None if crate::domain::assurance::recent_strong(
            &holder.methods,
            holder.authenticated_at,
            state.clock.now(),
        ) =>
        {
            Ok(())
        }
        None => Err(reauthentication_required()),
    }
}

/// What a change is about, for the notice and its undo link.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// The email address changes: the undo restores `row.email`.
    Email,
    /// The phone number changes: the undo restores this number (and when it
    /// was verified).
    Phone {
        /// The number before the change.
        previous: Option<&'a str>,
        /// When it had been verified.
        verified_at: Option<DateTime<Utc>>,
    },
}

/// In the change's transaction: tells the account's verified email that
/// `change` was asked for, with an undo link. Nothing is sent for an account
/// without a verified email.
pub async fn notify_old_address(
    conn: &mut AsyncPgConnection,
    state: &Core,
    row: &AccountRow,
    change: Change<'_>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(old) = crate::identity::verified_email(row) else {
        return Ok(());
    };
    let token = tokens::generate();
    let (purpose, what, previous_phone, previous_phone_verified_at) = match change {
        Change::Email => (UNDO_EMAIL, "địa chỉ email", None, None),
        Change::Phone {
            previous,
            verified_at,
        } => (
            UNDO_PHONE,
            "số điện thoại",
            previous.map(str::to_owned),
            verified_at,
        ),
    };
    account_changes::insert_undo_token(
        conn,
        &UndoTokenRow {
            token_hash: tokens::hash(&token),
            account_id: row.id,
            purpose: purpose.to_owned(),
            email: old.as_str().to_owned(),
            previous_phone,
            previous_phone_verified_at,
            expires_at: now + UNDO_TOKEN_TTL,
            created_at: now,
        },
    )
    .await?;
    let domain = state.settings.mail_domain();
    queue_email(
        conn,
        now,
        &Envelope {
            to: &old,
            account_id: Some(row.id),
            mail_domain: &domain,
        },
        &emails::AccountChange {
            full_name: row.full_name.clone(),
            what: what.to_owned(),
            at: emails::vietnam_time(now),
            link: format!("{}/undo-change?token={token}", state.settings.issuer()),
            expires_at: emails::vietnam_time(now + UNDO_TOKEN_TTL),
        },
    )
    .await?;
    Ok(())
}

/// In a transaction: disables the account and revokes every refresh-token
/// family. `false` when it was already disabled (nothing changed then).
async fn lock_in(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    by: LockedBy,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let row = accounts::find_for_update(conn, account.as_uuid()).await?;
    if row.status == "disabled" {
        return Ok(false);
    }
    account_changes::set_status(conn, row.id, "disabled", now).await?;
    let revoked = oidc::revoke_account_refresh_tokens(conn, row.id, now).await?;
    audit::record(
        conn,
        account,
        "account_locked",
        client,
        serde_json::json!({ "by": by.as_str(), "refresh_tokens_revoked": revoked }),
        now,
    )
    .await?;
    Ok(true)
}

/// Locks an account: disabled, refresh tokens revoked (one transaction),
/// then every session ended. `false` when it was already locked.
pub async fn lock(
    state: &Identity,
    account: AccountId,
    by: LockedBy,
    client: &ClientInfo,
) -> AppResult<bool> {
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let locked = conn
        .transaction::<_, AppError, _>(async |c| lock_in(c, account, by, client, now).await)
        .await?;
    // Even when it was locked already: no session may outlive a lock.
    crate::identity::end_sessions(state, account, None).await?;
    Ok(locked)
}

/// Reopens a locked account (the support desk). `false` when it was not locked.
pub async fn unlock(state: &Core, account: AccountId, client: &ClientInfo) -> AppResult<bool> {
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let row = accounts::find_for_update(c, account.as_uuid()).await?;
        if row.status != "disabled" {
            return Ok(false);
        }
        account_changes::set_status(c, row.id, "active", now).await?;
        audit::record(
            c,
            account,
            "account_unlocked",
            client,
            serde_json::json!({ "by": LockedBy::Support.as_str() }),
            now,
        )
        .await?;
        Ok(true)
    })
    .await
}

/// Whether the holder may reopen the account with a password reset: it is
/// active, or the holder locked it (not the support desk).
pub async fn reset_may_reopen(conn: &mut AsyncPgConnection, row: &AccountRow) -> AppResult<bool> {
    Ok(match row.status.as_str() {
        "active" => true,
        "disabled" => matches!(
            account_changes::last_lock_event(conn, row.id).await?,
            Some((kind, detail)) if kind == "account_locked" && detail["by"] == LockedBy::Holder.as_str()
        ),
        _ => false,
    })
}

/// In the reset's transaction: reopens an account its holder had locked.
pub async fn reopen_after_reset(
    conn: &mut AsyncPgConnection,
    row: &AccountRow,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if row.status == "disabled" && reset_may_reopen(conn, row).await? {
        account_changes::set_status(conn, row.id, "active", now).await?;
        audit::record(
            conn,
            AccountId::from(row.id),
            "account_unlocked",
            client,
            serde_json::json!({ "by": "password_reset" }),
            now,
        )
        .await?;
    }
    Ok(())
}

fn invalid_link() -> AppError {
    AppError::bad_request("invalid_token")
        .with_detail("Liên kết không hợp lệ, đã được sử dụng hoặc đã hết hạn.")
}

/// Follows an undo link: restores the previous email or phone, voids what
/// the change could still use (pending verifications, reset links, undo
/// links made after this one), locks the account and revokes its refresh
/// tokens in one transaction, then ends its sessions.
pub async fn undo_change(state: &Identity, token: &str, client: &ClientInfo) -> AppResult<()> {
    let ip = client.ip.as_deref().unwrap_or("-");
    state.throttle.check(&throttle::TOKEN_IP, ip).await?;
    if !tokens::well_formed(token) {
        state.throttle.fail(&throttle::TOKEN_IP, ip).await?;
        return Err(invalid_link());
    }
    let now = state.clock.now();
    let hash = tokens::hash(token);
    let mut conn = state.db.get().await?;
    let undone = conn
        .transaction::<_, AppError, _>(async |c| {
            let Some(undo) = account_changes::redeem_undo_token(c, &hash, now).await? else {
                return Ok(None);
            };
            let account = AccountId::from(undo.account_id);
            // Lock the row first: the restore and the lock are one change.
            accounts::find_for_update(c, undo.account_id).await?;
            let restored = if undo.purpose == UNDO_EMAIL {
                let email = EmailAddress::parse(&undo.email).map_err(|_| {
                    AppError::internal(anyhow::anyhow!("a stored undo address does not parse"))
                })?;
                account_changes::restore_email(c, undo.account_id, email.as_str(), now).await?
            } else {
                account_changes::restore_phone(
                    c,
                    undo.account_id,
                    undo.previous_phone.as_deref(),
                    undo.previous_phone_verified_at,
                    now,
                )
                .await?;
                sms::delete_verification(c, undo.account_id).await?;
                true
            };
            // What the intruder may hold: a pending address change, a reset
            // link, and undo links of later changes (sent to their address).
            account_changes::void_tokens(
                c,
                undo.account_id,
                &["verify_email", "reset_password"],
                None,
                now,
            )
            .await?;
            account_changes::void_tokens(
                c,
                undo.account_id,
                &[UNDO_EMAIL, UNDO_PHONE],
                Some(undo.created_at),
                now,
            )
            .await?;
            audit::record(
                c,
                account,
                "account_change_undone",
                client,
                serde_json::json!({ "change": undo.purpose, "restored": restored }),
                now,
            )
            .await?;
            lock_in(c, account, LockedBy::Holder, client, now).await?;
            Ok(Some(account))
        })
        .await?;
    let Some(account) = undone else {
        state.throttle.fail(&throttle::TOKEN_IP, ip).await?;
        return Err(invalid_link());
    };
    crate::identity::end_sessions(state, account, None).await
}
