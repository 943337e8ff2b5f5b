//! Relying parties (clients), registered by an administrator: exact redirect
//! URIs, allowed scopes, confidential (a secret, stored as SHA-256: secrets
//! are high-entropy) or public (the mobile app, PKCE only), pairwise or
//! public subject identifiers.

use url::Url;

use crate::infra::Core;
use crate::oidc::Provider;
use crate::{
    crypto::tokens,
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    storage::oidc::{self as store, ClientRow},
};

/// Scopes a client may be given.
pub const KNOWN_SCOPES: [&str; 11] = [
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "national_id",
    "business",
    "account",
    "dossiers",
    "vault",
    "offline_access",
];

pub use crate::domain::vault::VAULT_SCOPES;

/// Whether a client may be registered with `scope`.
pub fn is_known_scope(scope: &str) -> bool {
    KNOWN_SCOPES.contains(&scope) || VAULT_SCOPES.contains(&scope)
}

/// Every scope, for discovery.
pub fn supported_scopes() -> Vec<&'static str> {
    KNOWN_SCOPES.iter().chain(&VAULT_SCOPES).copied().collect()
}

/// A client to register.
#[derive(Debug, Default)]
pub struct NewClient {
    /// The id.
    pub client_id: String,
    /// Redirect URIs (exact match).
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs (exact match).
    pub post_logout_redirect_uris: Vec<String>,
    /// `Some(secret)` for a confidential client with a given secret; `None` with
    /// `public` false generates one.
    pub secret: Option<String>,
    /// A public client (no secret).
    pub public: bool,
    /// Allowed scopes (default `openid profile`).
    pub scopes: Vec<String>,
    /// Public subject identifiers instead of pairwise ones (trusted clients only).
    pub public_subject: bool,
    /// The client's public keys (a JWK Set): it authenticates with
    /// `private_key_jwt` instead of a secret.
    pub jwks: Option<serde_json::Value>,
    /// `RS256` (default) or `ES256` for its ID tokens.
    pub id_token_alg: Option<String>,
    /// Accept authorization requests only through PAR.
    pub require_par: bool,
    /// Pairwise subjects per this sector (shared by the clients of one organisation).
    pub sector_identifier: Option<String>,
    /// Where to post logout tokens when a session it joined ends.
    pub backchannel_logout_uri: Option<String>,
    /// Registers the client as the resource server of this audience URI
    /// (tokens asked for it with RFC 8707 `resource`; the only ones it may introspect).
    pub resource_audience: Option<String>,
}

fn valid_redirect(raw: &str) -> bool {
    match Url::parse(raw) {
        // https anywhere; http only for loopback (development, native apps);
        // a private-use scheme (com.example.app:/cb) for the mobile app.
        Ok(url) if url.fragment().is_none() => match url.scheme() {
            "https" => url.host_str().is_some(),
            "http" => matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
            scheme => scheme.contains('.'),
        },
        _ => false,
    }
}

fn valid_backchannel(raw: &str) -> bool {
    match Url::parse(raw) {
        Ok(url) if url.fragment().is_none() => match url.scheme() {
            "https" => url.host_str().is_some(),
            "http" => matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
            _ => false,
        },
        _ => false,
    }
}

/// A client's JWK Set must hold at least one public key we can verify with, and no private ones.
fn check_jwks(jwks: &serde_json::Value) -> Result<(), crate::domain::Invalid> {
    let invalid = |detail: String| crate::domain::Invalid::new("jwks_invalid", detail);
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone())
        .map_err(|e| invalid(format!("JWKS không đọc được: {e}")))?;
    if set.keys.is_empty() {
        return Err(invalid("JWKS không có khóa nào.".into()));
    }
    let raw_keys = jwks
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    if raw_keys.iter().any(|k| k.get("d").is_some()) {
        return Err(invalid(
            "JWKS chứa khóa bí mật: chỉ đăng ký khóa công khai.".into(),
        ));
    }
    for key in &set.keys {
        jsonwebtoken::DecodingKey::from_jwk(key)
            .map_err(|e| invalid(format!("Khóa không dùng được: {e}")))?;
    }
    Ok(())
}

/// What registration returns: the row and, for confidential clients, the secret (shown once).
#[derive(Debug)]
pub struct Registered {
    /// The stored client.
    pub client: ClientRow,
    /// The secret, if confidential.
    pub secret: Option<String>,
}

/// Registers a client.
pub async fn register(state: &Core, new: NewClient) -> AppResult<Registered> {
    let mut errors = FieldErrors::default();
    let id_ok = (3..=100).contains(&new.client_id.len())
        && new
            .client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !id_ok {
        errors.push(
            "client_id",
            crate::domain::Invalid::new(
                "client_id_format",
                "client_id: 3–100 ký tự chữ, số, '-', '_', '.'.",
            ),
        );
    }
    if new.redirect_uris.is_empty() {
        errors.push(
            "redirect_uri",
            crate::domain::Invalid::new("redirect_uri_missing", "Cần ít nhất một redirect URI."),
        );
    }
    for uri in new
        .redirect_uris
        .iter()
        .chain(&new.post_logout_redirect_uris)
    {
        if !valid_redirect(uri) {
            errors.push(
                "redirect_uri",
                crate::domain::Invalid::new(
                    "redirect_uri_invalid",
                    format!("URI không hợp lệ: {uri} (https, http://127.0.0.1 hoặc scheme riêng của ứng dụng; không có #)."),
                ),
            );
        }
    }
    let scopes: Vec<String> = if new.scopes.is_empty() {
        vec!["openid".into(), "profile".into()]
    } else {
        new.scopes.clone()
    };
    for scope in &scopes {
        if !is_known_scope(scope) {
            errors.push(
                "scope",
                crate::domain::Invalid::new(
                    "scope_unknown",
                    format!("Phạm vi không được hỗ trợ: {scope}"),
                ),
            );
        }
    }
    if new.public && new.secret.is_some() {
        errors.push(
            "secret",
            crate::domain::Invalid::new("secret_for_public", "Client công khai không có secret."),
        );
    }
    if new.jwks.is_some() && (new.public || new.secret.is_some()) {
        errors.push(
            "jwks",
            crate::domain::Invalid::new(
                "jwks_with_other_method",
                "Client dùng khóa (private_key_jwt) không có secret và không phải client công khai.",
            ),
        );
    }
    if let Some(jwks) = &new.jwks
        && let Err(problem) = check_jwks(jwks)
    {
        errors.push("jwks", problem);
    }
    let id_token_alg = new.id_token_alg.clone().unwrap_or_else(|| "RS256".into());
    if !matches!(id_token_alg.as_str(), "RS256" | "ES256") {
        errors.push(
            "id_token_alg",
            crate::domain::Invalid::new(
                "id_token_alg_unsupported",
                "Thuật toán ký ID token: RS256 hoặc ES256.",
            ),
        );
    }
    if let Some(uri) = &new.backchannel_logout_uri
        && !valid_backchannel(uri)
    {
        errors.push(
            "backchannel_logout_uri",
            crate::domain::Invalid::new(
                "backchannel_logout_uri_invalid",
                format!("URI đăng xuất kênh sau không hợp lệ: {uri} (https, hoặc http://127.0.0.1 khi phát triển)."),
            ),
        );
    }
    if let Some(sector) = &new.sector_identifier
        && (!(1..=200).contains(&sector.len())
            || sector.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        errors.push(
            "sector_identifier",
            crate::domain::Invalid::new(
                "sector_identifier_invalid",
                "Định danh lĩnh vực (sector) không hợp lệ.",
            ),
        );
    }
    if new.public_subject && new.sector_identifier.is_some() {
        errors.push(
            "sector_identifier",
            crate::domain::Invalid::new(
                "sector_with_public_subject",
                "Client dùng định danh công khai không có sector.",
            ),
        );
    }
    if let Some(audience) = &new.resource_audience {
        if !crate::oidc::audience::valid_audience(audience) {
            errors.push(
                "resource_server",
                crate::domain::Invalid::new(
                    "resource_audience_invalid",
                    format!("Định danh máy chủ tài nguyên không hợp lệ: {audience} (URI https, hoặc http://127.0.0.1 khi phát triển; không có #)."),
                ),
            );
        }
        if new.public {
            errors.push(
                "resource_server",
                crate::domain::Invalid::new(
                    "resource_server_public",
                    "Máy chủ tài nguyên phải là client bảo mật (có secret hoặc khóa) để tra cứu mã truy cập.",
                ),
            );
        }
    }
    if let Some(secret) = &new.secret
        && secret.len() < 32
    {
        errors.push(
            "secret",
            crate::domain::Invalid::new("secret_too_short", "Secret phải dài ít nhất 32 ký tự."),
        );
    }
    errors.into_result()?;
    let auth_method = if new.public {
        "none"
    } else if new.jwks.is_some() {
        "private_key_jwt"
    } else {
        "client_secret"
    };
    let secret = (auth_method == "client_secret")
        .then(|| new.secret.clone().unwrap_or_else(tokens::generate));
    let row = ClientRow {
        client_id: new.client_id.clone(),
        secret_hash: secret.as_deref().map(tokens::hash),
        redirect_uris: new.redirect_uris,
        post_logout_redirect_uris: new.post_logout_redirect_uris,
        scopes,
        subject_type: if new.public_subject {
            "public"
        } else {
            "pairwise"
        }
        .into(),
        created_at: state.clock.now(),
        auth_method: auth_method.into(),
        jwks: new.jwks,
        id_token_alg,
        require_par: new.require_par,
        sector_identifier: new.sector_identifier,
        backchannel_logout_uri: new.backchannel_logout_uri,
        resource_audience: new.resource_audience,
    };
    let mut conn = state.db.get().await?;
    if !store::insert_client(&mut conn, &row).await? {
        return Err(AppError::new(ErrorKind::Conflict, "client_id_taken")
            .with_detail("client_id này đã được đăng ký."));
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
        Err(AppError::not_found("client_not_found")
            .with_detail("Không có client với client_id này."))
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
