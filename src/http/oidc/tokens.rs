//! The client-facing endpoints: token (with DPoP proofs and server
//! nonces), PAR, revocation and introspection, and how a client's
//! credentials are read from a request.

use actix_web::{HttpRequest, HttpResponse, ResponseError, http::header, web};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;

use crate::{
    http::AppState,
    oidc::{
        client_auth::{self, ClientCredentials},
        error::OAuthError,
        flow::AuthorizeRequest,
        token::{self, TokenRequest},
    },
};

/// How a client authenticates in a form (besides HTTP Basic).
#[derive(Debug, Deserialize, Default)]
pub struct ClientFields {
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// The token request form.
#[derive(Debug, Deserialize, Default)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    /// RFC 8707: the resource server the access token is for.
    resource: Option<String>,
    #[serde(flatten)]
    client: ClientFields,
}

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// The request's DPoP proof: none, or exactly one header (RFC 9449 §4.3).
fn dpop_proof(req: &HttpRequest) -> Result<Option<String>, crate::oidc::dpop::DpopFailure> {
    let values: Vec<&str> = req
        .headers()
        .get_all(crate::oidc::dpop::DPOP_HEADER)
        .filter_map(|v| v.to_str().ok())
        .collect();
    crate::oidc::dpop::single_header(&values)
}

/// Adds a fresh server nonce to an answer given to a DPoP request (RFC 9449 §8).
async fn with_dpop_nonce(
    state: &AppState,
    req: &HttpRequest,
    mut response: HttpResponse,
) -> HttpResponse {
    let asked = req.headers().contains_key(crate::oidc::dpop::DPOP_HEADER);
    if asked
        && let Ok(nonce) = crate::oidc::dpop::nonce(&state.oidc).await
        && let Ok(value) = header::HeaderValue::from_str(&nonce)
    {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static("dpop-nonce"), value);
    }
    response
}

async fn exchange(
    state: &AppState,
    req: &HttpRequest,
    form: TokenForm,
) -> Result<crate::oidc::token::TokenResponse, OAuthError> {
    let creds = credentials(req, &form.client)?;
    let client = client_auth::authenticate(&state.oidc, &creds).await?;
    let proof = dpop_proof(req).map_err(crate::oidc::dpop::DpopFailure::oauth)?;
    let proven =
        crate::oidc::dpop::for_token_request(&state.oidc, &client, proof.as_deref(), req.path())
            .await?;
    let request = TokenRequest {
        grant_type: form.grant_type.as_deref(),
        code: form.code.as_deref(),
        redirect_uri: form.redirect_uri.as_deref(),
        code_verifier: form.code_verifier.as_deref(),
        refresh_token: form.refresh_token.as_deref(),
        scope: form.scope.as_deref(),
        resource: form.resource.as_deref(),
        dpop_jkt: proven.as_ref().map(|p| p.jkt.as_str()),
    };
    token::exchange(&state.oidc, &client, request).await
}

/// `POST /oauth2/token`.
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    let response = match exchange(&state, &req, form.into_inner()).await {
        Ok(tokens) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(tokens),
        Err(err) => err.error_response(),
    };
    with_dpop_nonce(&state, &req, response).await
}

/// The form of revocation and introspection.
#[derive(Debug, Deserialize, Default)]
pub struct TokenOnlyForm {
    token: Option<String>,
    #[serde(flatten)]
    client: ClientFields,
}

/// The client's credentials: HTTP Basic, the form's secret or an assertion,
/// only one; a form `client_id` beside Basic must name the same client.
fn credentials(req: &HttpRequest, form: &ClientFields) -> Result<ClientCredentials, OAuthError> {
    let in_form = form.client_secret.is_some() || form.client_assertion.is_some();
    match basic_credentials(req) {
        Some(_) if in_form => Err(OAuthError::new(
            "invalid_request",
            "use one client authentication method",
        )),
        Some((id, _)) if form.client_id.as_ref().is_some_and(|c| *c != id) => Err(OAuthError::new(
            "invalid_request",
            "client_id does not match the authenticated client",
        )),
        Some((id, secret)) => Ok(ClientCredentials {
            client_id: Some(id),
            secret: Some(secret),
            ..ClientCredentials::default()
        }),
        None => Ok(ClientCredentials {
            client_id: form.client_id.clone(),
            secret: form.client_secret.clone(),
            assertion_type: form.client_assertion_type.clone(),
            assertion: form.client_assertion.clone(),
        }),
    }
}

/// The PAR form: an authorization request and the client's credentials.
#[derive(Debug, Deserialize, Default)]
pub struct ParForm {
    #[serde(flatten)]
    request: AuthorizeRequest,
    client_secret: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// `POST /oauth2/par` (RFC 9126): 201 with a `request_uri`.
pub async fn par(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ParForm>,
) -> HttpResponse {
    let response = push(&state, &req, form.into_inner())
        .await
        .unwrap_or_else(|err| err.error_response());
    with_dpop_nonce(&state, &req, response).await
}

async fn push(
    state: &AppState,
    req: &HttpRequest,
    form: ParForm,
) -> Result<HttpResponse, OAuthError> {
    let mut form = form;
    let fields = ClientFields {
        client_id: form.request.client_id.clone(),
        client_secret: form.client_secret,
        client_assertion_type: form.client_assertion_type,
        client_assertion: form.client_assertion,
    };
    let creds = credentials(req, &fields)?;
    let client = client_auth::authenticate(&state.oidc, &creds).await?;
    let proof = dpop_proof(req).map_err(crate::oidc::dpop::DpopFailure::oauth)?;
    form.request.dpop_jkt = crate::oidc::dpop::for_pushed_request(
        &state.oidc,
        &client,
        proof.as_deref(),
        form.request.dpop_jkt.as_deref(),
        req.path(),
    )
    .await?;
    let pushed = crate::oidc::par::push(state, &client, form.request).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(pushed))
}

/// The authenticated client and the `token` of a revocation or introspection.
async fn client_and_token<'a>(
    state: &AppState,
    req: &HttpRequest,
    form: &'a TokenOnlyForm,
) -> Result<(crate::storage::oidc::ClientRow, &'a str), OAuthError> {
    let creds = credentials(req, &form.client)?;
    let client = client_auth::authenticate(&state.oidc, &creds).await?;
    let token = form
        .token
        .as_deref()
        .ok_or_else(|| OAuthError::new("invalid_request", "token is required"))?;
    Ok((client, token))
}

/// `POST /oauth2/revoke` (RFC 7009): 200 whether or not the token was known.
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenOnlyForm>,
) -> Result<HttpResponse, OAuthError> {
    let (client, token) = client_and_token(&state, &req, &form).await?;
    crate::oidc::revocation::revoke(&state.oidc, &client, token).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// `POST /oauth2/introspect` (RFC 7662), for confidential clients (resource servers).
pub async fn introspect(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenOnlyForm>,
) -> Result<HttpResponse, OAuthError> {
    let (client, token) = client_and_token(&state, &req, &form).await?;
    let body = crate::oidc::revocation::introspect(&state.oidc, &client, token).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}
