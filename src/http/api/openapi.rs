//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the JSON API,
//! generated from the handlers' annotations so it cannot drift from them.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::security::{ApiKey, ApiKeyValue, SecurityScheme},
};

use crate::http::api::{
    businesses, catalog, connected_apps, credentials, dossiers, lookup, me, passkeys, payments,
    registrations, staff, vault,
};

/// An RFC 9457 problem document (`application/problem+json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `/problems/<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Vietnamese title of the error kind.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Stable machine code.
    pub code: String,
    /// Vietnamese explanation.
    pub detail: String,
    /// The request id (also in `X-Request-Id`).
    pub request_id: Option<String>,
    /// Invalid fields, for validation errors.
    pub errors: Option<Vec<crate::error::FieldError>>,
}

/// `GET /api/v1/agencies`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyList {
    /// Every agency; `parent` links them into a tree.
    pub items: Vec<crate::catalog::AgencyView>,
}

/// `GET /api/v1/services`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceList {
    /// Matching services, best first.
    pub items: Vec<crate::catalog::ServiceSummary>,
}

/// An acknowledgement with a Vietnamese message.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusMessage {
    /// Machine-readable status.
    pub status: String,
    /// Vietnamese message for the person.
    pub message: String,
}

/// `GET /api/v1/me/sessions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    /// Live sessions.
    pub items: Vec<crate::identity::sessions::SessionSummary>,
}

/// `GET /api/v1/me/passkeys`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyList {
    /// The passkeys, newest first.
    pub items: Vec<crate::identity::passkeys::manage::PasskeyView>,
}

/// `POST /api/v1/me/passkeys/registrations`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyChallenge {
    /// Send it back with the authenticator's answer.
    pub registration_id: String,
    /// `{"publicKey": PublicKeyCredentialCreationOptions}`.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// `GET /api/v1/me/events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    /// Events, newest first.
    pub items: Vec<crate::identity::profile::EventView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<uuid::Uuid>,
}

/// `GET /api/v1/businesses/{id}/authorizations`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizationList {
    /// Active authorisations.
    pub items: Vec<crate::identity::businesses::AuthorizationView>,
}

/// `GET /api/v1/connected-apps`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectedAppList {
    /// Connected applications.
    pub items: Vec<crate::oidc::connected_apps::ConnectedApp>,
}

struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "session",
                SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                    crate::http::session::SESSION_COOKIE,
                    "The browser session from /login",
                ))),
            );
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    utoipa::openapi::security::HttpBuilder::new()
                        .scheme(utoipa::openapi::security::HttpAuthScheme::Bearer)
                        .bearer_format("JWT (RFC 9068), from the OpenID provider")
                        .build(),
                ),
            );
            components.add_security_scheme(
                "staff",
                SecurityScheme::Http(
                    utoipa::openapi::security::HttpBuilder::new()
                        .scheme(utoipa::openapi::security::HttpAuthScheme::Bearer)
                        .bearer_format("staff token from POST /api/v1/staff/tokens")
                        .build(),
                ),
            );
        }
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "HCM Citizen E-Services API",
        description = "JSON API of Ho Chi Minh City's online public services. Errors are RFC 9457 problem documents with a stable `code` and Vietnamese `title`/`detail`."
    ),
    paths(
        registrations::register_citizen,
        registrations::verify_email,
        registrations::resend_verification,
        credentials::request_reset,
        credentials::confirm_reset,
        credentials::change_password,
        credentials::change_email,
        credentials::change_phone,
        credentials::verify_phone,
        credentials::undo_change,
        me::me,
        me::sessions,
        me::revoke_session,
        me::events,
        passkeys::list,
        passkeys::start,
        passkeys::finish,
        passkeys::rename,
        passkeys::remove,
        businesses::register,
        businesses::list_authorizations,
        businesses::grant,
        businesses::revoke,
        connected_apps::list,
        connected_apps::revoke,
        catalog::agencies,
        catalog::services,
        catalog::service,
        dossiers::create,
        dossiers::list,
        dossiers::get,
        dossiers::patch,
        dossiers::submit,
        dossiers::withdraw,
        dossiers::supplement,
        dossiers::events,
        payments::create,
        payments::list,
        dossiers::attach,
        dossiers::attachments,
        dossiers::download,
        lookup::lookup,
        lookup::notifications,
        staff::token,
        staff::queue,
        staff::dossier,
        staff::act,
        staff::forward,
        staff::download,
        staff::apologies,
        staff::approve_apology,
        staff::stage_result,
        staff::vault_document,
        vault::list_records,
        vault::delete_record,
        vault::list_documents,
        vault::download,
        vault::access_log,
        vault::export,
        crate::http::verify::check,
        crate::http::verify::check_copy,
    ),
    components(schemas(Problem, StatusMessage, crate::error::FieldError)),
    modifiers(&SessionCookie),
    tags(
        (name = "accounts", description = "Registration, verification, password reset"),
        (name = "account", description = "The signed-in person: profile, sessions, events, credentials"),
        (name = "businesses", description = "Business accounts and authorisations"),
        (name = "catalog", description = "Agencies and the online public services they offer (no sign-in needed)"),
        (name = "dossiers", description = "The applicant's e-dossiers (scope `dossiers`)"),
        (name = "staff", description = "Civil servants' work on their agency's dossiers (staff tokens)"),
        (name = "vault", description = "The once-only data vault (scope `vault`) and the public check of signed results"),
    )
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`.
pub async fn openapi_json() -> HttpResponse {
    match ApiDoc::openapi().to_json() {
        Ok(body) => HttpResponse::Ok()
            .content_type("application/json")
            .body(body),
        Err(err) => crate::error::AppError::internal(err).into_response(),
    }
}

/// Registers the route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/openapi.json").route(web::get().to(openapi_json)));
}
