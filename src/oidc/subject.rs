//! Subject identifiers (OpenID Connect Core §8): pairwise by default, so two
//! services cannot join their users; public (the account id) only for clients
//! an administrator marked trusted. A pairwise subject is an HMAC of the
//! client's sector and the account under a secret salt the provider generates
//! once and keeps sealed in PostgreSQL: without the salt, nobody can compute
//! another sector's subject from a known account id.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use uuid::Uuid;

use crate::oidc::Provider;
use crate::{
    domain::oauth::SubjectType,
    error::{AppError, AppResult},
    storage::oidc::{self as store, ClientRow},
};

/// The salt of pairwise subjects.
#[derive(Clone)]
pub struct PairwiseSalt([u8; 32]);

impl std::fmt::Debug for PairwiseSalt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PairwiseSalt(..)")
    }
}

const SALT_NAME: &str = "pairwise_subject_salt";

/// The sector a client's pairwise subjects belong to: the one an
/// administrator gave it, else the client itself.
pub fn sector_of(client: &ClientRow) -> &str {
    client
        .sector_identifier
        .as_deref()
        .unwrap_or(&client.client_id)
}

/// The subject identifier `client` sees for `account`.
pub fn subject_for(salt: &PairwiseSalt, client: &ClientRow, account: Uuid) -> String {
    if client.subject_type == SubjectType::Public {
        return account.to_string();
    }
    // HMAC accepts keys of any length; 32 bytes cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&salt.0) else {
        unreachable!("HMAC takes any key length")
    };
    mac.update(sector_of(client).as_bytes());
    mac.update(b"\n");
    mac.update(account.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// The provider's pairwise salt: read (or, the first time, generated) once per process.
pub async fn pairwise_salt(state: &Provider) -> AppResult<PairwiseSalt> {
    state
        .key_cache
        .pairwise_salt
        .get_or_try_init(|| async {
            let mut fresh = [0_u8; 32];
            rand::rng().fill_bytes(&mut fresh);
            let sealed = state.settings.keyring.seal(&fresh, SALT_NAME);
            let mut conn = state.db.get().await?;
            let stored =
                store::provider_secret(&mut conn, SALT_NAME, &sealed, state.clock.now()).await?;
            let bytes = state
                .settings
                .keyring
                .open(&stored, SALT_NAME)
                .map_err(|e| AppError::internal(anyhow::anyhow!("pairwise salt: {e}")))?;
            let salt: [u8; 32] = bytes
                .try_into()
                .map_err(|_| AppError::internal(anyhow::anyhow!("pairwise salt: wrong length")))?;
            Ok(PairwiseSalt(salt))
        })
        .await
        .cloned()
}

/// The subject `client` sees for `account`, with the provider's salt.
pub async fn subject(state: &Provider, client: &ClientRow, account: Uuid) -> AppResult<String> {
    Ok(subject_for(&pairwise_salt(state).await?, client, account))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: &str, sector: Option<&str>, subject_type: SubjectType) -> ClientRow {
        ClientRow {
            client_id: id.into(),
            secret_hash: None,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            scopes: vec![],
            subject_type,
            created_at: chrono::DateTime::UNIX_EPOCH,
            auth_method: crate::domain::oauth::AuthMethod::None,
            jwks: None,
            id_token_alg: crate::domain::oauth::IdTokenAlg::Rs256,
            require_par: false,
            sector_identifier: sector.map(str::to_owned),
            backchannel_logout_uri: None,
            resource_audience: None,
            client_name: None,
            logo_uri: None,
            policy_uri: None,
            dpop: crate::domain::oauth::DpopPolicy::Optional,
            profile: crate::domain::oauth::ClientProfile::Standard,
            pkce_required: true,
        }
    }

    #[test]
    fn pairwise_subjects_differ_by_sector_and_salt_and_agree_within_a_sector() {
        let account = Uuid::now_v7();
        let salt = PairwiseSalt([7; 32]);
        let a = subject_for(&salt, &client("a", None, SubjectType::Pairwise), account);
        let b = subject_for(&salt, &client("b", None, SubjectType::Pairwise), account);
        assert_ne!(a, b);
        let a1 = subject_for(
            &salt,
            &client("a1", Some("so-tu-phap"), SubjectType::Pairwise),
            account,
        );
        let a2 = subject_for(
            &salt,
            &client("a2", Some("so-tu-phap"), SubjectType::Pairwise),
            account,
        );
        assert_eq!(a1, a2);
        let other_salt = subject_for(
            &PairwiseSalt([8; 32]),
            &client("a", None, SubjectType::Pairwise),
            account,
        );
        assert_ne!(a, other_salt);
        assert!(!a.contains(&account.to_string()));
        assert_eq!(
            subject_for(&salt, &client("t", None, SubjectType::Public), account),
            account.to_string()
        );
    }
}
