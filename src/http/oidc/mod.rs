//! Protocol endpoints of the OpenID provider: discovery, JWKS, authorization
//! (with the consent page), token, UserInfo. OAuth errors are
//! [`OAuthError`]s, answered as RFC 6749 JSON by its `ResponseError`.

use actix_web::{HttpRequest, HttpResponse, ResponseError, http::header, web};
use serde::Deserialize;
use serde_json::json;

mod consent_page;
mod logout;
mod tokens;
mod user_info;

pub use logout::{end_session, end_session_post};
pub use tokens::{introspect, par, revoke, token};
pub use user_info::{userinfo, verify_presented};

use crate::error::Code;
use crate::{
    error::AppError,
    http::AppState,
    http::{csrf, pages::PageResult, session::MaybeSession},
    oidc::{
        error::OAuthError,
        flow::{self, AuthorizeRequest, Outcome},
        jwt::{ACR_LEVEL_1, ACR_LEVEL_2},
        keys,
    },
};

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
            "dpop_signing_alg_values_supported": crate::domain::oauth::dpop::ALGS,
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
        Outcome::Consent(pending) => consent_page::show(state, req, &pending).await,
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

/// `POST /oauth2/authorize` with the parameters as a form (OpenID Connect
/// Core §3.1.2.1: the endpoint supports GET and POST alike).
pub async fn authorize_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: MaybeSession,
    form: web::Form<AuthorizeRequest>,
) -> PageResult {
    let outcome =
        flow::authorize(&state.oidc, &form, session.0.as_ref().map(|s| &s.session)).await?;
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
        return Err(AppError::from(Code::NotSignedIn)
            .with_detail("Phiên đăng nhập đã hết hạn. Vui lòng quay lại ứng dụng và thử lại.")
            .into());
    };
    let allow = match form.decision.as_str() {
        "allow" => true,
        "deny" => false,
        _ => {
            return Err(AppError::from(Code::InvalidDecision).into());
        }
    };
    let outcome =
        flow::answer_consent(&state.oidc, &form.consent_id, allow, &current.session).await?;
    respond(&state, &req, outcome).await
}

/// Form bodies of the OAuth endpoints: an unreadable one is an RFC 6749 `invalid_request`.
fn oauth_form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(16 * 1024)
        .error_handler(|err, _req| {
            let response =
                OAuthError::new("invalid_request", format!("unreadable form body: {err}"))
                    .error_response();
            actix_web::error::InternalError::from_response(err, response).into()
        })
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/.well-known/openid-configuration").route(web::get().to(discovery)))
        .service(web::resource("/oauth2/jwks").route(web::get().to(jwks)))
        .service(
            web::resource("/oauth2/authorize")
                .route(web::get().to(authorize))
                .route(web::post().to(authorize_post)),
        )
        .service(web::resource("/oauth2/consent").route(web::post().to(consent)))
        .service(
            web::resource("/oauth2/logout")
                .route(web::get().to(end_session))
                .route(web::post().to(end_session_post)),
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
