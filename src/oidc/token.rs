//! The token endpoint (RFC 6749 §3.2, OpenID Connect Core §3.1.3): client
//! authentication, the authorization_code grant with PKCE, and the tokens.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{
    error::AppError,
    identity::tokens,
    oidc::{
        flow,
        jwt::{self, ACCESS_TOKEN_TTL, AccessClaims, ID_TOKEN_TTL, IdClaims},
        keys::Alg,
    },
    startup::AppState,
    storage::oidc::{self as store, ClientRow},
};

/// An OAuth error answer (RFC 6749 §5.2).
#[derive(Debug)]
pub struct OAuthError {
    /// HTTP status (400, or 401 for client authentication).
    pub status: u16,
    /// The error code.
    pub error: &'static str,
    /// A description for developers.
    pub description: String,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status: if error == "invalid_client" { 401 } else { 400 },
            error,
            description: description.into(),
        }
    }
}

impl From<AppError> for OAuthError {
    fn from(err: AppError) -> Self {
        let status = err.kind().status().as_u16();
        Self {
            status: if status == 503 { 503 } else { 500 },
            error: if status == 503 {
                "temporarily_unavailable"
            } else {
                "server_error"
            },
            description: err.detail().to_owned(),
        }
    }
}

/// How the client presented itself.
#[derive(Debug, Default)]
pub struct ClientCredentials {
    /// The id (from Basic or the form).
    pub client_id: Option<String>,
    /// The secret, if any.
    pub secret: Option<String>,
}

/// A successful token response.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// The access token (JWT).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The ID token.
    pub id_token: String,
    /// Granted scopes.
    pub scope: String,
}

/// Authenticates the client: confidential clients with their secret,
/// public clients with none.
pub async fn authenticate(
    state: &AppState,
    creds: &ClientCredentials,
) -> Result<ClientRow, OAuthError> {
    let id = creds
        .client_id
        .as_deref()
        .ok_or_else(|| OAuthError::new("invalid_client", "client authentication is required"))?;
    let mut conn = state.db.get().await.map_err(AppError::from)?;
    let client = store::client(&mut conn, id)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| OAuthError::new("invalid_client", "unknown client"))?;
    match (&client.secret_hash, &creds.secret) {
        (Some(stored), Some(given)) => {
            let given = tokens::hash(given);
            if subtle::ConstantTimeEq::ct_eq(stored.as_slice(), given.as_slice()).into() {
                Ok(client)
            } else {
                Err(OAuthError::new(
                    "invalid_client",
                    "client authentication failed",
                ))
            }
        }
        (None, None) => Ok(client),
        (Some(_), None) => Err(OAuthError::new(
            "invalid_client",
            "this client must authenticate",
        )),
        (None, Some(_)) => Err(OAuthError::new(
            "invalid_client",
            "a public client has no secret",
        )),
    }
}

/// The subject identifier `client` sees for `account`: pairwise by default,
/// so two clients cannot join their users; the account id for trusted clients.
pub fn subject_for(client: &ClientRow, account: uuid::Uuid) -> String {
    if client.subject_type == "public" {
        account.to_string()
    } else {
        URL_SAFE_NO_PAD.encode(Sha256::digest(
            format!("{}|{account}", client.client_id).as_bytes(),
        ))
    }
}

/// Exchanges an authorization code.
pub async fn authorization_code(
    state: &AppState,
    client: &ClientRow,
    code: Option<&str>,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let code = code.ok_or_else(|| OAuthError::new("invalid_request", "code is required"))?;
    let grant = flow::take_code(state, code).await?.ok_or_else(|| {
        OAuthError::new(
            "invalid_grant",
            "the code is invalid, expired or already used",
        )
    })?;
    if grant.client_id != client.client_id {
        return Err(OAuthError::new(
            "invalid_grant",
            "the code was issued to another client",
        ));
    }
    if redirect_uri != Some(grant.redirect_uri.as_str()) {
        return Err(OAuthError::new(
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        ));
    }
    let verifier = code_verifier
        .ok_or_else(|| OAuthError::new("invalid_request", "code_verifier is required (PKCE)"))?;
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if !tokens::equal(&challenge, &grant.code_challenge) {
        return Err(OAuthError::new(
            "invalid_grant",
            "code_verifier does not match the code_challenge",
        ));
    }
    let now = state.clock.now();
    let issuer = state.settings.issuer();
    let sub = subject_for(client, grant.account_id);
    let access = AccessClaims {
        iss: issuer.clone(),
        sub: sub.clone(),
        aud: jwt::api_audience(state),
        client_id: client.client_id.clone(),
        scope: grant.scopes.join(" "),
        acr: flow::grant_acr(&grant).to_owned(),
        account_id: grant.account_id,
        jti: tokens::generate(),
        iat: now.timestamp(),
        exp: (now + ACCESS_TOKEN_TTL).timestamp(),
    };
    let access_token = jwt::sign(state, Alg::Rs256, "at+jwt", &access).await?;
    let id_claims = IdClaims {
        iss: &issuer,
        sub: &sub,
        aud: &client.client_id,
        iat: now.timestamp(),
        exp: (now + ID_TOKEN_TTL).timestamp(),
        auth_time: grant.auth_time.timestamp(),
        nonce: grant.nonce.as_deref(),
        acr: flow::grant_acr(&grant),
        amr: &grant.amr,
        sid: &grant.sid,
        at_hash: jwt::at_hash(&access_token),
    };
    let id_token = jwt::sign(state, Alg::Rs256, "JWT", &id_claims).await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL.num_seconds(),
        id_token,
        scope: grant.scopes.join(" "),
    })
}
