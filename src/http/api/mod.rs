//! The JSON API under `/api/v1` for the mobile app (problem+json errors).

pub mod businesses;
pub mod catalog;
pub mod connected_apps;
pub mod credentials;
pub mod dossiers;
pub mod lookup;
pub mod me;
pub mod openapi;
pub mod registrations;
pub mod staff;

use actix_web::web;

/// Registers the API routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .configure(registrations::configure)
            .configure(me::configure)
            .configure(credentials::configure)
            .configure(businesses::configure)
            .configure(connected_apps::configure)
            .configure(catalog::configure)
            .configure(dossiers::configure)
            .configure(dossiers::configure_files)
            .configure(lookup::configure)
            .configure(staff::configure)
            .configure(openapi::configure),
    );
}
