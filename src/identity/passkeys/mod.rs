//! Passkeys (WebAuthn): the relying party, its ceremonies' state, and the
//! checks around them that the library leaves to us.
//!
//! The ceremonies themselves (origin, RP id, challenge, user verification,
//! signature, counter) are verified by `webauthn-rs`. Around them we keep:
//! - each challenge in Redis for five minutes, taken once (`GETDEL`: a
//!   replayed response finds nothing), bound to the browser session or
//!   sign-in that asked for it, and to the owner for registrations and
//!   second steps;
//! - one owner per credential id in the whole system (a unique index);
//! - the signature counter advanced atomically in PostgreSQL, so two uses
//!   of one counter value (a clone, or a replay racing the original) cannot
//!   both pass;
//! - failures counted by the sign-in throttle, with the passwords' failures.

pub mod ceremony;
pub mod manage;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::identity::Identity;
use crate::infra::Core;
use crate::{
    config::WebauthnSettings,
    crypto::tokens,
    error::{AppError, AppResult, ErrorKind},
    storage::passkeys::Owner,
};

/// How long a challenge may wait for its answer.
pub const CHALLENGE_TTL: Duration = Duration::minutes(5);
/// How many passkeys one owner may register.
pub const MAX_PER_OWNER: i64 = 10;
/// The longest name a passkey may have (characters).
pub const MAX_NAME_CHARS: usize = 64;

/// The relying party: who we are to authenticators.
pub struct RelyingParty {
    webauthn: Webauthn,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty").finish_non_exhaustive()
    }
}

impl RelyingParty {
    /// Builds the relying party; `None` (passkeys off, with a warning) when
    /// the settings cannot name one (an IP address as the public host).
    pub fn build(settings: &WebauthnSettings) -> Option<Arc<Self>> {
        let (first, others) = settings.origins.split_first()?;
        let mut builder = match WebauthnBuilder::new(&settings.rp_id, first) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(rp_id = %settings.rp_id, error = %e, "passkeys are off: set WEBAUTHN_RP_ID to a domain name");
                return None;
            }
        };
        for origin in others {
            builder = builder.append_allowed_origin(origin);
        }
        match builder.rp_name(&settings.rp_name).build() {
            Ok(webauthn) => Some(Arc::new(Self { webauthn })),
            Err(e) => {
                tracing::warn!(error = %e, "passkeys are off: the WebAuthn settings are not usable");
                None
            }
        }
    }

    pub(crate) fn webauthn(&self) -> &Webauthn {
        &self.webauthn
    }
}

/// The relying party, or 404 when passkeys are off on this server.
pub fn relying_party(state: &Identity) -> AppResult<&RelyingParty> {
    state.passkeys.as_deref().ok_or_else(|| {
        AppError::not_found("passkeys_unavailable")
            .with_detail("Máy chủ này chưa bật đăng nhập bằng passkey.")
    })
}

/// What a challenge was issued for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Purpose {
    /// Registering a new passkey for this owner.
    Register {
        /// Whose.
        owner: OwnerRef,
    },
    /// Signing in with any discoverable passkey (no name typed).
    SignIn,
    /// Proving it is this owner (a second step, a step-up).
    Confirm {
        /// Who must answer.
        owner: OwnerRef,
    },
}

/// An owner as challenges store it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum OwnerRef {
    /// A citizen's account.
    Account(uuid::Uuid),
    /// A civil servant.
    Staff(uuid::Uuid),
}

impl From<Owner> for OwnerRef {
    fn from(o: Owner) -> Self {
        match o {
            Owner::Account(id) => Self::Account(id),
            Owner::Staff(id) => Self::Staff(id),
        }
    }
}

impl From<OwnerRef> for Owner {
    fn from(o: OwnerRef) -> Self {
        match o {
            OwnerRef::Account(id) => Self::Account(id),
            OwnerRef::Staff(id) => Self::Staff(id),
        }
    }
}

/// A challenge waiting for its answer (in Redis).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Pending {
    pub purpose: Purpose,
    /// SHA-256 (hex) of the secret that binds it to one browser.
    pub binding: String,
    /// The library's ceremony state.
    pub state: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

fn challenge_key(state: &Core, id: &str) -> String {
    state.kv.key(&format!("webauthn:{}", tokens::hash_hex(id)))
}

/// Stores a ceremony's state; returns the challenge id the client sends back.
pub(crate) async fn put_pending(state: &Core, pending: &Pending) -> AppResult<String> {
    let id = tokens::generate();
    let body = serde_json::to_string(pending).map_err(AppError::internal)?;
    let mut kv = state.kv.conn().await?;
    let ttl = u64::try_from(CHALLENGE_TTL.num_seconds()).unwrap_or(300);
    let _: () = redis::AsyncCommands::set_ex(&mut kv, challenge_key(state, &id), body, ttl).await?;
    Ok(id)
}

/// Takes a ceremony's state (once), checking the browser binding and the
/// lifetime: a replayed, foreign or stale challenge is refused.
pub(crate) async fn take_pending(state: &Core, id: &str, binding: &str) -> AppResult<Pending> {
    if !tokens::well_formed(id) {
        return Err(challenge_expired());
    }
    let mut kv = state.kv.conn().await?;
    let raw: Option<String> = redis::cmd("GETDEL")
        .arg(challenge_key(state, id))
        .query_async(&mut kv)
        .await?;
    let pending: Pending = raw
        .and_then(|r| serde_json::from_str(&r).ok())
        .ok_or_else(challenge_expired)?;
    let fresh = state.clock.now() - pending.created_at <= CHALLENGE_TTL;
    if !fresh || !tokens::equal(&pending.binding, &tokens::hash_hex(binding)) {
        return Err(challenge_expired());
    }
    Ok(pending)
}

/// 400: the challenge is unknown, used, stale, or another browser's.
pub fn challenge_expired() -> AppError {
    AppError::bad_request("passkey_challenge_expired").with_detail(
        "Yêu cầu xác thực bằng passkey đã hết hạn hoặc không hợp lệ. Vui lòng thử lại.",
    )
}

/// 422: a registration the library (or we) refused.
pub fn invalid_registration(why: &str) -> AppError {
    tracing::info!(reason = why, "passkey registration refused");
    AppError::new(ErrorKind::Unprocessable, "passkey_invalid")
        .with_detail("Passkey không hợp lệ hoặc thiết bị dùng thuật toán không được hỗ trợ. Vui lòng thử lại với thiết bị khác.")
}

/// 401: an assertion that does not prove the owner.
pub fn invalid_assertion(why: &str) -> AppError {
    tracing::info!(reason = why, "passkey assertion refused");
    AppError::new(ErrorKind::Unauthorized, "passkey_invalid").with_detail(
        "Không xác thực được bằng passkey này. Vui lòng thử lại hoặc đăng nhập bằng mật khẩu.",
    )
}

/// Refuses oversized fields before any parsing: a client's data over 4 KiB,
/// an attestation over 64 KiB, an assertion's fields over 4 KiB.
pub(crate) fn check_sizes(credential: &serde_json::Value, registration: bool) -> AppResult<()> {
    let response = credential.get("response");
    let len = |name: &str| {
        response
            .and_then(|r| r.get(name))
            .and_then(serde_json::Value::as_str)
            .map_or(0, str::len)
    };
    // Base64 of 4 KiB is under 5,500 characters.
    let too_big = len("clientDataJSON") > 5_500
        || len("authenticatorData") > 5_500
        || len("signature") > 1_500
        || len("userHandle") > 200
        || len("attestationObject") > 90_000
        || credential
            .get("rawId")
            .and_then(serde_json::Value::as_str)
            .map_or(0, str::len)
            > 1_400;
    match (too_big, registration) {
        (false, _) => Ok(()),
        (true, true) => Err(invalid_registration("oversized")),
        (true, false) => Err(invalid_assertion("oversized")),
    }
}

/// A passkey's name as given: trimmed, 1 to 64 characters, no control characters.
pub fn clean_name(raw: &str) -> AppResult<String> {
    let name: String = raw.trim().to_owned();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(
            AppError::new(ErrorKind::Unprocessable, "passkey_name_invalid")
                .with_detail("Tên passkey phải có từ 1 đến 64 ký tự."),
        );
    }
    Ok(name)
}
