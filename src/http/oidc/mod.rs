//! Protocol endpoints of the OpenID provider.

use actix_web::{HttpResponse, http::header, web};

use crate::{error::AppError, oidc::keys, startup::AppState};

/// `GET /oauth2/jwks`: the published signing keys.
pub async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let body = keys::jwks(&state).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        // Short enough that a key published ahead of use (rotation) is fetched in time.
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(body))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/oauth2/jwks").route(web::get().to(jwks)));
}
