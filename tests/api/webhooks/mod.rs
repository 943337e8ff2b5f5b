//! Events for city systems: subscribers registered by an administrator get
//! each event of the dossiers they follow once, signed (checked by an
//! independent receiver, tests/support/webhook-receiver), in order; a
//! failing, hanging or paused subscriber gets them later, nothing lost;
//! replays keep the `webhook-id`; personal data only where allowed; and
//! the `eservices admin webhooks` commands.

mod cli;
mod failures;
mod filters;
mod life;
pub(crate) mod receiver;

use eservices::{
    integrations::webhooks::admin::{self, NewSubscriber},
    storage::webhooks::{self as store, AttemptRow, DeliveryRow},
};
use receiver::{Received, Receiver};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    dossiers::{staff_act, staff_token},
    helpers::{Citizen, TestApp},
};

const WARD: &str = "000.21.11.H29";
const SERVICE: &str = "HGCS-001";

/// Registers a subscriber posting to `path` of `receiver`, and tells the
/// receiver its secret (as the city system's operator would); its id.
async fn subscribe(app: &TestApp, receiver: &Receiver, path: &str, new: NewSubscriber) -> Uuid {
    let registered = admin::add(
        &app.state,
        NewSubscriber {
            name: format!("Hệ thống {path}"),
            url: receiver.url(path),
            ..new
        },
    )
    .await
    .expect("registered");
    assert!(registered.secret.starts_with("whsec_"));
    receiver.know_secret(path, &registered.secret).await;
    registered.subscriber.id
}

/// A subscriber of everything at `path`.
pub(crate) async fn subscribe_all(app: &TestApp, receiver: &Receiver, path: &str) -> Uuid {
    subscribe(app, receiver, path, NewSubscriber::default()).await
}

/// The applicant's new draft of the ward's service, filed; its id.
async fn filed(app: &TestApp, citizen: &Citizen) -> String {
    let res = app
        .post_json(
            "/api/v1/dossiers",
            &json!({
                "service_code": SERVICE,
                "agency_code": WARD,
                "form_values": {
                    "full_name": citizen.full_name,
                    "date_of_birth": "1990-01-01",
                    "national_id": citizen.national_id,
                    "permanent_address": "12 Lê Lợi, Phường Bến Thành",
                    "phone": "0901234567",
                },
            }),
        )
        .await;
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let id = res.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{id}/submit")))
        .send()
        .await
        .expect("submit");
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    id
}

/// A civil servant's action that must succeed.
async fn act(app: &TestApp, token: &str, id: &str, action: &str, note: Option<&str>) {
    let res = staff_act(app, token, id, action, note).await;
    assert_eq!(
        res.status(),
        200,
        "{action}: {}",
        res.text().await.unwrap_or_default()
    );
}

/// The ward's receiver's staff token.
async fn ward_receiver(app: &TestApp) -> String {
    staff_token(app, "bt.tiepnhan", WARD, "receiver").await
}

/// The event types of what was received, in order.
fn kinds(received: &[Received]) -> Vec<String> {
    received.iter().map(|r| r.kind().to_owned()).collect()
}

/// A subscriber's deliveries, oldest first.
async fn deliveries(app: &TestApp, subscriber: Uuid) -> Vec<DeliveryRow> {
    let mut conn = app.db().await;
    store::deliveries_of(&mut conn, subscriber)
        .await
        .expect("deliveries")
}

/// A delivery's attempts.
async fn attempts(app: &TestApp, delivery: Uuid) -> Vec<AttemptRow> {
    let mut conn = app.db().await;
    store::attempts_of(&mut conn, delivery)
        .await
        .expect("attempts")
}
