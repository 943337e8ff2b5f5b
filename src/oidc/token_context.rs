//! The person behind an access token, sealed so that only this server can
//! read it. A token carries one opaque claim (`ctx`): the account id and the
//! business acted for, encrypted with AES-256-GCM under a provider key and a
//! fresh random nonce, bound to the token's `jti`. Every token's blob
//! differs, two clients (or a client and a resource server) cannot join
//! their users through it, and the API recovers the account without a
//! database write per token. The key is generated once, kept sealed under
//! the vault master key in `oidc_provider_secrets` (like the pairwise salt),
//! and cached per process.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::oidc::Provider;
use crate::{
    crypto::keyring::DataKey,
    error::{AppError, AppResult},
    storage::oidc as store,
};

const KEY_NAME: &str = "access_token_context_key";
/// Version prefix of the sealed form.
const VERSION: &str = "c1";

/// What a sealed context holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenContext {
    /// The account.
    pub account: Uuid,
    /// The business the person acts for in this grant.
    pub acting_for: Option<Uuid>,
}

/// The provider key of token contexts, read (or, the first time, generated)
/// once per process.
async fn key(state: &Provider) -> AppResult<&DataKey> {
    state
        .key_cache
        .token_context_key
        .get_or_try_init(|| async {
            let (_, sealed) = DataKey::generate(&state.settings.keyring, KEY_NAME);
            let mut conn = state.db.get().await?;
            let stored =
                store::provider_secret(&mut conn, KEY_NAME, &sealed, state.clock.now()).await?;
            DataKey::open(&state.settings.keyring, &stored, KEY_NAME)
                .map_err(|e| AppError::internal(anyhow::anyhow!("token context key: {e}")))
        })
        .await
}

fn aad(jti: &str) -> String {
    format!("access_token:{jti}")
}

/// Seals `context` for the token `jti`.
pub async fn seal(state: &Provider, context: TokenContext, jti: &str) -> AppResult<String> {
    let mut plain = Vec::with_capacity(32);
    plain.extend_from_slice(context.account.as_bytes());
    if let Some(business) = context.acting_for {
        plain.extend_from_slice(business.as_bytes());
    }
    let sealed = key(state).await?.encrypt(&plain, &aad(jti));
    Ok(format!("{VERSION}.{}", URL_SAFE_NO_PAD.encode(sealed)))
}

/// Opens the context of the token `jti`; `None` if it was not sealed by us
/// for this token.
pub async fn open(state: &Provider, sealed: &str, jti: &str) -> AppResult<Option<TokenContext>> {
    let Some(body) = sealed
        .strip_prefix(VERSION)
        .and_then(|s| s.strip_prefix('.'))
    else {
        return Ok(None);
    };
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(body) else {
        return Ok(None);
    };
    let Ok(plain) = key(state).await?.decrypt(&bytes, &aad(jti)) else {
        return Ok(None);
    };
    let uuid_at = |i: usize| {
        plain
            .get(i..i + 16)
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .map(Uuid::from_bytes)
    };
    Ok(match plain.len() {
        16 => uuid_at(0).map(|account| TokenContext {
            account,
            acting_for: None,
        }),
        32 => uuid_at(0).map(|account| TokenContext {
            account,
            acting_for: uuid_at(16),
        }),
        _ => None,
    })
}
