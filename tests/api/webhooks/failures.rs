//! A subscriber answering 500, hanging, or paused: every attempt recorded,
//! retried with the outbox's backoff, delivered once it recovers, each
//! dossier's events still in order; and replays with the same `webhook-id`.

use chrono::Duration;
use eservices::integrations::webhooks::admin;

use super::{act, attempts, deliveries, filed, kinds, subscribe_all, ward_receiver};
use crate::{helpers::TestApp, webhooks::receiver::Receiver};

#[tokio::test]
async fn a_webhook_subscriber_answering_500_gets_the_event_again_until_it_takes_it() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start();
    let citizen = app.signed_in_citizen(173).await;
    let subscriber = subscribe_all(&app, &receiver, "/hong").await;
    let intake = ward_receiver(&app).await;
    receiver.answer("fail").await;

    let id = filed(&app, &citizen).await;
    act(&app, &intake, &id, "accept", None).await;
    app.run_jobs().await;
    // The filing failed; the acceptance waits behind it.
    assert_eq!(kinds(&receiver.received().await), ["dossier.filed"]);
    let rows = deliveries(&app, subscriber).await;
    assert_eq!((rows[0].attempts, rows[1].attempts), (1, 0));
    assert_eq!(rows[0].last_outcome.as_deref(), Some("HTTP 500"));
    assert!(rows[0].delivered_at.is_none());

    // Not before its backoff (10 s, and up to a tenth more).
    app.run_jobs().await;
    assert_eq!(receiver.received().await.len(), 1);
    app.clock.advance(Duration::seconds(12));
    app.run_jobs().await;
    assert_eq!(receiver.received().await.len(), 2);

    receiver.answer("ok").await;
    app.clock.advance(Duration::seconds(23));
    app.run_jobs().await;
    let got = receiver.received().await;
    assert_eq!(
        kinds(&got),
        [
            "dossier.filed",
            "dossier.filed",
            "dossier.filed",
            "dossier.accepted"
        ]
    );
    let answers: Vec<_> = got.iter().map(|r| r.answered).collect();
    assert_eq!(answers, [Some(500), Some(500), Some(204), Some(204)]);
    assert!(got.iter().all(|r| r.verified), "{got:?}");
    // Every attempt carried the same webhook-id: the subscriber dedupes on it.
    let first = rows[0].id.to_string();
    assert!(
        got[..3]
            .iter()
            .all(|r| r.id.as_deref() == Some(first.as_str()))
    );
    let tried = attempts(&app, rows[0].id).await;
    let statuses: Vec<_> = tried.iter().map(|a| a.http_status).collect();
    assert_eq!(statuses, [Some(500), Some(500), Some(204)]);
    assert!(tried.windows(2).all(|w| w[0].at < w[1].at));
    let rows = deliveries(&app, subscriber).await;
    assert!(rows.iter().all(|r| r.delivered_at.is_some()));
    assert_eq!((rows[0].attempts, rows[1].attempts), (3, 1));

    // Delivered once: nothing more goes out.
    app.clock.advance(Duration::hours(2));
    app.run_jobs().await;
    assert_eq!(receiver.received().await.len(), 4);
}

#[tokio::test]
async fn a_hanging_webhook_subscriber_times_out_and_is_tried_again() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start();
    let citizen = app.signed_in_citizen(174).await;
    let subscriber = subscribe_all(&app, &receiver, "/treo").await;
    receiver.answer("hang").await;

    filed(&app, &citizen).await;
    let started = std::time::Instant::now();
    app.run_jobs().await;
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_secs(9) && waited < std::time::Duration::from_secs(30),
        "{waited:?}"
    );
    let rows = deliveries(&app, subscriber).await;
    let tried = attempts(&app, rows[0].id).await;
    assert_eq!(tried.len(), 1);
    assert_eq!(tried[0].http_status, None);
    assert_eq!(tried[0].error.as_deref(), Some("timed out"));
    assert!(tried[0].duration_ms >= 9_000, "{}", tried[0].duration_ms);
    assert_eq!(rows[0].last_outcome.as_deref(), Some("timed out"));

    receiver.answer("ok").await;
    app.clock.advance(Duration::seconds(12));
    app.run_jobs().await;
    let got = receiver.received().await;
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].answered, got[1].answered), (None, Some(204)));
    assert_eq!(got[0].id, got[1].id);
    assert!(got[1].verified);
    assert!(deliveries(&app, subscriber).await[0].delivered_at.is_some());
}

#[tokio::test]
async fn a_paused_webhook_subscriber_gets_nothing_until_resumed_then_everything_in_order() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start();
    let citizen = app.signed_in_citizen(175).await;
    let subscriber = subscribe_all(&app, &receiver, "/tam-dung").await;
    let intake = ward_receiver(&app).await;
    admin::pause(&app.state, subscriber).await.expect("paused");

    let id = filed(&app, &citizen).await;
    act(&app, &intake, &id, "accept", None).await;
    app.run_jobs().await;
    app.clock.advance(Duration::minutes(3));
    app.run_jobs().await;
    assert!(receiver.received().await.is_empty());
    let rows = deliveries(&app, subscriber).await;
    assert_eq!(rows.len(), 2, "kept while paused");
    assert!(
        rows.iter()
            .all(|r| r.attempts == 0 && r.delivered_at.is_none())
    );

    // Resumed: what waited goes out at once (no backoff left to wait), in order.
    assert_eq!(
        admin::resume(&app.state, subscriber)
            .await
            .expect("resumed"),
        1
    );
    app.run_jobs().await;
    let got = receiver.received().await;
    assert_eq!(kinds(&got), ["dossier.filed", "dossier.accepted"]);
    assert!(got.iter().all(|r| r.verified && r.answered == Some(204)));
    assert!(
        deliveries(&app, subscriber)
            .await
            .iter()
            .all(|r| r.delivered_at.is_some() && r.attempts == 1)
    );
}

#[tokio::test]
async fn a_replayed_webhook_delivery_keeps_its_webhook_id() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start();
    let citizen = app.signed_in_citizen(176).await;
    let subscriber = subscribe_all(&app, &receiver, "/phat-lai").await;
    let intake = ward_receiver(&app).await;
    let id = filed(&app, &citizen).await;
    act(&app, &intake, &id, "accept", None).await;
    app.run_jobs().await;
    let rows = deliveries(&app, subscriber).await;
    assert_eq!(receiver.received().await.len(), 2);

    admin::replay_delivery(&app.state, rows[0].id)
        .await
        .expect("replayed");
    app.run_jobs().await;
    let got = receiver.received().await;
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].id.as_deref(), Some(rows[0].id.to_string().as_str()));
    assert_eq!(got[2].body, got[0].body, "the same body");
    assert!(got[2].verified);
    assert_eq!(deliveries(&app, subscriber).await[0].attempts, 2);

    let today = app
        .now()
        .with_timezone(&eservices::domain::calendar::city_tz())
        .date_naive();
    let n = admin::replay_since(&app.state, subscriber, today)
        .await
        .expect("replayed");
    assert_eq!(n, 2);
    app.run_jobs().await;
    let got = receiver.received().await;
    let ids: Vec<_> = got[3..].iter().map(|r| r.id.clone().expect("id")).collect();
    assert_eq!(ids, [rows[0].id.to_string(), rows[1].id.to_string()]);
    assert!(got.iter().all(|r| r.verified));
    // Nothing since tomorrow.
    let tomorrow = today.succ_opt().expect("tomorrow");
    assert_eq!(
        admin::replay_since(&app.state, subscriber, tomorrow)
            .await
            .expect("none"),
        0
    );
    let unknown = admin::replay_delivery(&app.state, uuid::Uuid::now_v7())
        .await
        .expect_err("unknown");
    assert_eq!(unknown.kind(), eservices::error::ErrorKind::NotFound);
}
