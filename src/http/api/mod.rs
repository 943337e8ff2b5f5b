//! The JSON API under `/api/v1` for the mobile app (problem+json errors).

pub mod businesses;
pub mod catalog;
pub mod connected_apps;
pub mod credentials;
pub mod dossiers;
pub mod lookup;
pub mod me;
pub mod openapi;
pub mod passkeys;
pub mod payments;
pub mod registrations;
pub mod staff;
pub mod vault;

use actix_web::web;

/// The keyset cursor of the next page: the last item's id when the page is
/// full (there may be more), none on the last page.
pub fn next_cursor<T>(
    items: &[T],
    limit: i64,
    id: impl Fn(&T) -> uuid::Uuid,
) -> Option<uuid::Uuid> {
    (i64::try_from(items.len()).ok() == Some(limit))
        .then(|| items.last().map(id))
        .flatten()
}

/// Registers the API routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .configure(registrations::configure)
            .configure(me::configure)
            .configure(passkeys::configure)
            .configure(credentials::configure)
            .configure(businesses::configure)
            .configure(connected_apps::configure)
            .configure(catalog::configure)
            .configure(dossiers::configure)
            .configure(dossiers::configure_files)
            .configure(payments::configure)
            .configure(lookup::configure)
            .configure(staff::configure)
            .configure(vault::configure)
            .configure(openapi::configure),
    );
}
