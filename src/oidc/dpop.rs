//! DPoP (RFC 9449) at our endpoints: a proof checked by
//! [`crate::domain::oauth::dpop`], then its server nonce (always required:
//! a proof cannot be made ahead of time) and the novelty of its `jti`
//! (remembered in Redis for as long as the proof could be accepted, per
//! key). The token endpoint applies the client's policy; the JSON API and
//! UserInfo check a DPoP-bound token's proof and its `ath`.

use crate::{
    crypto::tokens,
    domain::oauth::{
        DpopPolicy,
        dpop::{self, DpopRefusal, Expected, JTI_MEMORY, Proof},
    },
    error::{AppError, AppResult},
    infra::Core,
    oidc::{Provider, error::OAuthError},
    storage::{oidc as store, oidc::ClientRow},
};

/// The name of the HTTP header of proofs and of server nonces' answer.
pub const DPOP_HEADER: &str = "DPoP";
/// The header a server nonce is given in.
pub const NONCE_HEADER: &str = "DPoP-Nonce";
const NONCE_KEY_NAME: &str = "dpop_nonce_key";

/// Why a proof is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DpopFailure {
    /// The proof itself is wrong.
    Invalid(&'static str),
    /// The proof has no (or a stale) server nonce: retry with the one given.
    UseNonce,
}

impl DpopFailure {
    fn refused(why: DpopRefusal) -> Self {
        Self::Invalid(why.description())
    }

    /// As the token endpoint and PAR answer it (RFC 9449 §5, §8).
    pub fn oauth(self) -> OAuthError {
        match self {
            Self::Invalid(why) => OAuthError::new("invalid_dpop_proof", why),
            Self::UseNonce => OAuthError::new(
                "use_dpop_nonce",
                "authorization server requires nonce in DPoP proof",
            ),
        }
    }
}

/// The key of server nonces, read (or, the first time, generated) once per process.
async fn nonce_key(state: &Provider) -> AppResult<[u8; 32]> {
    state
        .key_cache
        .dpop_nonce_key
        .get_or_try_init(|| async {
            let mut fresh = [0_u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut fresh);
            let sealed = state.settings.keyring.seal(&fresh, NONCE_KEY_NAME);
            let mut conn = state.db.get().await?;
            let stored =
                store::provider_secret(&mut conn, NONCE_KEY_NAME, &sealed, state.clock.now())
                    .await?;
            let bytes = state
                .settings
                .keyring
                .open(&stored, NONCE_KEY_NAME)
                .map_err(|e| AppError::internal(anyhow::anyhow!("dpop nonce key: {e}")))?;
            bytes
                .try_into()
                .map_err(|_| AppError::internal(anyhow::anyhow!("dpop nonce key: wrong length")))
        })
        .await
        .copied()
}

/// A fresh server nonce, for the `DPoP-Nonce` header.
pub async fn nonce(state: &Provider) -> AppResult<String> {
    Ok(dpop::nonce_for(&nonce_key(state).await?, state.clock.now()))
}

/// The public URL of `path` at this server (what `htu` names).
pub fn url_of(state: &Core, path: &str) -> String {
    format!("{}{path}", state.settings.issuer())
}

/// Remembers a proof's `jti` for its key; `false` if it was seen already.
async fn first_use(state: &Core, proof: &Proof) -> AppResult<bool> {
    let key = state.kv.key(&format!(
        "dpop_jti:{}",
        tokens::hash_hex(&format!("{}\n{}", proof.jkt, proof.jti))
    ));
    let mut kv = state.kv.conn().await?;
    let ttl = u64::try_from(JTI_MEMORY.num_seconds()).unwrap_or(75);
    let fresh: bool = redis::cmd("SET")
        .arg(&key)
        .arg(1)
        .arg("NX")
        .arg("EX")
        .arg(ttl)
        .query_async::<Option<String>>(&mut kv)
        .await?
        .is_some();
    Ok(fresh)
}

/// Checks one proof for `expected`: the proof, its nonce, its `jti`.
pub async fn verify(
    state: &Provider,
    proof: &str,
    expected: &Expected<'_>,
) -> Result<Result<Proof, DpopFailure>, AppError> {
    let checked = match dpop::check(proof, expected) {
        Ok(checked) => checked,
        Err(why) => return Ok(Err(DpopFailure::refused(why))),
    };
    let key = nonce_key(state).await?;
    if !checked
        .nonce
        .as_deref()
        .is_some_and(|n| dpop::nonce_valid(&key, n, expected.now))
    {
        return Ok(Err(DpopFailure::UseNonce));
    }
    if !first_use(state, &checked).await? {
        return Ok(Err(DpopFailure::Invalid("the DPoP proof was used before")));
    }
    Ok(Ok(checked))
}

/// The proof header of a request: none, or exactly one (two are refused).
pub fn single_header(values: &[&str]) -> Result<Option<String>, DpopFailure> {
    match values {
        [] => Ok(None),
        [one] => Ok(Some((*one).to_owned())),
        _ => Err(DpopFailure::Invalid("exactly one DPoP header is allowed")),
    }
}

/// The key a token request is bound to, by the client's policy: a
/// required proof missing is refused; a proof from a client with DPoP off
/// is ignored (its tokens are bearer tokens).
pub async fn for_token_request(
    state: &Provider,
    client: &ClientRow,
    proof: Option<&str>,
    path: &str,
) -> Result<Option<Proof>, OAuthError> {
    match (client.dpop, proof) {
        (DpopPolicy::Off, _) => Ok(None),
        (DpopPolicy::Required, None) => Err(OAuthError::new(
            "invalid_dpop_proof",
            "this client must send a DPoP proof",
        )),
        (DpopPolicy::Optional, None) => Ok(None),
        (_, Some(proof)) => posted_proof(state, proof, path).await.map(Some),
    }
}

/// Checks the proof of a POST to our endpoint at `path` (token, PAR).
pub async fn posted_proof(state: &Provider, proof: &str, path: &str) -> Result<Proof, OAuthError> {
    let url = url_of(state, path);
    let expected = Expected {
        method: "POST",
        url: &url,
        now: state.clock.now(),
        access_token: None,
    };
    verify(state, proof, &expected)
        .await?
        .map_err(DpopFailure::oauth)
}

/// The key a pushed request binds its code to (RFC 9449 §10.1): the
/// proof's, which must agree with a `dpop_jkt` sent beside it.
pub async fn for_pushed_request(
    state: &Provider,
    client: &ClientRow,
    proof: Option<&str>,
    dpop_jkt: Option<&str>,
    path: &str,
) -> Result<Option<String>, OAuthError> {
    let Some(proof) = proof.filter(|_| client.dpop != DpopPolicy::Off) else {
        return Ok(dpop_jkt.map(str::to_owned));
    };
    let proven = posted_proof(state, proof, path).await?;
    if dpop_jkt.is_some_and(|jkt| jkt != proven.jkt) {
        return Err(OAuthError::new(
            "invalid_dpop_proof",
            "dpop_jkt does not match the DPoP proof's key",
        ));
    }
    Ok(Some(proven.jkt))
}

/// A grant bound to `bound` (a code's `dpop_jkt`, a refresh token's key)
/// needs a proof of that key (`proven`: the key of the request's proof).
pub fn require_key(bound: Option<&str>, proven: Option<&str>) -> Result<(), OAuthError> {
    match (bound, proven) {
        (None, _) => Ok(()),
        (Some(_), None) => Err(OAuthError::new(
            "invalid_dpop_proof",
            "this grant is bound to a DPoP key: send a proof of it",
        )),
        (Some(jkt), Some(proven)) if tokens::equal(jkt, proven) => Ok(()),
        (Some(_), Some(_)) => Err(OAuthError::new(
            "invalid_dpop_proof",
            "the DPoP proof is signed with another key than the grant is bound to",
        )),
    }
}
