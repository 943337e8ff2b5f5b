//! The error model: every failure is problem+json with a stable code, a
//! Vietnamese title and the request id, and bad input changes nothing.

use serde_json::Value;

use crate::helpers::TestApp;

async fn problem(res: reqwest::Response) -> (u16, String, Value) {
    let status = res.status().as_u16();
    let request_id = res.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "status {status}"
    );
    let body: Value = res.json().await.expect("problem json");
    assert_eq!(body["status"], status);
    assert_eq!(body["request_id"], request_id.as_str());
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
    (status, request_id, body)
}

async fn emails_stored(app: &TestApp) -> i64 {
    app.count("SELECT count(*) AS n FROM emails").await
}

#[tokio::test]
async fn unknown_routes_are_404_problems() {
    let app = TestApp::spawn().await;
    let (status, _, body) = problem(app.get("/api/v1/nothing-here").await).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "route_not_found");
    assert_eq!(body["title"], "Không tìm thấy");
    assert_eq!(body["type"], "/problems/route_not_found");
}

#[tokio::test]
async fn wrong_methods_are_405_problems() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/healthz"))
        .send()
        .await
        .expect("request");
    let (status, _, body) = problem(res).await;
    assert_eq!(status, 405);
    assert_eq!(body["code"], "method_not_allowed");
    assert_eq!(body["title"], "Phương thức không được hỗ trợ");
}

#[tokio::test]
async fn malformed_json_is_400_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/test/echo"))
        .header("content-type", "application/json")
        .body(r#"{"to": "a@example.vn", "count": "#)
        .send()
        .await
        .expect("request");
    let (status, _, body) = problem(res).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "malformed_json");
    assert!(body["detail"].as_str().expect("detail").contains("cú pháp"));
    assert_eq!(emails_stored(&app).await, 0);
}

#[tokio::test]
async fn a_wrong_content_type_is_415_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/test/echo"))
        .header("content-type", "text/plain")
        .body(r#"{"to": "a@example.vn", "count": 1}"#)
        .send()
        .await
        .expect("request");
    let (status, _, body) = problem(res).await;
    assert_eq!(status, 415);
    assert_eq!(body["code"], "unsupported_media_type");
    assert_eq!(emails_stored(&app).await, 0);
}

#[tokio::test]
async fn oversized_bodies_are_413_and_write_nothing() {
    let app = TestApp::spawn().await;
    let padding = "x".repeat(300 * 1024);
    let res = app
        .client
        .post(app.url("/test/echo"))
        .json(&serde_json::json!({ "to": "a@example.vn", "count": 1, "pad": padding }))
        .send()
        .await
        .expect("request");
    let (status, _, body) = problem(res).await;
    assert_eq!(status, 413);
    assert_eq!(body["code"], "payload_too_large");
    assert_eq!(emails_stored(&app).await, 0);
}

#[tokio::test]
async fn missing_and_mistyped_fields_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/test/echo"))
        .json(&serde_json::json!({ "count": 1 }))
        .send()
        .await
        .expect("request");
    let (status, _, body) = problem(res).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "to");
    assert_eq!(body["title"], "Dữ liệu không hợp lệ");

    let res = app
        .client
        .post(app.url("/test/echo"))
        .json(&serde_json::json!({ "to": "a@example.vn", "count": -1 }))
        .send()
        .await
        .expect("request");
    let (status, _, _) = problem(res).await;
    assert_eq!(status, 422);
    assert_eq!(emails_stored(&app).await, 0);
}

#[tokio::test]
async fn valid_input_to_the_probe_does_write() {
    // The counterpart of the tests above: the same probe with good input writes.
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/test/echo"))
        .json(&serde_json::json!({ "to": "a@example.vn", "count": 1 }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 201);
    assert_eq!(emails_stored(&app).await, 1);
}

#[tokio::test]
async fn a_panicking_handler_gives_a_500_problem_and_the_server_lives_on() {
    let app = TestApp::spawn().await;
    let (status, request_id, body) = problem(app.get("/test/panic").await).await;
    assert_eq!(status, 500);
    assert_eq!(body["code"], "internal_error");
    assert_eq!(body["title"], "Lỗi hệ thống");
    let detail = body["detail"].as_str().expect("detail");
    assert!(!detail.contains("probe panic"), "internals must not leak");
    assert_eq!(request_id.len(), 32);
    for _ in 0..4 {
        assert_eq!(app.get("/healthz").await.status(), 200);
    }
}
