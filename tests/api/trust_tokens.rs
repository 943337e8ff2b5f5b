//! Token trust: revocations and replay records outlive a Redis flush, a
//! replayed code revokes its access token, a refresh family keeps one live
//! branch under concurrency, refreshes end with the account's access, and
//! `private_key_jwt` assertions name our issuer.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use eservices::oidc::clients::{NewClient, register};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::Digest;

use crate::{
    helpers::{Citizen, TestApp, TestOptions, input_value},
    oidc_flow::{REDIRECT, SECRET, provider, query, register_client, tokens_for},
};

const CLIENT: &str = "app-offline";
const SCOPE: &str = "openid account offline_access";
const VERIFIER: &str = "trust-verifier-trust-verifier-trust-verifier-0123";

/// An app with its own Redis (so FLUSHDB touches no other test), the
/// provider, a confidential client with refresh tokens and a signed-in citizen.
async fn app_with_citizen(seq: u32, own_redis: bool) -> (TestApp, Citizen) {
    let app = TestApp::spawn_with(TestOptions {
        own_redis,
        ..TestOptions::default()
    })
    .await;
    provider(&app).await;
    register_client(&app, CLIENT, &["openid", "account", "offline_access"], None).await;
    // Introspection is for resource servers: one registered for the API.
    register(
        &app.state,
        NewClient {
            client_id: "cong-api".into(),
            redirect_uris: vec![REDIRECT.into()],
            secret: Some(SECRET.into()),
            resource_audience: Some(eservices::oidc::jwt::api_audience(&app.state)),
            ..NewClient::default()
        },
    )
    .await
    .expect("resource server");
    let citizen = Citizen::sample(seq);
    app.active_citizen(&citizen).await;
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
    (app, citizen)
}

/// Forgets everything Redis held, as a restart without persistence would.
async fn flush_redis(app: &TestApp) {
    let mut kv = app.state.kv.conn().await.expect("redis");
    let _: () = redis::cmd("FLUSHDB")
        .query_async(&mut kv)
        .await
        .expect("flushdb");
}

/// A fresh authorization code of the signed-in citizen for `CLIENT`.
async fn code_for(app: &TestApp) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(VERIFIER.as_bytes()));
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut res = app
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id={CLIENT}&redirect_uri={}&scope={}&code_challenge={challenge}&code_challenge_method=S256",
            enc(REDIRECT),
            enc(SCOPE)
        ))
        .await;
    if res.status() == 200 {
        let page = res.text().await.expect("consent page");
        res = app
            .client
            .post(app.url("/oauth2/consent"))
            .form(&[
                ("consent_id", input_value(&page, "consent_id").expect("id")),
                (
                    "csrf_token",
                    input_value(&page, "csrf_token").expect("csrf"),
                ),
                ("decision", "allow".to_owned()),
            ])
            .send()
            .await
            .expect("consent");
    }
    query(res.headers()["location"].to_str().expect("ascii"), "code").expect("code")
}

async fn exchange(app: &TestApp, code: &str) -> reqwest::Response {
    app.client
        .post(app.url("/oauth2/token"))
        .basic_auth(CLIENT, Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("token")
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/oauth2/token"))
        .basic_auth(CLIENT, Some(SECRET))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await
        .expect("refresh")
}

/// What introspection by the API's resource server `cong-api` says of an
/// access token.
async fn introspect(app: &TestApp, token: &str) -> Value {
    introspect_as(app, "cong-api", token).await
}

/// Whether a refresh token is live (neither rotated nor revoked). Refresh
/// tokens are for us alone: introspection answers no client about them.
async fn refresh_live(app: &TestApp, token: &str) -> bool {
    app.count(&format!(
        "SELECT count(*) AS n FROM oidc_refresh_tokens WHERE token_hash = sha256(convert_to('{token}', 'UTF8')) AND used_at IS NULL AND revoked_at IS NULL"
    ))
    .await
        == 1
}

/// What introspection by `client` says.
async fn introspect_as(app: &TestApp, client: &str, token: &str) -> Value {
    let res = app
        .client
        .post(app.url("/oauth2/introspect"))
        .basic_auth(client, Some(SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .expect("introspect");
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

/// The status of `GET /api/v1/me` with `access` as the bearer token.
async fn me(app: &TestApp, access: &str) -> u16 {
    reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .bearer_auth(access)
        .send()
        .await
        .expect("me")
        .status()
        .as_u16()
}

fn field(body: &Value, name: &str) -> String {
    body[name].as_str().expect(name).to_owned()
}

#[tokio::test]
async fn a_revoked_access_token_stays_revoked_after_redis_is_flushed() {
    let (app, _) = app_with_citizen(61, true).await;
    let revoked = field(
        &tokens_for(&app, CLIENT, SECRET, REDIRECT, SCOPE).await,
        "access_token",
    );
    let kept = field(
        &tokens_for(&app, CLIENT, SECRET, REDIRECT, SCOPE).await,
        "access_token",
    );
    let res = app
        .client
        .post(app.url("/oauth2/revoke"))
        .basic_auth(CLIENT, Some(SECRET))
        .form(&[("token", revoked.as_str())])
        .send()
        .await
        .expect("revoke");
    assert_eq!(res.status(), 200);
    assert_eq!(me(&app, &revoked).await, 401);

    flush_redis(&app).await;
    assert_eq!(me(&app, &revoked).await, 401, "the API still refuses it");
    assert_eq!(
        introspect(&app, &revoked).await["active"],
        false,
        "introspection still says it is revoked"
    );
    assert_eq!(me(&app, &kept).await, 200, "other tokens still work");
    assert_eq!(introspect(&app, &kept).await["active"], true);
}

#[tokio::test]
async fn a_replayed_code_revokes_its_access_token_even_after_redis_is_flushed() {
    let (app, _) = app_with_citizen(62, true).await;

    // Replayed at once: the access token it issued is refused everywhere.
    let code = code_for(&app).await;
    let res = exchange(&app, &code).await;
    assert_eq!(res.status(), 200);
    let first: Value = res.json().await.expect("json");
    let access = field(&first, "access_token");
    assert_eq!(introspect(&app, &access).await["active"], true);
    assert_eq!(
        exchange(&app, &code).await.status(),
        400,
        "a code works once"
    );
    assert_eq!(introspect(&app, &access).await["active"], false);
    assert_eq!(me(&app, &access).await, 401);
    assert_eq!(
        refresh(&app, &field(&first, "refresh_token"))
            .await
            .status(),
        400
    );

    // Replayed after Redis lost everything (the code and any marker there).
    let code = code_for(&app).await;
    let second: Value = exchange(&app, &code).await.json().await.expect("json");
    let access = field(&second, "access_token");
    flush_redis(&app).await;
    assert_eq!(me(&app, &access).await, 200);
    let res = exchange(&app, &code).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.expect("json")["error"],
        "invalid_grant"
    );
    assert_eq!(introspect(&app, &access).await["active"], false);
    assert_eq!(me(&app, &access).await, 401);
    assert_eq!(
        refresh(&app, &field(&second, "refresh_token"))
            .await
            .status(),
        400,
        "its refresh family is revoked too"
    );
}

#[tokio::test]
async fn concurrent_refreshes_leave_exactly_one_live_token_in_the_family() {
    let (app, _) = app_with_citizen(63, false).await;
    let first = field(
        &tokens_for(&app, CLIENT, SECRET, REDIRECT, SCOPE).await,
        "refresh_token",
    );

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let client = app.client.clone();
        let url = app.url("/oauth2/token");
        let token = first.clone();
        tasks.spawn(async move {
            let res = client
                .post(url)
                .basic_auth(CLIENT, Some(SECRET))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                ])
                .send()
                .await
                .expect("refresh");
            (
                res.status().as_u16(),
                res.json::<Value>().await.expect("json"),
            )
        });
    }
    let mut successors = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (status, body) = done.expect("task");
        assert_eq!(status, 200, "within the grace window: {body}");
        successors.push(field(&body, "refresh_token"));
    }
    assert_eq!(successors.len(), 6);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM oidc_refresh_tokens WHERE used_at IS NULL AND revoked_at IS NULL")
            .await,
        1,
        "one live branch"
    );
    let mut live = Vec::new();
    for token in &successors {
        if refresh_live(&app, token).await {
            live.push(token.clone());
        }
    }
    assert_eq!(live.len(), 1, "exactly one successor is live");
    for token in successors.iter().filter(|t| **t != live[0]) {
        assert_eq!(refresh(&app, token).await.status(), 400);
    }
    assert_eq!(refresh(&app, &live[0]).await.status(), 200);
}

#[tokio::test]
async fn a_repeat_within_the_grace_window_revokes_the_earlier_successor() {
    let (app, _) = app_with_citizen(64, false).await;
    let r1 = field(
        &tokens_for(&app, CLIENT, SECRET, REDIRECT, SCOPE).await,
        "refresh_token",
    );
    let r2 = field(
        &refresh(&app, &r1)
            .await
            .json::<Value>()
            .await
            .expect("json"),
        "refresh_token",
    );
    app.clock.advance(chrono::Duration::seconds(2));
    let res = refresh(&app, &r1).await;
    assert_eq!(
        res.status(),
        200,
        "a repeat within the grace window is honoured"
    );
    let r3 = field(&res.json::<Value>().await.expect("json"), "refresh_token");
    assert!(!refresh_live(&app, &r2).await);
    assert!(refresh_live(&app, &r3).await);
    assert_eq!(
        refresh(&app, &r2).await.status(),
        400,
        "the earlier successor ended"
    );
    assert_eq!(refresh(&app, &r3).await.status(), 200);
}

#[tokio::test]
async fn an_account_that_is_not_active_cannot_refresh_and_its_family_ends() {
    let (app, citizen) = app_with_citizen(65, false).await;
    let account = app.state_account(&citizen.national_id).await;
    for status in ["disabled", "pending"] {
        let token = field(
            &tokens_for(&app, CLIENT, SECRET, REDIRECT, SCOPE).await,
            "refresh_token",
        );
        let set = |status: &'static str| {
            let app = &app;
            async move {
                let mut conn = app.db().await;
                diesel_async::RunQueryDsl::execute(
                    diesel::sql_query("UPDATE accounts SET status = $1 WHERE id = $2")
                        .bind::<diesel::sql_types::Text, _>(status)
                        .bind::<diesel::sql_types::Uuid, _>(account.as_uuid()),
                    &mut conn,
                )
                .await
                .expect("status");
            }
        };
        set(status).await;
        let res = refresh(&app, &token).await;
        assert_eq!(res.status(), 400, "{status}");
        assert_eq!(
            res.json::<Value>().await.expect("json")["error"],
            "invalid_grant"
        );
        set("active").await;
        assert_eq!(
            refresh(&app, &token).await.status(),
            400,
            "{status}: the family was revoked, not merely refused"
        );
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM oidc_refresh_tokens WHERE revoked_at IS NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn a_password_change_ends_refresh_families_that_began_before_it() {
    let (app, citizen) = app_with_citizen(66, false).await;
    let before = field(
        &tokens_for(&app, CLIENT, SECRET, REDIRECT, SCOPE).await,
        "refresh_token",
    );
    app.clock.advance(chrono::Duration::minutes(1));
    let res = app
        .post_json(
            "/api/v1/me/password",
            &json!({ "current_password": citizen.password, "new_password": "Phở bò Tân Định 2029" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = refresh(&app, &before).await;
    assert_eq!(res.status(), 400, "a grant from before the change ends");
    assert_eq!(
        res.json::<Value>().await.expect("json")["error"],
        "invalid_grant"
    );

    // The session the change was made in stays, and its new grants refresh.
    app.clock.advance(chrono::Duration::seconds(1));
    let after = field(
        &tokens_for(&app, CLIENT, SECRET, REDIRECT, SCOPE).await,
        "refresh_token",
    );
    assert_eq!(refresh(&app, &after).await.status(), 200);
}

/// An EC P-256 key pair for a client: its signing key and its public JWK Set.
fn client_key(kid: &str) -> (EncodingKey, Value) {
    use p256::{
        elliptic_curve::sec1::ToEncodedPoint,
        pkcs8::{EncodePrivateKey, LineEnding},
    };
    let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    let pem = secret.to_pkcs8_pem(LineEnding::LF).expect("pem");
    let point = secret.public_key().to_encoded_point(false);
    let jwks = json!({ "keys": [{
        "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
        "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
        "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
    }]});
    (EncodingKey::from_ec_pem(pem.as_bytes()).expect("key"), jwks)
}

/// A key-authenticated client and a way to ask for a token with an assertion
/// of the given `aud` and `jti`.
async fn key_client(app: &TestApp) -> EncodingKey {
    let (key, jwks) = client_key("k1");
    register(
        &app.state,
        NewClient {
            client_id: "he-thong-thue".into(),
            redirect_uris: vec![REDIRECT.into()],
            scopes: vec!["openid".into(), "dossiers".into()],
            jwks: Some(jwks),
            ..NewClient::default()
        },
    )
    .await
    .expect("client");
    key
}

fn assertion(app: &TestApp, key: &EncodingKey, aud: &Value, jti: &str) -> String {
    let now = app.now().timestamp();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("k1".into());
    let claims = json!({ "iss": "he-thong-thue", "sub": "he-thong-thue", "aud": aud, "jti": jti, "iat": now, "exp": now + 60 });
    jsonwebtoken::encode(&header, &claims, key).expect("signs")
}

async fn with_assertion(app: &TestApp, assertion: &str) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "dossiers"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
        ])
        .send()
        .await
        .expect("token");
    (res.status().as_u16(), res.json().await.expect("json"))
}

#[tokio::test]
async fn a_replayed_private_key_jwt_assertion_is_refused_after_redis_is_flushed() {
    let app = TestApp::spawn_with(TestOptions {
        own_redis: true,
        ..TestOptions::default()
    })
    .await;
    provider(&app).await;
    let key = key_client(&app).await;
    let once = assertion(&app, &key, &json!(app.address), "once");
    assert_eq!(with_assertion(&app, &once).await.0, 200);
    assert_eq!(with_assertion(&app, &once).await.0, 401);

    flush_redis(&app).await;
    let (status, body) = with_assertion(&app, &once).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("already used"),
        "{body}"
    );
    let fresh = assertion(&app, &key, &json!(app.address), "fresh");
    assert_eq!(with_assertion(&app, &fresh).await.0, 200);
}

#[tokio::test]
async fn a_private_key_jwt_assertion_must_name_our_issuer_alone() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    let key = key_client(&app).await;
    let issuer = app.address.clone();
    let refused = [
        json!("https://idp.other-province.example/oauth2/token"),
        json!(format!("{issuer}/oauth2/token")),
        json!(format!("{issuer}/oauth2/par")),
        json!([issuer, "https://idp.other-province.example"]),
    ];
    for (n, aud) in refused.iter().enumerate() {
        let (status, body) =
            with_assertion(&app, &assertion(&app, &key, aud, &format!("a{n}"))).await;
        assert_eq!(status, 401, "{aud}: {body}");
        assert_eq!(body["error"], "invalid_client");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap_or_default()
                .contains("audience"),
            "{aud}: {body}"
        );
    }
    let (status, body) = with_assertion(&app, &assertion(&app, &key, &json!(issuer), "ok")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn expired_revocation_records_are_purged_by_the_scheduled_maintenance() {
    let (app, _) = app_with_citizen(67, false).await;
    let code = code_for(&app).await;
    let tokens: Value = exchange(&app, &code).await.json().await.expect("json");
    let access = field(&tokens, "access_token");
    assert_eq!(exchange(&app, &code).await.status(), 400);
    assert_eq!(me(&app, &access).await, 401);
    let records = "SELECT (SELECT count(*) FROM oidc_revoked_access_tokens) + (SELECT count(*) FROM oidc_used_codes) AS n";
    assert_eq!(app.count(records).await, 2);

    let worker = app.state.worker();
    worker.schedule_maintenance().await.expect("scheduled");
    app.run_jobs().await;
    assert_eq!(app.count(records).await, 2, "still guarding");

    app.clock.advance(chrono::Duration::minutes(11));
    worker.schedule_maintenance().await.expect("scheduled");
    app.run_jobs().await;
    assert_eq!(app.count(records).await, 0, "expired records are gone");
}
