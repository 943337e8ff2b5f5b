//! /healthz, /readyz, /metrics and the request id.

use crate::helpers::TestApp;

#[tokio::test]
async fn healthz_answers_while_the_process_lives() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_reports_each_dependency() {
    let app = TestApp::spawn().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["redis"], "ok");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_a_sane_incoming_one() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz").await;
    let generated = res.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(generated.len(), 32);

    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "edge-proxy-12345678")
        .send()
        .await
        .expect("request");
    assert_eq!(res.headers()["x-request-id"], "edge-proxy-12345678");

    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .expect("request");
    assert_ne!(res.headers()["x-request-id"], "bad id with spaces");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_queue_and_pool() {
    let app = crate::trust_hardening::app_with_metrics().await;
    for _ in 0..3 {
        assert_eq!(app.get("/healthz").await.status(), 200);
    }
    assert_eq!(app.get("/no/such/route/123").await.status(), 404);
    app.queue(
        "metrics@example.vn",
        &eservices::notify::templates::SmtpTestEmail {
            requested_by: "test".into(),
            public_url: app.address.clone(),
        },
    )
    .await;

    let res = crate::trust_hardening::scrape(&app).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
    let text = res.text().await.expect("text");
    assert!(
        text.contains(
            r#"eservices_http_requests_total{method="GET",route="/healthz",status="200"} 3"#
        ),
        "{text}"
    );
    // Unknown paths are counted under one label, never by their raw path.
    assert!(
        text.contains(r#"route="unmatched",status="404"} 1"#),
        "{text}"
    );
    assert!(!text.contains("/no/such/route"));
    assert!(text.contains(
        r#"eservices_http_request_duration_seconds_bucket{method="GET",route="/healthz""#
    ));
    assert!(
        text.contains(r#"eservices_jobs{state="queued"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"eservices_db_pool_connections{state="max"} 8"#),
        "{text}"
    );
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    use crate::helpers::{HOLD_ENTERED, HOLD_RELEASE};
    let app = TestApp::spawn().await;
    let entered = HOLD_ENTERED.notified();
    let request = tokio::spawn(app.client.get(app.url("/test/hold")).send());
    entered.await;

    app.shutdown.cancel();
    // The server stops accepting new connections while the held request is in flight.
    crate::helpers::wait_until(
        "the listener to close",
        std::time::Duration::from_secs(10),
        || async {
            reqwest::Client::new()
                .get(app.url("/healthz"))
                .send()
                .await
                .is_err()
        },
    )
    .await;

    HOLD_RELEASE.notify_one();
    let res = request
        .await
        .expect("task")
        .expect("the in-flight request completes");
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.expect("body"), "released");
    app.server.await.expect("task").expect("clean shutdown");
}

#[tokio::test]
async fn the_api_is_described_by_an_openapi_document() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/openapi.json").await;
    assert_eq!(res.status(), 200);
    let doc: serde_json::Value = res.json().await.expect("json");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    for (path, method) in [
        ("/api/v1/registrations/citizens", "post"),
        ("/api/v1/registrations/verify-email", "post"),
        ("/api/v1/password-resets", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/me/sessions/{id}", "delete"),
        ("/api/v1/businesses/{id}/authorizations", "post"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is documented"
        );
    }
    let registration = &doc["components"]["schemas"]["RegistrationRequest"]["properties"];
    for field in [
        "national_id",
        "full_name",
        "date_of_birth",
        "sex",
        "email",
        "phone",
        "password",
    ] {
        assert!(registration[field].is_object(), "{field}");
    }
    assert!(doc["components"]["securitySchemes"]["session"].is_object());
    // Every documented path answers something other than "no such route".
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let concrete = path
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{authorization}", "00000000-0000-0000-0000-000000000000");
        for method in item.as_object().expect("methods").keys() {
            let res = app
                .client
                .request(
                    method.to_uppercase().parse().expect("method"),
                    app.url(&concrete),
                )
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .expect("request");
            if res.status() == 404 {
                let body: serde_json::Value = res.json().await.expect("json");
                assert_ne!(body["code"], "route_not_found", "{method} {path} is routed");
            }
        }
    }
}
