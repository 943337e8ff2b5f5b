//! The provider's less common paths: pushed authorization requests,
//! private_key_jwt client authentication, ES256 ID tokens, pairwise subjects
//! per sector, back-channel logout through the outbox, `login_hint` and
//! English pages, the `business` claim and the audit trail of tokens.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Duration;
use eservices::oidc::clients::{NewClient, register};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, jwk::Jwk};
use serde_json::{Value, json};
use sha2::Digest;

use crate::{
    helpers::{Citizen, TestApp, TestOptions, VneidOptions, input_value, vneid_account},
    oidc_flow::{REDIRECT, SECRET, provider, query, register_client, tokens_for},
};

const VERIFIER: &str = "verifier-verifier-verifier-verifier-verifier-0123";

fn challenge() -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(VERIFIER.as_bytes()))
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn signed_in_citizen(app: &TestApp, seq: u32) -> Citizen {
    let citizen = Citizen::sample(seq);
    app.active_citizen(&citizen).await;
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
    citizen
}

/// Allows a consent page and returns the redirect the browser is sent to.
async fn allow(app: &TestApp, page: &str) -> String {
    let res = app
        .client
        .post(app.url("/oauth2/consent"))
        .form(&[
            (
                "consent_id",
                input_value(page, "consent_id").expect("id").as_str(),
            ),
            (
                "csrf_token",
                input_value(page, "csrf_token").expect("csrf").as_str(),
            ),
            ("decision", "allow"),
        ])
        .send()
        .await
        .expect("consent");
    assert_eq!(res.status(), 303);
    res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

async fn push(
    app: &TestApp,
    client_id: &str,
    secret: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let challenge = challenge();
    let mut form = vec![
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("state", "par-state"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        form.retain(|(name, _)| name != k);
        form.push((k, v));
    }
    app.client
        .post(app.url("/oauth2/par"))
        .basic_auth(client_id, Some(secret))
        .form(&form)
        .send()
        .await
        .expect("par")
}

#[tokio::test]
async fn pushed_authorization_requests_work_once_and_can_be_required() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    register(
        &app.state,
        NewClient {
            client_id: "par-only".into(),
            redirect_uris: vec![REDIRECT.into()],
            secret: Some(SECRET.into()),
            scopes: vec!["openid".into()],
            require_par: true,
            ..NewClient::default()
        },
    )
    .await
    .expect("client");

    // Not signed in yet: the pushed request survives the sign-in.
    let res = push(&app, "par-only", SECRET, &[]).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let pushed: Value = res.json().await.expect("json");
    assert_eq!(pushed["expires_in"], 90);
    let request_uri = pushed["request_uri"].as_str().expect("uri").to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    let authorize = format!(
        "/oauth2/authorize?client_id=par-only&request_uri={}",
        enc(&request_uri)
    );
    let res = app.get(&authorize).await;
    assert_eq!(res.status(), 303);
    let login = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(login.starts_with("/login?return_to="), "{login}");
    let return_to = query(&format!("http://x{login}"), "return_to").expect("return_to");
    assert!(
        return_to.contains("request_uri=") && !return_to.contains("redirect_uri"),
        "the continuation carries no parameters: {return_to}"
    );
    // The request_uri itself worked once.
    assert_eq!(app.get(&authorize).await.status(), 400);

    let citizen = Citizen::sample(31);
    app.active_citizen(&citizen).await;
    let page = app.get("/login").await.text().await.expect("page");
    let res = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("username", citizen.national_id.as_str()),
            ("password", citizen.password.as_str()),
            (
                "csrf_token",
                input_value(&page, "csrf_token").expect("csrf").as_str(),
            ),
            ("return_to", return_to.as_str()),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], return_to.as_str());
    let page = app.get(&return_to).await;
    assert_eq!(page.status(), 200, "consent");
    let location = allow(&app, &page.text().await.expect("page")).await;
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(query(&location, "state").as_deref(), Some("par-state"));
    let code = query(&location, "code").expect("code");
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth("par-only", Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );

    // Signed in: a second pushed request goes straight to a code (consent remembered).
    let pushed: Value = push(&app, "par-only", SECRET, &[])
        .await
        .json()
        .await
        .expect("json");
    let res = app
        .get(&format!(
            "/oauth2/authorize?client_id=par-only&request_uri={}&scope=openid%20email",
            enc(pushed["request_uri"].as_str().expect("uri"))
        ))
        .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().expect("ascii");
    assert!(
        query(location, "code").is_some(),
        "parameters outside the pushed request are ignored: {location}"
    );

    // This client may not skip PAR.
    let res = app
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id=par-only&redirect_uri={}&scope=openid&state=s&code_challenge={}&code_challenge_method=S256",
            enc(REDIRECT),
            challenge()
        ))
        .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().expect("ascii");
    assert_eq!(query(location, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query(location, "state").as_deref(), Some("s"));

    // A pushed request is checked at once, and answered directly.
    let bad = push(
        &app,
        "par-only",
        SECRET,
        &[("redirect_uri", "https://evil.example/cb")],
    )
    .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.json::<Value>().await.expect("json")["error"],
        "invalid_request"
    );
    let bad = push(
        &app,
        "par-only",
        SECRET,
        &[("code_challenge_method", "plain")],
    )
    .await;
    assert_eq!(bad.status(), 400);
    let bad = push(&app, "par-only", SECRET, &[("scope", "openid dossiers")]).await;
    assert_eq!(
        bad.json::<Value>().await.expect("json")["error"],
        "invalid_scope"
    );
    let bad = push(
        &app,
        "par-only",
        "wrong-secret-wrong-secret-wrong-secret",
        &[],
    )
    .await;
    assert_eq!(bad.status(), 401);
    assert!(bad.headers().contains_key("www-authenticate"));
    let bad = push(&app, "par-only", SECRET, &[("request_uri", "urn:x")]).await;
    assert_eq!(bad.status(), 400);

    // Another client cannot use this client's request_uri.
    register_client(&app, "other-rp", &["openid"], None).await;
    let pushed: Value = push(&app, "par-only", SECRET, &[])
        .await
        .json()
        .await
        .expect("json");
    let res = app
        .get(&format!(
            "/oauth2/authorize?client_id=other-rp&request_uri={}",
            enc(pushed["request_uri"].as_str().expect("uri"))
        ))
        .await;
    assert_eq!(res.status(), 400);
    assert!(!res.headers().contains_key("location"));

    let discovery: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        discovery["pushed_authorization_request_endpoint"],
        format!("{}/oauth2/par", app.address)
    );
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

fn assertion(key: &EncodingKey, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, key).expect("signs")
}

async fn with_assertion(app: &TestApp, assertion: &str) -> reqwest::Response {
    app.client
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
        .expect("token")
}

#[tokio::test]
async fn private_key_jwt_clients_authenticate_with_signed_assertions_once() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    let (key, jwks) = client_key("k1");
    let registered = register(
        &app.state,
        NewClient {
            client_id: "he-thong-thue".into(),
            redirect_uris: vec![REDIRECT.into()],
            scopes: vec!["openid".into(), "dossiers".into()],
            jwks: Some(jwks.clone()),
            // It introspects API tokens below: a resource server of the API.
            resource_audience: Some(eservices::oidc::jwt::api_audience(&app.state)),
            ..NewClient::default()
        },
    )
    .await
    .expect("client");
    assert!(
        registered.secret.is_none(),
        "no secret for a key-based client"
    );
    let now = app.now().timestamp();
    let claims = |jti: &str, aud: &str, exp: i64| json!({ "iss": "he-thong-thue", "sub": "he-thong-thue", "aud": aud, "jti": jti, "iat": now, "exp": exp });
    let issuer = app.address.clone();

    let good = assertion(&key, "k1", &claims("j1", &issuer, now + 60));
    let res = with_assertion(&app, &good).await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    // Only the issuer identifier is an accepted audience (RFC 7523bis, FAPI 2.0),
    // not the token endpoint's URL.
    let res = with_assertion(
        &app,
        &assertion(
            &key,
            "k1",
            &claims("j2", &format!("{issuer}/oauth2/token"), now + 60),
        ),
    )
    .await;
    assert_eq!(res.status(), 401);

    let refused = [
        (good.clone(), "already used"),
        (
            assertion(&key, "k1", &claims("j3", "https://other.example", now + 60)),
            "invalid",
        ),
        (
            assertion(&key, "k1", &claims("j4", &issuer, now - 1)),
            "expired",
        ),
        (
            assertion(&key, "k1", &claims("j5", &issuer, now + 3600)),
            "too long",
        ),
        (
            assertion(
                &key,
                "k1",
                &json!({ "iss": "he-thong-thue", "sub": "he-thong-thue", "aud": issuer, "exp": now + 60 }),
            ),
            "jti",
        ),
        (
            assertion(
                &key,
                "k1",
                &json!({ "iss": "he-thong-thue", "sub": "he-thong-thue", "aud": issuer, "jti": "j6", "iat": now + 3600, "exp": now + 120 }),
            ),
            "not valid yet",
        ),
        (
            assertion(&client_key("k1").0, "k1", &claims("j7", &issuer, now + 60)),
            "invalid",
        ),
        (
            // HS256 with the client's public key as the secret.
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims("j8", &issuer, now + 60),
                &EncodingKey::from_secret(jwks.to_string().as_bytes()),
            )
            .expect("hs256"),
            "asymmetric",
        ),
        (
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
                URL_SAFE_NO_PAD.encode(claims("j9", &issuer, now + 60).to_string())
            ),
            "not a valid JWT",
        ),
        ("garbage".to_owned(), "names no client"),
    ];
    for (bad, why) in &refused {
        let res = with_assertion(&app, bad).await;
        assert_eq!(res.status(), 401, "{why}");
        assert!(res.headers().contains_key("www-authenticate"));
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["error"], "invalid_client", "{why}");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap_or_default()
                .contains(why),
            "{why}: {body}"
        );
    }
    // Another assertion type, or half of the pair, is refused.
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
            ),
            ("client_assertion", good.as_str()),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.expect("json")["error"],
        "invalid_client"
    );
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.expect("json")["error"],
        "invalid_request"
    );
    // A secret is not this client's method.
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth("he-thong-thue", Some(SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 401);

    // Introspection accepts the same authentication.
    let token: Value = with_assertion(
        &app,
        &assertion(&key, "k1", &claims("j10", &issuer, now + 60)),
    )
    .await
    .json()
    .await
    .expect("json");
    let res = app
        .client
        .post(app.url("/oauth2/introspect"))
        .form(&[
            ("token", token["access_token"].as_str().expect("token")),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            (
                "client_assertion",
                &assertion(&key, "k1", &claims("j11", &issuer, now + 60)),
            ),
        ])
        .send()
        .await
        .expect("introspect");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["active"], true, "{body}");

    // Private keys are refused at registration.
    let mut leaked = jwks.clone();
    leaked["keys"][0]["d"] = json!("c2VjcmV0");
    let err = register(
        &app.state,
        NewClient {
            client_id: "leaky".into(),
            redirect_uris: vec![REDIRECT.into()],
            jwks: Some(leaked),
            ..NewClient::default()
        },
    )
    .await
    .expect_err("private key refused");
    assert_eq!(err.code().as_str(), "validation_failed");
}

fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("json")
}

async fn verify_with_jwks(app: &TestApp, jwt: &str, audience: &str) -> Value {
    let header = jsonwebtoken::decode_header(jwt).expect("header");
    let doc: Value = app.get("/oauth2/jwks").await.json().await.expect("jwks");
    let jwk: Jwk = serde_json::from_value(
        doc["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| Some(k["kid"].as_str().unwrap_or_default()) == header.kid.as_deref())
            .expect("published")
            .clone(),
    )
    .expect("jwk");
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[app.address.as_str()]);
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(jwt, &DecodingKey::from_jwk(&jwk).expect("key"), &validation)
        .expect("verifies")
        .claims
}

async fn secret_client(app: &TestApp, id: &str, sector: Option<&str>, alg: Option<&str>) {
    register(
        &app.state,
        NewClient {
            client_id: id.into(),
            redirect_uris: vec![REDIRECT.into()],
            secret: Some(SECRET.into()),
            scopes: vec!["openid".into()],
            sector_identifier: sector.map(str::to_owned),
            id_token_alg: alg.map(str::to_owned),
            ..NewClient::default()
        },
    )
    .await
    .expect("client");
}

#[tokio::test]
async fn es256_id_tokens_on_request_and_pairwise_subjects_per_sector() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    secret_client(&app, "tu-phap-a", Some("so-tu-phap"), Some("ES256")).await;
    secret_client(&app, "tu-phap-b", Some("so-tu-phap"), None).await;
    secret_client(&app, "xay-dung", None, None).await;
    signed_in_citizen(&app, 32).await;

    let a = tokens_for(&app, "tu-phap-a", SECRET, REDIRECT, "openid").await;
    let b = tokens_for(&app, "tu-phap-b", SECRET, REDIRECT, "openid").await;
    let c = tokens_for(&app, "xay-dung", SECRET, REDIRECT, "openid").await;
    let id_a = a["id_token"].as_str().expect("id token");
    assert_eq!(
        jsonwebtoken::decode_header(id_a).expect("header").alg,
        Algorithm::ES256
    );
    assert_eq!(
        jsonwebtoken::decode_header(b["id_token"].as_str().expect("id"))
            .expect("header")
            .alg,
        Algorithm::RS256
    );
    let claims_a = verify_with_jwks(&app, id_a, "tu-phap-a").await;
    assert_eq!(claims_a["nonce"], "n1");
    // The openidconnect crate accepts the ES256 ID token too.
    let (metadata, _) = {
        let http = openidconnect::reqwest::ClientBuilder::new()
            .build()
            .expect("http");
        let metadata = openidconnect::core::CoreProviderMetadata::discover_async(
            openidconnect::IssuerUrl::new(app.address.clone()).expect("issuer"),
            &http,
        )
        .await
        .expect("discovery");
        (metadata, http)
    };
    let rp = openidconnect::core::CoreClient::from_provider_metadata(
        metadata,
        openidconnect::ClientId::new("tu-phap-a".into()),
        Some(openidconnect::ClientSecret::new(SECRET.into())),
    );
    let id_token: openidconnect::core::CoreIdToken = id_a.parse().expect("id token");
    id_token
        .claims(
            &rp.id_token_verifier(),
            &openidconnect::Nonce::new("n1".into()),
        )
        .expect("the library verifies our ES256 ID token");

    let sub = |t: &Value| claims_of(t["id_token"].as_str().expect("id"))["sub"].clone();
    assert_eq!(sub(&a), sub(&b), "one sector, one subject");
    assert_ne!(sub(&a), sub(&c), "another sector cannot join");
    let me: Value = app.get("/api/v1/me").await.json().await.expect("me");
    let account_id = me["id"].as_str().expect("the account id").to_owned();
    for t in [&a, &b, &c] {
        let s = sub(t);
        let s = s.as_str().expect("a subject");
        assert_ne!(s, account_id, "pairwise, not the account id");
        assert_eq!(s.len(), 43, "base64url of an HMAC-SHA-256");
    }
}

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
    signed_in_citizen(&app, 33).await;
    let tokens = tokens_for(&app, "rp-backchannel", SECRET, REDIRECT, "openid").await;
    let id_claims = claims_of(tokens["id_token"].as_str().expect("id"));

    // The citizen signs out on our own page.
    let page = app.get("/logout").await.text().await.expect("page");
    let res = app
        .client
        .post(app.url("/logout"))
        .form(&[(
            "csrf_token",
            input_value(&page, "csrf_token").expect("csrf"),
        )])
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 303);

    // The client is down at first: the notice waits in the outbox.
    app.run_jobs().await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(received.lock().expect("lock").is_empty());
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM jobs WHERE kind = 'backchannel_logout' AND state = 'queued'"
        )
        .await,
        1
    );
    app.clock.advance(Duration::minutes(5));
    app.run_jobs().await;
    let tokens_received = received.lock().expect("lock").clone();
    assert_eq!(tokens_received.len(), 1);
    let logout_token = &tokens_received[0];
    assert_eq!(
        jsonwebtoken::decode_header(logout_token)
            .expect("header")
            .typ
            .as_deref(),
        Some("logout+jwt")
    );
    let claims = verify_with_jwks(&app, logout_token, "rp-backchannel").await;
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

    // A session that ended tells nobody twice; a new session with no client tells nobody.
    signed_in_citizen(&app, 34).await;
    let page = app.get("/logout").await.text().await.expect("page");
    app.client
        .post(app.url("/logout"))
        .form(&[(
            "csrf_token",
            input_value(&page, "csrf_token").expect("csrf"),
        )])
        .send()
        .await
        .expect("logout");
    app.run_jobs().await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn login_hint_prefills_and_ui_locales_en_gives_english_pages() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    let citizen = Citizen::sample(35);
    app.active_citizen(&citizen).await;
    let res = app
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id=cong-thong-tin&redirect_uri={}&scope=openid%20email&state=s&code_challenge={}&code_challenge_method=S256&login_hint={}&ui_locales=en-US%20vi",
            enc(REDIRECT),
            challenge(),
            citizen.national_id
        ))
        .await;
    assert_eq!(res.status(), 303);
    let login = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let page = app.get(&login).await.text().await.expect("page");
    assert!(page.contains("<html lang=\"en\">"), "{page}");
    assert!(
        page.contains("Sign in") && page.contains("Password"),
        "{page}"
    );
    assert!(
        page.contains(&format!("value=\"{}\"", citizen.national_id)),
        "the login_hint is prefilled"
    );
    let return_to = query(&format!("http://x{login}"), "return_to").expect("return_to");
    let res = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("username", citizen.national_id.as_str()),
            ("password", citizen.password.as_str()),
            (
                "csrf_token",
                input_value(&page, "csrf_token").expect("csrf").as_str(),
            ),
            ("return_to", return_to.as_str()),
            ("lang", "en"),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 303);
    let consent = app.get(&return_to).await.text().await.expect("consent");
    assert!(
        consent.contains("Allow access") && consent.contains("Your email address"),
        "{consent}"
    );

    // Without ui_locales, Vietnamese.
    let page = app.get("/login").await.text().await.expect("page");
    assert!(page.contains("<html lang=\"vi\">") && page.contains("Mật khẩu"));
}

#[tokio::test]
async fn business_and_address_claims_come_from_verified_data_and_tokens_are_audited() {
    let mut rep = vneid_account(
        "rep",
        "vneid-sub-rep-oidc",
        "079188000002",
        "Trần Thị Đại Diện",
        "1988-04-04",
        "female",
    );
    rep["claims"]["address"] = json!({
        "formatted": "12 Lê Lợi, Phường Sài Gòn, Thành phố Hồ Chí Minh",
        "street_address": "12 Lê Lợi",
        "locality": "Phường Sài Gòn",
        "region": "Thành phố Hồ Chí Minh",
        "country": "VN",
        "unexpected": "dropped",
    });
    let app = TestApp::spawn_with(TestOptions {
        vneid: Some(VneidOptions {
            accounts: vec![rep],
            fail_with: None,
        }),
        env: vec![(
            "VNEID_SCOPES",
            "openid profile national_id address".to_owned(),
        )],
        ..TestOptions::default()
    })
    .await;
    provider(&app).await;
    register(
        &app.state,
        NewClient {
            client_id: "cong-doanh-nghiep".into(),
            redirect_uris: vec![REDIRECT.into()],
            secret: Some(SECRET.into()),
            scopes: vec![
                "openid".into(),
                "business".into(),
                "national_id".into(),
                "address".into(),
                "offline_access".into(),
            ],
            ..NewClient::default()
        },
    )
    .await
    .expect("client");
    assert_eq!(app.sign_in_with_vneid("rep").await.status(), 303);
    let res = app
        .post_json(
            "/api/v1/businesses",
            &json!({ "tax_code": "0100109106", "name": "Công ty TNHH Bến Nghé", "address": "1 Nguyễn Huệ, Phường Sài Gòn" }),
        )
        .await;
    assert_eq!(
        res.status(),
        202,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let business: Value = res.json().await.expect("json");
    let business_id = business["id"].as_str().expect("id").to_owned();
    crate::trust_business::confirm_business(&app, &business_id).await;
    // Choose to act for it in this session.
    let page = app
        .get("/login/choose?return_to=/api/v1/me")
        .await
        .text()
        .await
        .expect("page");
    let res = app
        .client
        .post(app.url("/login/choose"))
        .form(&[
            ("acting_for", business_id.as_str()),
            (
                "csrf_token",
                input_value(&page, "csrf_token").expect("csrf").as_str(),
            ),
            ("return_to", "/api/v1/me"),
        ])
        .send()
        .await
        .expect("choose");
    assert_eq!(res.status(), 303);

    let tokens = tokens_for(
        &app,
        "cong-doanh-nghiep",
        SECRET,
        REDIRECT,
        "openid business national_id address offline_access",
    )
    .await;
    let access = tokens["access_token"].as_str().expect("access");
    let userinfo: Value = app
        .client
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json");
    assert_eq!(userinfo["national_id"], "079188000002", "{userinfo}");
    assert_eq!(
        userinfo["acting_for"]["tax_code"], "0100109106",
        "{userinfo}"
    );
    assert_eq!(userinfo["business"][0]["capacity"], "representative");
    assert_eq!(userinfo["business"][0]["name"], "Công ty TNHH Bến Nghé");
    assert_eq!(
        userinfo["address"],
        json!({
            "formatted": "12 Lê Lợi, Phường Sài Gòn, Thành phố Hồ Chí Minh",
            "street_address": "12 Lê Lợi",
            "locality": "Phường Sài Gòn",
            "region": "Thành phố Hồ Chí Minh",
            "country": "VN",
        }),
        "the address VNeID vouched for, and nothing else"
    );

    // Refresh keeps the business; revocation is audited.
    let refreshed: Value = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth("cong-doanh-nghiep", Some(SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                tokens["refresh_token"].as_str().expect("rt"),
            ),
        ])
        .send()
        .await
        .expect("refresh")
        .json()
        .await
        .expect("json");
    let userinfo: Value = app
        .client
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(refreshed["access_token"].as_str().expect("at"))
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json");
    assert_eq!(userinfo["acting_for"]["tax_code"], "0100109106");
    let res = app
        .client
        .post(app.url("/oauth2/revoke"))
        .basic_auth("cong-doanh-nghiep", Some(SECRET))
        .form(&[("token", refreshed["refresh_token"].as_str().expect("rt"))])
        .send()
        .await
        .expect("revoke");
    assert_eq!(res.status(), 200);

    let events: Value = app
        .get("/api/v1/me/events")
        .await
        .json()
        .await
        .expect("events");
    let kinds: Vec<&str> = events["items"]
        .as_array()
        .or_else(|| events.as_array())
        .expect("a list")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    for kind in [
        "consent_granted",
        "oidc_tokens_issued",
        "oidc_tokens_refreshed",
        "oidc_token_revoked",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
}
