//! The HTTP door: thin actix handlers and the middleware around them.
//! Handlers extract, parse into domain types, call one service function, render.

pub mod api;
pub mod csrf;
pub mod extract;
pub mod health;
pub mod middleware;
pub mod oidc;
pub mod pages;
pub mod request_id;
pub mod session;
pub mod state;
pub mod verify;

pub use state::AppState;

use actix_web::web;

use crate::error::AppError;
use crate::error::Code;

/// Registers every route of the application. Routes are registered as
/// resources, so a known path with another method answers 405, not 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").route(web::get().to(health::healthz)))
        .service(web::resource("/readyz").route(web::get().to(health::readyz)))
        .service(web::resource("/metrics").route(web::get().to(health::metrics)))
        .configure(api::configure)
        .configure(verify::configure)
        .configure(oidc::configure)
        .configure(pages::auth::configure)
        .configure(pages::second_step::configure)
        .configure(pages::passkey_sign_in::configure)
        .configure(pages::account::configure)
        .configure(pages::account_undo::configure)
        .configure(pages::vneid::configure)
        .configure(pages::backoffice::configure)
        .configure(pages::desk::configure)
        .configure(pages::business_desk::configure)
        .configure(pages::dashboard::configure)
        .configure(pages::agency::configure)
        .configure(pages::audit::configure)
        .configure(pages::national_portal::configure)
        .configure(pages::payment_alerts::configure)
        .configure(pages::staff_admin::configure)
        .configure(pages::staff_passkeys::configure)
        .configure(pages::staff_passkey_sign_in::configure);
}

/// The answer for routes that do not exist.
pub async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::from(Code::RouteNotFound))
}
