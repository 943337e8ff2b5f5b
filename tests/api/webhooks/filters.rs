//! What a subscriber follows: services, agencies, event types (none of a
//! kind: all); and what registration refuses.

use eservices::integrations::webhooks::admin::{self, NewSubscriber};

use super::{SERVICE, WARD, act, filed, kinds, subscribe, ward_receiver};
use crate::{helpers::TestApp, webhooks::receiver::Receiver};

#[tokio::test]
async fn webhook_subscribers_hear_only_the_services_agencies_and_events_they_follow() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start();
    let citizen = app.signed_in_citizen(177).await;
    let follows = |services: &[&str], agencies: &[&str], events: &[&str]| NewSubscriber {
        services: services.iter().map(|s| (*s).to_owned()).collect(),
        agencies: agencies.iter().map(|s| (*s).to_owned()).collect(),
        events: events.iter().map(|s| (*s).to_owned()).collect(),
        ..NewSubscriber::default()
    };
    let cases = [
        ("/dich-vu", follows(&[SERVICE], &[], &[])),
        ("/dich-vu-khac", follows(&["HT-001"], &[], &[])),
        ("/phuong", follows(&[], &[WARD], &[])),
        ("/don-vi-khac", follows(&[], &["000.00.12.H29"], &[])),
        ("/tiep-nhan", follows(&[], &[], &["dossier.accepted"])),
        (
            "/ca-hai",
            follows(
                &[SERVICE, "HT-001"],
                &[WARD],
                &["dossier.filed", "dossier.accepted"],
            ),
        ),
        ("/tat-ca", NewSubscriber::default()),
    ];
    for (path, new) in cases {
        subscribe(&app, &receiver, path, new).await;
    }
    let intake = ward_receiver(&app).await;
    let id = filed(&app, &citizen).await;
    act(&app, &intake, &id, "accept", None).await;
    app.run_jobs().await;

    let both = ["dossier.filed", "dossier.accepted"];
    let none: [&str; 0] = [];
    for (path, expected) in [
        ("/dich-vu", &both[..]),
        ("/dich-vu-khac", &none[..]),
        ("/phuong", &both[..]),
        ("/don-vi-khac", &none[..]),
        ("/tiep-nhan", &["dossier.accepted"][..]),
        ("/ca-hai", &both[..]),
        ("/tat-ca", &both[..]),
    ] {
        let got = receiver.received_at(path).await;
        assert_eq!(kinds(&got), expected, "{path}");
        assert!(got.iter().all(|r| r.verified), "{path}: {got:?}");
    }
}

#[tokio::test]
async fn a_webhook_subscriber_following_what_does_not_exist_is_refused() {
    let app = TestApp::spawn().await;
    let err = admin::add(
        &app.state,
        NewSubscriber {
            name: " ".into(),
            url: "ftp://he-thong.vn/hooks".into(),
            services: vec!["KHONG-CO".into()],
            agencies: vec!["000.99.99.H29".into()],
            events: vec!["dossier.paid".into()],
            personal_data: false,
        },
    )
    .await
    .expect_err("refused");
    let mut fields: Vec<&str> = err
        .field_errors()
        .iter()
        .map(|f| f.field.as_str())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["agency", "event", "name", "service", "url"]);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM webhook_subscribers")
            .await,
        0
    );
}
