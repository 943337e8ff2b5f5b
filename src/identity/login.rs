//! Password sign-in: throttled per account name and per client address,
//! generic failures, audit events, hash upgrades, new-device emails.

use diesel_async::AsyncConnection;
use secrecy::SecretString;

use crate::identity::Identity;
use crate::infra::Core;
use crate::{
    domain::{AccountId, EmailAddress, assurance::Method, national_id::NationalId},
    error::{AppError, AppResult, ErrorKind},
    identity::{
        ClientInfo, audit, emails, password::Verification, second_step, sessions::Session, throttle,
    },
    notify::{outbox::Envelope, queue_email},
    storage::accounts::{self, AccountRow},
};

/// A right password: a session, or a second step first.
#[derive(Debug)]
pub struct SignedIn {
    /// The account.
    pub account: AccountRow,
    /// What the browser gets.
    pub next: Next,
}

/// What a right password opens.
#[derive(Debug)]
pub enum Next {
    /// A session (cookie token): the account has no passkey.
    Session(String),
    /// A pending sign-in (cookie token) waiting for a passkey or an email
    /// code: the account has passkeys, so a password alone is not enough.
    SecondStep(String),
}

/// The one answer for a wrong name or password, whichever it was.
pub fn invalid_credentials() -> AppError {
    AppError::new(ErrorKind::Unauthorized, "invalid_credentials")
        .with_detail("Tên đăng nhập hoặc mật khẩu không đúng.")
}

/// The counter a sign-in name uses: the account's own when the name designates
/// one (so its national ID and its email share it), else the normalised name.
fn throttle_subject(account: Option<&AccountRow>, username: &str) -> String {
    match account {
        Some(account) => throttle::account_subject(AccountId::from(account.id)),
        None => throttle::name_subject(username),
    }
}

/// Reserves one password check for `subject` (atomically, before hashing):
/// 429 while it is locked. A success must reset the counter.
pub async fn reserve_attempt(state: &Identity, subject: &str) -> AppResult<()> {
    match state
        .throttle
        .reserve(&throttle::SIGN_IN_ACCOUNT, subject)
        .await?
    {
        Some(wait) => Err(throttle::sign_in_locked(wait)),
        None => Ok(()),
    }
}

/// Finds the account a sign-in name designates: a national ID or a verified email.
async fn find_account(state: &Core, username: &str) -> AppResult<Option<AccountRow>> {
    let mut conn = state.db.get().await?;
    if let Ok(id) = NationalId::parse(username) {
        return Ok(accounts::find_by_national_id(&mut conn, id.as_str()).await?);
    }
    if let Ok(email) = EmailAddress::parse(username) {
        return Ok(accounts::find_by_verified_email(&mut conn, email.as_str()).await?);
    }
    Ok(None)
}

/// Signs in with a national ID or email and a password.
pub async fn sign_in(
    state: &Identity,
    username: &str,
    password: SecretString,
    client: &ClientInfo,
) -> AppResult<SignedIn> {
    let ip = client.ip.clone().unwrap_or_else(|| "-".into());
    if let Some(wait) = state
        .throttle
        .locked_for(&throttle::SIGN_IN_IP, &ip)
        .await?
    {
        return Err(throttle::sign_in_locked(wait));
    }
    // Resolve the name first, so every name of one account counts together,
    // then reserve the attempt before any hashing: parallel guesses cannot
    // all pass a check made before the first of them failed.
    let account = find_account(state, username).await?;
    let subject = throttle_subject(account.as_ref(), username);
    reserve_attempt(state, &subject).await?;
    let verification = state
        .hasher
        .verify(
            account.as_ref().and_then(|a| a.password_hash.clone()),
            password,
        )
        .await?;
    let now = state.clock.now();
    let (account, upgraded) = match (account, verification) {
        (Some(account), Verification::Match { upgraded }) => (account, upgraded),
        (account, _) => {
            // The reservation already counted this failure for the account.
            state.throttle.fail(&throttle::SIGN_IN_IP, &ip).await?;
            if let Some(account) = account {
                let mut conn = state.db.get().await?;
                audit::record(
                    &mut conn,
                    AccountId::from(account.id),
                    "sign_in_failed",
                    client,
                    serde_json::json!({ "method": "pwd" }),
                    now,
                )
                .await?;
            }
            return Err(invalid_credentials());
        }
    };
    // The password is right: forget the failures, and from here on the
    // answer may say what is wrong.
    state
        .throttle
        .reset(&throttle::SIGN_IN_ACCOUNT, &subject)
        .await?;
    check_status(&account)?;
    let id = AccountId::from(account.id);
    let level = u8::try_from(account.assurance_level).unwrap_or(1);
    let mut conn = state.db.get().await?;
    let passkeys = crate::storage::passkeys::count(
        &mut conn,
        crate::storage::passkeys::Owner::Account(account.id),
    )
    .await?;
    drop(conn);
    if passkeys > 0 {
        if let Some(hash) = &upgraded {
            let mut conn = state.db.get().await?;
            accounts::set_password_hash(&mut conn, account.id, hash, false, now).await?;
        }
        let token = second_step::begin(
            state,
            &second_step::PendingSignIn {
                account_id: id,
                level,
                methods: vec![Method::Pwd],
                created_at: now,
            },
        )
        .await?;
        return Ok(SignedIn {
            account,
            next: Next::SecondStep(token),
        });
    }
    let session = Session {
        account_id: id,
        level,
        acting_for: None,
        methods: vec![Method::Pwd],
        authenticated_at: now,
        created_at: now,
        last_seen_at: now,
        user_agent: client.user_agent.clone(),
        ip: client.ip.clone(),
    };
    complete_sign_in(state, &account, upgraded, client, &session.methods).await?;
    let session_token = state.sessions.create(&session).await?;
    Ok(SignedIn {
        account,
        next: Next::Session(session_token),
    })
}

/// Refuses an account that may not sign in (not yet activated, or locked).
pub fn check_status(account: &AccountRow) -> AppResult<()> {
    match account.status.as_str() {
        "pending" => Err(AppError::new(ErrorKind::Forbidden, "email_not_verified").with_detail(
            "Tài khoản chưa được kích hoạt: vui lòng mở liên kết xác minh đã gửi tới email của bạn.",
        )),
        "disabled" => Err(AppError::new(ErrorKind::Forbidden, "account_disabled")
            .with_detail("Tài khoản đã bị khóa. Vui lòng liên hệ bộ phận hỗ trợ.")),
        _ => Ok(()),
    }
}

/// Records a successful sign-in (audit event, hash upgrade, new-device email).
pub async fn complete_sign_in(
    state: &Core,
    account: &AccountRow,
    upgraded_hash: Option<String>,
    client: &ClientInfo,
    methods: &[Method],
) -> AppResult<()> {
    let now = state.clock.now();
    let id = AccountId::from(account.id);
    let domain = state.settings.mail_domain();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        if let Some(hash) = &upgraded_hash {
            accounts::set_password_hash(c, account.id, hash, false, now).await?;
        }
        let device = crate::crypto::tokens::hash(client.user_agent.as_deref().unwrap_or("-"));
        let seen = accounts::record_device(c, account.id, &device, now).await?;
        audit::record(
            c,
            id,
            "sign_in_succeeded",
            client,
            serde_json::json!({
                "method": methods.first().map(|m| m.amr()),
                "amr": crate::domain::assurance::amr(methods),
                "signed_in_with": crate::domain::assurance::describe(methods),
            }),
            now,
        )
        .await?;
        let verified_email = crate::identity::verified_email(account);
        // The first device is the one the account was made on: no alert for it.
        if seen.new_device
            && seen.prior_devices > 0
            && let Some(email) = verified_email
        {
            queue_email(
                c,
                now,
                &Envelope {
                    to: &email,
                    account_id: Some(account.id),
                    mail_domain: &domain,
                },
                &emails::NewSignIn {
                    full_name: account.full_name.clone(),
                    at: emails::vietnam_time(now),
                    device: client
                        .user_agent
                        .clone()
                        .unwrap_or_else(|| "không rõ".into()),
                    ip: client.ip.clone().unwrap_or_else(|| "không rõ".into()),
                },
            )
            .await?;
        }
        Ok(())
    })
    .await
}
