//! Relying parties (clients), registered by an administrator: exact redirect
//! URIs, allowed scopes, confidential (a secret, stored as SHA-256: secrets
//! are high-entropy) or public (the mobile app, PKCE only), pairwise or
//! public subject identifiers.

use crate::error::Code;
use crate::infra::Core;
use crate::oidc::Provider;
use crate::{
    crypto::tokens,
    domain::oauth::{AuthMethod, registration},
    error::{AppError, AppResult, FieldErrors},
    storage::oidc::{self as store, ClientRow},
};

pub use crate::domain::oauth::registration::{
    KNOWN_SCOPES, NewClient, VAULT_SCOPES, is_known_scope,
};

/// Every scope, for discovery.
pub fn supported_scopes() -> Vec<&'static str> {
    KNOWN_SCOPES.iter().chain(&VAULT_SCOPES).copied().collect()
}

/// What registration returns: the row and, for confidential clients, the secret (shown once).
#[derive(Debug)]
pub struct Registered {
    /// The stored client.
    pub client: ClientRow,
    /// The secret, if confidential.
    pub secret: Option<String>,
}

/// Registers a client (validated by [`registration::validate`]).
pub async fn register(state: &Core, new: NewClient) -> AppResult<Registered> {
    let settled = match registration::validate(&new) {
        Ok(settled) => settled,
        Err(problems) => {
            let mut errors = FieldErrors::default();
            for (field, problem) in problems {
                errors.push(field, problem);
            }
            errors.into_result()?;
            return Err(AppError::internal(anyhow::anyhow!(
                "registration refused without a reason"
            )));
        }
    };
    let secret = (settled.auth_method == AuthMethod::ClientSecret)
        .then(|| new.secret.clone().unwrap_or_else(tokens::generate));
    let row = ClientRow {
        client_id: new.client_id,
        secret_hash: secret.as_deref().map(tokens::hash),
        redirect_uris: new.redirect_uris,
        post_logout_redirect_uris: new.post_logout_redirect_uris,
        scopes: settled.scopes,
        subject_type: settled.subject_type,
        created_at: state.clock.now(),
        auth_method: settled.auth_method,
        jwks: new.jwks,
        id_token_alg: settled.id_token_alg,
        require_par: settled.require_par,
        sector_identifier: new.sector_identifier,
        backchannel_logout_uri: new.backchannel_logout_uri,
        resource_audience: new.resource_audience,
        client_name: new.client_name,
        logo_uri: new.logo_uri,
        policy_uri: new.policy_uri,
        dpop: settled.dpop,
        profile: settled.profile,
        pkce_required: !new.pkce_optional,
    };
    let mut conn = state.db.get().await?;
    if !store::insert_client(&mut conn, &row).await? {
        return Err(AppError::from(Code::ClientIdTaken));
    }
    Ok(Registered {
        client: row,
        secret,
    })
}

/// Every client.
pub async fn list(state: &Core) -> AppResult<Vec<ClientRow>> {
    let mut conn = state.db.get().await?;
    Ok(store::clients(&mut conn).await?)
}

/// Deletes a client.
pub async fn delete(state: &Provider, client_id: &str) -> AppResult<()> {
    let mut conn = state.db.get().await?;
    let deleted = store::delete_client(&mut conn, client_id).await?;
    state.client_cache.forget(client_id);
    if deleted {
        Ok(())
    } else {
        Err(AppError::from(Code::ClientNotFound))
    }
}

/// How long a client's registration is used from memory before PostgreSQL
/// is asked again: a deletion made by another process takes effect within it.
pub const CACHE_MAX_AGE: chrono::Duration = chrono::Duration::seconds(5);
/// Past this many cached clients the cache starts over.
const CACHE_CAPACITY: usize = 10_000;

/// Registered clients of this process, so that every token, introspection
/// and authorization request is not a database read.
#[derive(Default)]
pub struct ClientCache {
    entries: std::sync::RwLock<
        std::collections::HashMap<String, (chrono::DateTime<chrono::Utc>, ClientRow)>,
    >,
}

impl std::fmt::Debug for ClientCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientCache")
    }
}

impl ClientCache {
    /// Forgets one client (after a change in this process).
    pub fn forget(&self, client_id: &str) {
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(client_id);
    }
}

/// A registered client by id. Unknown ids are not cached (random ids cannot
/// fill the cache), and always cost a read.
pub async fn find(state: &Provider, client_id: &str) -> AppResult<Option<ClientRow>> {
    let now = state.clock.now();
    if let Some((fetched, row)) = state
        .client_cache
        .entries
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(client_id)
        && *fetched <= now
        && now - *fetched < CACHE_MAX_AGE
    {
        return Ok(Some(row.clone()));
    }
    let mut conn = state.db.get().await?;
    let row = store::client(&mut conn, client_id).await?;
    let mut entries = state
        .client_cache
        .entries
        .write()
        .unwrap_or_else(|p| p.into_inner());
    match &row {
        Some(r) => {
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert(client_id.to_owned(), (now, r.clone()));
        }
        None => {
            entries.remove(client_id);
        }
    }
    Ok(row)
}
