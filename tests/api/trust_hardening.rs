//! Hardening: sandboxed files checked against their declared type, security
//! headers on every response, `/metrics` behind a token, vault items bound to
//! their owner, and `seed --demo` kept away from real data.

use crate::helpers::{TestApp, TestOptions};

/// The metrics token the apps of these tests run with.
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789abcdef";

/// An app whose `/metrics` opens with [`METRICS_TOKEN`].
pub async fn app_with_metrics() -> TestApp {
    TestApp::spawn_with(TestOptions {
        env: vec![("METRICS_TOKEN", METRICS_TOKEN.to_owned())],
        ..TestOptions::default()
    })
    .await
}

/// `GET /metrics` as the configured scraper.
pub async fn scrape(app: &TestApp) -> reqwest::Response {
    app.client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("scrape")
}

#[tokio::test]
async fn metrics_need_the_token_and_are_absent_without_one() {
    let app = app_with_metrics().await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 401, "no token");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert!(res.headers().contains_key("www-authenticate"));
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["code"], "metrics_token_invalid");
    for wrong in [
        "Bearer test-metrics-token-0123456789abcdeX",
        "Bearer ",
        "Basic dGVzdDp0ZXN0",
        METRICS_TOKEN,
    ] {
        let res = app
            .client
            .get(app.url("/metrics"))
            .header("Authorization", wrong)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 401, "{wrong}");
        assert!(!res.text().await.expect("text").contains("eservices_"));
    }
    let res = scrape(&app).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .expect("text")
            .contains("eservices_http_requests_total")
    );

    // Without a token configured there is nothing to scrape, from anywhere.
    let plain = TestApp::spawn().await;
    let res = plain.get("/metrics").await;
    assert_eq!(res.status(), 404);
    let res = plain
        .client
        .get(plain.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 404);
}
