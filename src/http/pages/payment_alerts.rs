//! `GET /backoffice/payments`: the payment problems a receiver or an agency
//! admin must act on (payments to refund, callbacks refused for their amount
//! or checksum), newest first. A thin door to `payments::alerts`.

use actix_web::{http::StatusCode, web};
use askama::Template;

use super::{PageResult, desk::local, html, render, staff_guard::SignedInStaff};
use crate::{http::AppState, payments};

/// One line: when, what, the transaction, the dossier (id, receipt code), the agency.
struct Line {
    at: String,
    what: &'static str,
    transaction_id: String,
    dossier: Option<(String, String)>,
    agency_code: String,
}

#[derive(Template)]
#[template(path = "backoffice/payment_alerts.html")]
struct AlertsPage {
    lines: Vec<Line>,
}

/// `GET /backoffice/payments`.
pub async fn list(state: web::Data<AppState>, SignedInStaff(session): SignedInStaff) -> PageResult {
    let alerts = payments::alerts(&state, &session).await?;
    let lines = alerts
        .into_iter()
        .map(|a| Line {
            at: local(&a.at),
            what: a.what,
            transaction_id: a.transaction_id,
            dossier: a.dossier.map(|(id, code)| (id.to_string(), code)),
            agency_code: a.agency_code.unwrap_or_default(),
        })
        .collect();
    let body = render(&AlertsPage { lines })?;
    Ok(html(StatusCode::OK, body, None))
}

/// Registers the route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/backoffice/payments").route(web::get().to(list)));
}
