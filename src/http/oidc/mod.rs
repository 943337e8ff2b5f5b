//! Protocol endpoints of the OpenID provider: discovery, JWKS, authorization
//! (with the consent page), token, UserInfo. OAuth errors are RFC 6749 JSON
//! with `Cache-Control: no-store`.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use askama::Template;
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;
use serde_json::json;

mod consent_page;

use crate::{
    error::{AppError, ErrorKind},
    http::AppState,
    http::{
        csrf,
        pages::{PageResult, html, render},
        session::MaybeSession,
    },
    oidc::{
        client_auth::{self, ClientCredentials},
        flow::{self, AuthorizeRequest, Outcome},
        jwt::{ACR_LEVEL_1, ACR_LEVEL_2},
        keys,
        token::{self, OAuthError},
        userinfo,
    },
};
use consent_page::{CONSENT_EN, CONSENT_VI, ConsentPage, describe_scope, describe_scope_en};

/// Algorithms of client assertions (`private_key_jwt`).
const ASSERTION_ALGS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// `GET /.well-known/openid-configuration`: exactly what is supported.
pub async fn discovery(state: web::Data<AppState>) -> HttpResponse {
    let issuer = state.settings.issuer();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .json(json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
            "token_endpoint": format!("{issuer}/oauth2/token"),
            "userinfo_endpoint": format!("{issuer}/oauth2/userinfo"),
            "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
            "end_session_endpoint": format!("{issuer}/oauth2/logout"),
            "introspection_endpoint": format!("{issuer}/oauth2/introspect"),
            "pushed_authorization_request_endpoint": format!("{issuer}/oauth2/par"),
            "require_pushed_authorization_requests": false,
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
            "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
            "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true,
            "jwks_uri": format!("{issuer}/oauth2/jwks"),
            "scopes_supported": crate::oidc::clients::supported_scopes(),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["pairwise", "public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
            "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
            "code_challenge_methods_supported": ["S256"],
            "acr_values_supported": [ACR_LEVEL_1, ACR_LEVEL_2, crate::oidc::jwt::ACR_MFA],
            "prompt_values_supported": ["none", "login", "consent"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "at_hash",
                "name", "birthdate", "gender", "email", "email_verified", "phone_number", "phone_number_verified", "national_id",
                "address", "business", "acting_for"],
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "authorization_response_iss_parameter_supported": true,
            "ui_locales_supported": ["vi", "en"],
        }))
}

/// `GET /oauth2/jwks`: the published signing keys.
pub async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let body = keys::jwks(&state).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        // Short enough that a key published ahead of use (rotation) is fetched in time.
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(body))
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

async fn respond(state: &AppState, req: &HttpRequest, outcome: Outcome) -> PageResult {
    match outcome {
        Outcome::ErrorPage(err) => Err(err.into()),
        Outcome::Redirect(url) => Ok(see_other(&url)),
        Outcome::SignIn {
            return_to,
            login_hint,
            lang,
        } => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("return_to", &return_to);
            if let Some(hint) = &login_hint {
                query.append_pair("login_hint", hint);
            }
            if let Some(lang) = lang {
                query.append_pair("lang", lang);
            }
            Ok(see_other(&format!("/login?{}", query.finish())))
        }
        Outcome::StepUp { return_to } => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("return_to", &return_to);
            Ok(see_other(&format!("/login/verify?{}", query.finish())))
        }
        Outcome::Consent(pending) => {
            let (csrf_token, cookie) = csrf::token_for(state, req);
            let english = flow::page_lang(&pending.request) == Some("en");
            let describe = if english {
                describe_scope_en
            } else {
                describe_scope
            };
            let mut items = Vec::with_capacity(pending.scopes.len());
            for scope in &pending.scopes {
                if let Some(text) = describe(scope) {
                    items.push(text.to_owned());
                } else if let Some(line) = crate::vault::records::consent_line(
                    state,
                    crate::domain::AccountId::from(pending.account_id),
                    scope,
                    english,
                )
                .await?
                {
                    items.push(line);
                }
            }
            let body = render(&ConsentPage {
                t: if english { &CONSENT_EN } else { &CONSENT_VI },
                csrf_token: &csrf_token,
                consent_id: &pending.id,
                client_id: &pending.client_id,
                items,
            })?;
            Ok(html(actix_web::http::StatusCode::OK, body, cookie))
        }
    }
}

/// `GET /oauth2/authorize`.
pub async fn authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: MaybeSession,
    query: web::Query<AuthorizeRequest>,
) -> PageResult {
    let outcome =
        flow::authorize(&state.oidc, &query, session.0.as_ref().map(|s| &s.session)).await?;
    respond(&state, &req, outcome).await
}

/// The consent form.
#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    consent_id: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    csrf_token: String,
}

/// `POST /oauth2/consent`: `decision=allow` or `decision=deny`.
pub async fn consent(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: MaybeSession,
    form: web::Form<ConsentForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let Some(current) = session.0 else {
        return Err(AppError::new(ErrorKind::Unauthorized, "not_signed_in")
            .with_detail("Phiên đăng nhập đã hết hạn. Vui lòng quay lại ứng dụng và thử lại.")
            .into());
    };
    let allow = match form.decision.as_str() {
        "allow" => true,
        "deny" => false,
        _ => {
            return Err(AppError::bad_request("invalid_decision")
                .with_detail("Lựa chọn không hợp lệ.")
                .into());
        }
    };
    let outcome =
        flow::answer_consent(&state.oidc, &form.consent_id, allow, &current.session).await?;
    respond(&state, &req, outcome).await
}

fn oauth_error(err: &OAuthError) -> HttpResponse {
    let mut builder = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(err.status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    );
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    if err.status == 401 {
        builder.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"eservices\""));
    }
    builder.json(json!({ "error": err.error, "error_description": err.description }))
}

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

/// `POST /oauth2/token`.
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let result = async {
        let creds = credentials(&req, &form.client)?;
        let client = client_auth::authenticate(&state.oidc, &creds).await?;
        match form.grant_type.as_deref() {
            Some("authorization_code") => {
                token::authorization_code(
                    &state.oidc,
                    &client,
                    form.code.as_deref(),
                    form.redirect_uri.as_deref(),
                    form.code_verifier.as_deref(),
                    form.resource.as_deref(),
                )
                .await
            }
            Some("refresh_token") if form.resource.is_some() => Err(OAuthError::new(
                "invalid_target",
                "refreshed tokens are for the API; ask for another resource in the authorization request",
            )),
            Some("refresh_token") => {
                token::refresh(
                    &state.oidc,
                    &client,
                    form.refresh_token.as_deref(),
                    form.scope.as_deref(),
                )
                .await
            }
            Some("client_credentials") => {
                token::client_credentials(
                    &state.oidc,
                    &client,
                    form.scope.as_deref(),
                    form.resource.as_deref(),
                )
                .await
            }
            Some(_) => Err(OAuthError::new(
                "unsupported_grant_type",
                "supported: authorization_code, refresh_token, client_credentials",
            )),
            None => Err(OAuthError::new("invalid_request", "grant_type is required")),
        }
    }
    .await;
    match result {
        Ok(tokens) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(tokens),
        Err(err) => oauth_error(&err),
    }
}

#[derive(Template)]
#[template(path = "auth/end_session.html")]
struct EndSessionPage<'a> {
    csrf_token: &'a str,
    logout_id: &'a str,
    client_id: Option<&'a str>,
    signed_in: bool,
}

/// `GET /oauth2/logout` (end_session_endpoint): asks the person to confirm.
pub async fn end_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: MaybeSession,
    query: web::Query<crate::oidc::logout::EndSessionRequest>,
) -> PageResult {
    let (id, pending) = crate::oidc::logout::start(&state.oidc, &query).await?;
    if session.0.is_none()
        && let Some(redirect) = &pending.redirect
    {
        // Nothing to end: go straight back.
        crate::oidc::logout::take(&state, &id).await?;
        return Ok(see_other(redirect));
    }
    let (csrf_token, cookie) = csrf::token_for(&state, &req);
    let body = render(&EndSessionPage {
        csrf_token: &csrf_token,
        logout_id: &id,
        client_id: pending.client_id.as_deref(),
        signed_in: session.0.is_some(),
    })?;
    Ok(html(actix_web::http::StatusCode::OK, body, cookie))
}

/// The logout confirmation.
#[derive(Debug, Deserialize)]
pub struct EndSessionForm {
    #[serde(default)]
    logout_id: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    csrf_token: String,
}

/// `POST /oauth2/logout`: ends the session (on `decision=logout`) and goes back to the client.
pub async fn end_session_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: crate::identity::ClientInfo,
    session: MaybeSession,
    form: web::Form<EndSessionForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let pending = crate::oidc::logout::take(&state, &form.logout_id)
        .await?
        .ok_or_else(|| {
            AppError::bad_request("logout_expired")
                .with_detail("Yêu cầu đăng xuất đã hết hạn. Vui lòng thử lại từ ứng dụng.")
        })?;
    let mut response = if form.decision == "logout" {
        if let Some(current) = &session.0 {
            if let Some(ended) = state.identity.sessions.revoke(&current.token).await? {
                crate::identity::session_end::sessions_ended(&state, &[ended]).await?;
            }
            let mut conn = state.db.get().await.map_err(AppError::from)?;
            crate::identity::audit::record(
                &mut conn,
                current.session.account_id,
                "signed_out",
                &client,
                json!({ "client_id": pending.client_id }),
                state.clock.now(),
            )
            .await?;
        }
        match &pending.redirect {
            Some(url) => see_other(url),
            None => see_other("/logout"),
        }
    } else {
        see_other("/")
    };
    if form.decision == "logout" {
        response
            .add_cookie(&crate::http::session::clear_session_cookie(&state))
            .map_err(AppError::internal)?;
    }
    Ok(response)
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
    let form = form.into_inner();
    let result = async {
        let fields = ClientFields {
            client_id: form.request.client_id.clone(),
            client_secret: form.client_secret,
            client_assertion_type: form.client_assertion_type,
            client_assertion: form.client_assertion,
        };
        let creds = credentials(&req, &fields)?;
        let client = client_auth::authenticate(&state.oidc, &creds).await?;
        crate::oidc::par::push(&state, &client, form.request).await
    }
    .await;
    match result {
        Ok(pushed) => HttpResponse::Created()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(pushed),
        Err(err) => oauth_error(&err),
    }
}

/// `POST /oauth2/revoke` (RFC 7009): 200 whether or not the token was known.
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenOnlyForm>,
) -> HttpResponse {
    let result = async {
        let creds = credentials(&req, &form.client)?;
        let client = client_auth::authenticate(&state.oidc, &creds).await?;
        let token = form
            .token
            .as_deref()
            .ok_or_else(|| OAuthError::new("invalid_request", "token is required"))?;
        crate::oidc::revocation::revoke(&state.oidc, &client, token).await
    }
    .await;
    match result {
        Ok(()) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(err) => oauth_error(&err),
    }
}

/// `POST /oauth2/introspect` (RFC 7662), for confidential clients (resource servers).
pub async fn introspect(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenOnlyForm>,
) -> HttpResponse {
    let result = async {
        let creds = credentials(&req, &form.client)?;
        let client = client_auth::authenticate(&state.oidc, &creds).await?;
        let token = form
            .token
            .as_deref()
            .ok_or_else(|| OAuthError::new("invalid_request", "token is required"))?;
        crate::oidc::revocation::introspect(&state.oidc, &client, token).await
    }
    .await;
    match result {
        Ok(body) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(body),
        Err(err) => oauth_error(&err),
    }
}

/// `GET|POST /oauth2/userinfo` with a bearer access token.
pub async fn userinfo(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            AppError::new(ErrorKind::Unauthorized, "invalid_token")
                .with_detail("Cần mã truy cập (Bearer).")
                .with_header(header::WWW_AUTHENTICATE, "Bearer")
        })?;
    let claims =
        crate::oidc::jwt::verify_api_token(&state.oidc, token.trim(), state.clock.now()).await?;
    let body = userinfo::claims(&state.oidc, &claims).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

/// Form bodies of the OAuth endpoints: an unreadable one is an RFC 6749 `invalid_request`.
fn oauth_form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(16 * 1024)
        .error_handler(|err, _req| {
            let response = oauth_error(&OAuthError::new(
                "invalid_request",
                format!("unreadable form body: {err}"),
            ));
            actix_web::error::InternalError::from_response(err, response).into()
        })
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/.well-known/openid-configuration").route(web::get().to(discovery)))
        .service(web::resource("/oauth2/jwks").route(web::get().to(jwks)))
        .service(web::resource("/oauth2/authorize").route(web::get().to(authorize)))
        .service(web::resource("/oauth2/consent").route(web::post().to(consent)))
        .service(
            web::resource("/oauth2/logout")
                .route(web::get().to(end_session))
                .route(web::post().to(end_session_confirm)),
        )
        .service(
            web::resource("/oauth2/token")
                .app_data(oauth_form_config())
                .route(web::post().to(token)),
        )
        .service(
            web::resource("/oauth2/par")
                .app_data(oauth_form_config())
                .route(web::post().to(par)),
        )
        .service(
            web::resource("/oauth2/revoke")
                .app_data(oauth_form_config())
                .route(web::post().to(revoke)),
        )
        .service(
            web::resource("/oauth2/introspect")
                .app_data(oauth_form_config())
                .route(web::post().to(introspect)),
        )
        .service(
            web::resource("/oauth2/userinfo")
                .route(web::get().to(userinfo))
                .route(web::post().to(userinfo)),
        );
}
