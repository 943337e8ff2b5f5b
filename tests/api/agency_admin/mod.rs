//! The agency admin's pages over HTTP: changing a civil servant (roles,
//! disabling, resetting the second factor; never locking oneself out), the
//! agency's working time (its own days and opening hours move the due dates
//! of dossiers accepted afterwards, not before), which services it takes
//! new dossiers for, and the audit trail every one of these actions (and
//! every dossier action, from the pages or the staff API) leaves.

mod calendar;
mod services;
mod staff;

use crate::helpers::{TestApp, input_value};

const WARD: &str = "000.21.11.H29";

/// Posts a form with the CSRF token of the page at `from`.
async fn post(
    browser: &reqwest::Client,
    app: &TestApp,
    from: &str,
    to: &str,
    fields: &[(&str, &str)],
) -> (u16, String, Option<String>) {
    let (_, html) = app.page(browser, from).await;
    let csrf = input_value(&html, "csrf_token").expect("csrf");
    let mut form: Vec<(&str, String)> = vec![("csrf_token", csrf)];
    form.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let res = browser
        .post(app.url(to))
        .form(&form)
        .send()
        .await
        .expect("post");
    let location = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    (
        res.status().as_u16(),
        res.text().await.unwrap_or_default(),
        location,
    )
}

/// The id of the civil servant `username`.
async fn staff_id(app: &TestApp, username: &str) -> String {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use eservices::storage::schema::staff;
    let mut conn = app.db().await;
    let id: uuid::Uuid = staff::table
        .filter(staff::username.eq(username))
        .select(staff::id)
        .first(&mut conn)
        .await
        .expect("staff");
    id.to_string()
}

/// The kinds of `agency`'s audit trail, oldest first.
async fn kinds_in_trail(app: &TestApp, agency: &str) -> Vec<String> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use eservices::storage::schema::staff_events;
    let mut conn = app.db().await;
    staff_events::table
        .filter(staff_events::agency_code.eq(agency))
        .order(staff_events::id)
        .select(staff_events::kind)
        .load(&mut conn)
        .await
        .expect("events")
}
