//! Back-channel logout: signing out tells each client of the session
//! through the outbox, retrying until the client listens, with a logout
//! token it can verify; nobody is told twice.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use chrono::Duration;
use eservices::oidc::clients::{NewClient, register};
use serde_json::Value;

use super::{claims_of, verify_with_jwks};
use crate::{
    helpers::{TestApp, input_value},
    oidc_flow::{REDIRECT, SECRET, provider, tokens_for},
};

/// A relying party's back-channel logout endpoint: refuses the first
/// `failures` deliveries with 503, then keeps every token it gets.
async fn logout_receiver(failures: usize) -> (String, Arc<Mutex<Vec<String>>>, Arc<AtomicUsize>) {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let received = Arc::new(Mutex::new(Vec::<String>::new()));
    let calls = Arc::new(AtomicUsize::new(0));
    let (r, c) = (received.clone(), calls.clone());
    let server = HttpServer::new(move || {
        let (r, c) = (r.clone(), c.clone());
        App::new().route(
            "/backchannel",
            web::post().to(
                move |form: web::Form<std::collections::HashMap<String, String>>| {
                    let (r, c) = (r.clone(), c.clone());
                    async move {
                        if c.fetch_add(1, Ordering::SeqCst) < failures {
                            return HttpResponse::ServiceUnavailable().finish();
                        }
                        r.lock()
                            .expect("lock")
                            .push(form.get("logout_token").cloned().unwrap_or_default());
                        HttpResponse::Ok().finish()
                    }
                },
            ),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind");
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (
        format!("http://127.0.0.1:{port}/backchannel"),
        received,
        calls,
    )
}

/// What the relying party's endpoint got: the logout tokens and the calls.
struct Receiver {
    received: Arc<Mutex<Vec<String>>>,
    calls: Arc<AtomicUsize>,
}

#[tokio::test]
async fn signing_out_tells_clients_through_the_outbox_until_they_listen() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    let (uri, received, calls) = logout_receiver(1).await;
    register(
        &app.state,
        NewClient {
            client_id: "rp-backchannel".into(),
            redirect_uris: vec![REDIRECT.into()],
            secret: Some(SECRET.into()),
            scopes: vec!["openid".into()],
            backchannel_logout_uri: Some(uri),
            ..NewClient::default()
        },
    )
    .await
    .expect("client");
    app.signed_in_citizen(33).await;
    let tokens = tokens_for(&app, "rp-backchannel", SECRET, REDIRECT, "openid").await;
    let id_claims = claims_of(tokens["id_token"].as_str().expect("id"));

    // The citizen signs out on our own page.
    assert_eq!(sign_out(&app).await.status(), 303);
    let receiver = Receiver { received, calls };
    the_notice_waits_until_the_client_listens(&app, &receiver, &id_claims).await;

    // A session that ended tells nobody twice; a new session with no client tells nobody.
    app.signed_in_citizen(34).await;
    sign_out(&app).await;
    app.run_jobs().await;
    assert_eq!(receiver.calls.load(Ordering::SeqCst), 2);
}

/// The citizen signs out on our own page.
async fn sign_out(app: &TestApp) -> reqwest::Response {
    let page = app.get("/logout").await.text().await.expect("page");
    app.client
        .post(app.url("/logout"))
        .form(&[(
            "csrf_token",
            input_value(&page, "csrf_token").expect("csrf"),
        )])
        .send()
        .await
        .expect("logout")
}

/// The client is down at first: the notice waits in the outbox, then
/// arrives as a logout token for the session of `id_claims`; both attempts
/// are recorded and the session's clients forgotten.
async fn the_notice_waits_until_the_client_listens(
    app: &TestApp,
    receiver: &Receiver,
    id_claims: &Value,
) {
    app.run_jobs().await;
    assert_eq!(receiver.calls.load(Ordering::SeqCst), 1);
    assert!(receiver.received.lock().expect("lock").is_empty());
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM jobs WHERE kind = 'backchannel_logout' AND state = 'queued'"
        )
        .await,
        1
    );
    app.clock.advance(Duration::minutes(5));
    app.run_jobs().await;
    let tokens_received = receiver.received.lock().expect("lock").clone();
    assert_eq!(tokens_received.len(), 1);
    let logout_token = &tokens_received[0];
    assert_eq!(
        jsonwebtoken::decode_header(logout_token)
            .expect("header")
            .typ
            .as_deref(),
        Some("logout+jwt")
    );
    let claims = verify_with_jwks(app, logout_token, "rp-backchannel").await;
    assert_eq!(claims["sid"], id_claims["sid"]);
    assert_eq!(claims["sub"], id_claims["sub"]);
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none());
    assert!(claims["jti"].is_string());
    assert_eq!(
        app.count("SELECT count(*) AS n FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.kind = 'backchannel_logout'")
            .await,
        2,
        "both attempts are recorded"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM oidc_session_clients")
            .await,
        0
    );
}
