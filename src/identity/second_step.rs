//! The second step of a sign-in, and the step-up of a session: after a
//! password, a passkey or a six-digit code sent to the verified email.
//!
//! A password sign-in of an account that has passkeys does not open a
//! session: it opens a *pending sign-in* (Redis, ten minutes, its own
//! cookie) that only the second step turns into a session. A signed-in
//! session whose sign-in is not strong enough (a client asks for level 2,
//! or a sensitive action needs a recent strong sign-in) takes the same
//! step and gets a new token with the same `sid`, the new method and time.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::identity::Identity;
use crate::infra::Core;
use crate::{
    crypto::tokens,
    domain::{AccountId, assurance::Method},
    error::{AppError, AppResult, ErrorKind},
    identity::{emails, registration::spend_quota, sessions::Session, throttle},
    notify::{outbox::Envelope, queue_email},
    storage::accounts,
};

/// How long a pending sign-in and a code live.
pub const STEP_TTL: Duration = Duration::minutes(10);
/// Wrong codes allowed before the code is void.
pub const MAX_CODE_TRIES: u32 = 5;

/// A password sign-in waiting for its second step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// Who.
    pub account_id: AccountId,
    /// The account's proven level.
    pub level: u8,
    /// What was used so far (the password).
    pub methods: Vec<Method>,
    /// When it began.
    pub created_at: DateTime<Utc>,
}

/// A sign-in waiting for its second step (a citizen's or a civil
/// servant's), kept in Redis under the SHA-256 of its cookie token for
/// [`STEP_TTL`].
pub trait Pending: Serialize + serde::de::DeserializeOwned {
    /// Key prefix of this kind.
    const KIND: &'static str;
    /// When the first step succeeded.
    fn created_at(&self) -> DateTime<Utc>;
}

impl Pending for PendingSignIn {
    const KIND: &'static str = "signin_pending";
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

fn pending_key<P: Pending>(state: &Core, token: &str) -> String {
    state
        .kv
        .key(&format!("{}:{}", P::KIND, tokens::hash_hex(token)))
}

fn code_key(state: &Core, subject: &str) -> String {
    state
        .kv
        .key(&format!("signin_code:{}", tokens::hash_hex(subject)))
}

fn ttl_secs() -> u64 {
    u64::try_from(STEP_TTL.num_seconds()).unwrap_or(600)
}

/// Opens a pending sign-in; returns its cookie token.
pub async fn begin<P: Pending>(state: &Core, pending: &P) -> AppResult<String> {
    let token = tokens::generate();
    let body = serde_json::to_string(pending).map_err(AppError::internal)?;
    let mut kv = state.kv.conn().await?;
    let _: () =
        redis::AsyncCommands::set_ex(&mut kv, pending_key::<P>(state, &token), body, ttl_secs())
            .await?;
    Ok(token)
}

/// The pending sign-in of a cookie token, if still open.
pub async fn pending<P: Pending>(state: &Core, token: &str) -> AppResult<Option<P>> {
    if !tokens::well_formed(token) {
        return Ok(None);
    }
    let mut kv = state.kv.conn().await?;
    let raw: Option<String> =
        redis::AsyncCommands::get(&mut kv, pending_key::<P>(state, token)).await?;
    Ok(raw
        .and_then(|r| serde_json::from_str::<P>(&r).ok())
        .filter(|p| state.clock.now() - p.created_at() <= STEP_TTL))
}

/// Closes a pending sign-in (once: a second use finds nothing).
pub async fn finish<P: Pending>(state: &Core, token: &str) -> AppResult<Option<P>> {
    if !tokens::well_formed(token) {
        return Ok(None);
    }
    let mut kv = state.kv.conn().await?;
    let raw: Option<String> = redis::cmd("GETDEL")
        .arg(pending_key::<P>(state, token))
        .query_async(&mut kv)
        .await?;
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
}

/// A stored code: its hash, and the wrong tries so far.
#[derive(Debug, Serialize, Deserialize)]
struct StoredCode {
    hash: String,
    tries: u32,
    created_at: DateTime<Utc>,
}

fn code_hash(account: AccountId, code: &str) -> String {
    tokens::hash_hex(&format!("{account}:{code}"))
}

/// Sends a six-digit code to the account's verified email for the step of
/// `subject` (a pending sign-in's or a session's token). Sending is limited
/// per account like every email we send on request.
pub async fn send_code(state: &Identity, account: AccountId, subject: &str) -> AppResult<()> {
    spend_quota(
        state,
        &throttle::EMAIL_SENDING_RECIPIENT,
        &format!("signin-code:{account}"),
    )
    .await?;
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let row = accounts::find(&mut conn, account.as_uuid()).await?;
    let Some(email) = crate::identity::verified_email(&row) else {
        return Err(AppError::new(ErrorKind::Conflict, "no_verified_email").with_detail(
            "Tài khoản chưa có email đã xác minh để nhận mã. Vui lòng dùng passkey, VNeID hoặc đến bộ phận một cửa.",
        ));
    };
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
    let stored = StoredCode {
        hash: code_hash(account, &code),
        tries: 0,
        created_at: now,
    };
    let mut kv = state.kv.conn().await?;
    let _: () = redis::AsyncCommands::set_ex(
        &mut kv,
        code_key(state, subject),
        serde_json::to_string(&stored).map_err(AppError::internal)?,
        ttl_secs(),
    )
    .await?;
    let domain = state.settings.mail_domain();
    queue_email(
        &mut conn,
        now,
        &Envelope {
            to: &email,
            account_id: Some(row.id),
            mail_domain: &domain,
        },
        &emails::SignInCode {
            full_name: row.full_name.clone(),
            code,
        },
    )
    .await?;
    Ok(())
}

/// 401: the action needs a recent strong sign-in (RFC 9470's challenge for
/// bearer callers: sign in again asking for a strong sign-in, at most ten
/// minutes old).
pub fn step_up_required() -> AppError {
    AppError::new(ErrorKind::Unauthorized, "step_up_required")
        .with_detail("Thao tác này cần xác thực mạnh trong 10 phút gần nhất: passkey, VNeID, hoặc mật khẩu kèm mã xác thực gửi qua email.")
        .with_header(
            actix_web::http::header::WWW_AUTHENTICATE,
            format!(
                "Bearer error=\"insufficient_user_authentication\", error_description=\"A recent strong sign-in is required\", acr_values=\"{}\", max_age={}",
                crate::domain::assurance::ACR_MFA,
                crate::domain::assurance::RECENT_STRONG.num_seconds()
            ),
        )
}

fn wrong_code() -> AppError {
    AppError::new(ErrorKind::Unauthorized, "code_invalid").with_detail(
        "Mã xác thực không đúng hoặc đã hết hạn. Vui lòng kiểm tra email hoặc gửi mã mới.",
    )
}

/// Checks a code for the step of `subject`: right once; wrong tries count
/// with the password failures of the account, and void the code after five.
pub async fn check_code(
    state: &Identity,
    account: AccountId,
    subject: &str,
    code: &str,
) -> AppResult<()> {
    let throttle_subject = throttle::account_subject(account);
    if let Some(wait) = state
        .throttle
        .reserve(&throttle::SIGN_IN_ACCOUNT, &throttle_subject)
        .await?
    {
        return Err(throttle::sign_in_locked(wait));
    }
    let key = code_key(state, subject);
    let mut kv = state.kv.conn().await?;
    let raw: Option<String> = redis::AsyncCommands::get(&mut kv, &key).await?;
    let Some(mut stored) = raw.and_then(|r| serde_json::from_str::<StoredCode>(&r).ok()) else {
        return Err(wrong_code());
    };
    let now = state.clock.now();
    let code = code.trim();
    let right = code.len() == 6
        && code.bytes().all(|b| b.is_ascii_digit())
        && tokens::equal(&stored.hash, &code_hash(account, code));
    if right && now - stored.created_at <= STEP_TTL {
        // Used once: a second use of the same code finds nothing.
        let taken: Option<String> = redis::cmd("GETDEL").arg(&key).query_async(&mut kv).await?;
        if taken.is_none() {
            return Err(wrong_code());
        }
        state
            .throttle
            .reset(&throttle::SIGN_IN_ACCOUNT, &throttle_subject)
            .await?;
        return Ok(());
    }
    stored.tries += 1;
    if stored.tries >= MAX_CODE_TRIES {
        let _: () = redis::AsyncCommands::del(&mut kv, &key).await?;
    } else {
        let _: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(serde_json::to_string(&stored).map_err(AppError::internal)?)
            .arg("XX")
            .arg("KEEPTTL")
            .query_async(&mut kv)
            .await?;
    }
    Err(wrong_code())
}

/// The session a completed pending sign-in opens.
pub fn session_for(
    pending: &PendingSignIn,
    added: Method,
    client: &crate::identity::ClientInfo,
    now: DateTime<Utc>,
) -> Session {
    Session {
        account_id: pending.account_id,
        level: pending.level,
        acting_for: None,
        methods: crate::domain::assurance::with_method(&pending.methods, added),
        authenticated_at: now,
        created_at: now,
        last_seen_at: now,
        user_agent: client.user_agent.clone(),
        ip: client.ip.clone(),
    }
}

/// A session after a step-up: the added method, authenticated now (the same
/// `created_at`, so the same `sid`).
pub fn stepped_up(session: &Session, added: Method, now: DateTime<Utc>) -> Session {
    Session {
        methods: crate::domain::assurance::with_method(&session.methods, added),
        authenticated_at: now,
        last_seen_at: now,
        ..session.clone()
    }
}
