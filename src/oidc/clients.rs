//! Relying parties (clients), registered by an administrator: exact redirect
//! URIs, allowed scopes, confidential (a secret, stored as SHA-256: secrets
//! are high-entropy) or public (the mobile app, PKCE only), pairwise or
//! public subject identifiers.

use url::Url;

use crate::{
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    identity::tokens,
    startup::AppState,
    storage::oidc::{self as store, ClientRow},
};

/// Scopes a client may be given.
pub const KNOWN_SCOPES: [&str; 10] = [
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "national_id",
    "business",
    "account",
    "dossiers",
    "offline_access",
];

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

/// What registration returns: the row and, for confidential clients, the secret (shown once).
#[derive(Debug)]
pub struct Registered {
    /// The stored client.
    pub client: ClientRow,
    /// The secret, if confidential.
    pub secret: Option<String>,
}

/// Registers a client.
pub async fn register(state: &AppState, new: NewClient) -> AppResult<Registered> {
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
        if !KNOWN_SCOPES.contains(&scope.as_str()) {
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
    if let Some(secret) = &new.secret
        && secret.len() < 32
    {
        errors.push(
            "secret",
            crate::domain::Invalid::new("secret_too_short", "Secret phải dài ít nhất 32 ký tự."),
        );
    }
    errors.into_result()?;
    let secret = if new.public {
        None
    } else {
        Some(new.secret.clone().unwrap_or_else(tokens::generate))
    };
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
pub async fn list(state: &AppState) -> AppResult<Vec<ClientRow>> {
    let mut conn = state.db.get().await?;
    Ok(store::clients(&mut conn).await?)
}

/// Deletes a client.
pub async fn delete(state: &AppState, client_id: &str) -> AppResult<()> {
    let mut conn = state.db.get().await?;
    if store::delete_client(&mut conn, client_id).await? {
        Ok(())
    } else {
        Err(AppError::not_found("client_not_found")
            .with_detail("Không có client với client_id này."))
    }
}
