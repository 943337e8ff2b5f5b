//! The OpenID provider: signing keys, JWKS, rotation, client registration.

use std::process::Command;

use chrono::Duration;
use eservices::oidc::keys::{self, Alg};
use jsonwebtoken::{DecodingKey, Header, Validation, jwk::Jwk};
use serde_json::Value;

use crate::helpers::TestApp;

async fn jwks(app: &TestApp) -> Vec<Value> {
    let res = app.get("/oauth2/jwks").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/jwk-set+json");
    let doc: Value = res.json().await.expect("json");
    doc["keys"].as_array().expect("keys").clone()
}

async fn signed_kid(app: &TestApp, alg: Alg) -> String {
    let (kid, key) = keys::signer(&app.state.oidc, alg).await.expect("signer");
    let mut header = Header::new(match alg {
        Alg::Rs256 => jsonwebtoken::Algorithm::RS256,
        Alg::Es256 => jsonwebtoken::Algorithm::ES256,
    });
    header.kid = Some(kid.clone());
    let claims = serde_json::json!({ "sub": "x", "aud": "test", "exp": 4_000_000_000_u64 });
    let token = jsonwebtoken::encode(&header, &claims, &key).expect("signs");
    // Anyone holding the published JWKS can verify it.
    let published = jwks(app).await;
    let jwk: Jwk = serde_json::from_value(
        published
            .into_iter()
            .find(|k| k["kid"] == kid.as_str())
            .expect("the signing key is published"),
    )
    .expect("a JWK");
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&["test"]);
    jsonwebtoken::decode::<Value>(
        &token,
        &DecodingKey::from_jwk(&jwk).expect("key"),
        &validation,
    )
    .expect("verifies against the JWKS");
    kid
}

#[tokio::test]
async fn signing_keys_are_published_sealed_and_verify_what_they_sign() {
    let app = TestApp::spawn().await;
    assert_eq!(jwks(&app).await.len(), 0);
    let created = keys::ensure(&app.state).await.expect("keys");
    assert_eq!(created.len(), 2);
    assert!(
        keys::ensure(&app.state).await.expect("again").is_empty(),
        "ensure is idempotent"
    );

    let published = jwks(&app).await;
    let algs: Vec<&str> = published
        .iter()
        .map(|k| k["alg"].as_str().expect("alg"))
        .collect();
    assert!(algs.contains(&"RS256") && algs.contains(&"ES256"));
    for key in &published {
        assert_eq!(key["use"], "sig");
        assert!(
            key["kid"].as_str().is_some_and(|k| k.len() == 43),
            "RFC 7638 thumbprint"
        );
        assert!(key.get("d").is_none(), "no private part is published");
    }
    signed_kid(&app, Alg::Rs256).await;
    signed_kid(&app, Alg::Es256).await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM oidc_signing_keys WHERE private_key LIKE 'v1.%' AND private_key NOT LIKE '%PRIVATE KEY%'").await,
        2
    );
}

#[tokio::test]
async fn a_rotated_key_is_published_before_it_signs_and_the_old_one_after() {
    let app = TestApp::spawn().await;
    keys::ensure(&app.state).await.expect("keys");
    let old = signed_kid(&app, Alg::Rs256).await;

    let added = keys::rotate(&app.state, Duration::hours(1))
        .await
        .expect("rotate");
    let new = added
        .iter()
        .find(|(alg, _, _)| *alg == Alg::Rs256)
        .expect("rs256")
        .1
        .clone();
    assert_eq!(jwks(&app).await.len(), 4, "new keys are published at once");
    assert_eq!(
        signed_kid(&app, Alg::Rs256).await,
        old,
        "but do not sign yet"
    );

    app.clock.advance(Duration::minutes(61));
    assert_eq!(signed_kid(&app, Alg::Rs256).await, new);
    let kids: Vec<String> = jwks(&app)
        .await
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect();
    assert!(
        kids.contains(&old),
        "the old key still verifies what it signed"
    );

    app.clock.advance(Duration::hours(25));
    let kids: Vec<String> = jwks(&app)
        .await
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect();
    assert_eq!(kids.len(), 2);
    assert!(
        !kids.contains(&old),
        "unpublished once its tokens have expired"
    );
}

/// Runs `eservices admin …` against the test's database.
fn admin(app: &TestApp, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_eservices"))
        .current_dir(std::env::temp_dir())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", app.database_url())
        .env("REDIS_URL", "redis://127.0.0.1:1/")
        .env("PUBLIC_URL", &app.address)
        .env("VAULT_MASTER_KEY", &app.master_key)
        .arg("admin")
        .args(args)
        .output()
        .expect("runs")
}

#[tokio::test]
async fn clients_are_registered_listed_and_deleted_from_the_command_line() {
    let app = TestApp::spawn().await;
    let out = admin(
        &app,
        &[
            "client",
            "create",
            "--client-id",
            "cong-thong-tin",
            "--redirect-uri",
            "https://rp.example.vn/cb",
            "--redirect-uri",
            "http://127.0.0.1:9000/cb",
            "--scope",
            "openid profile email",
            "--post-logout-redirect-uri",
            "https://rp.example.vn/",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("registered client cong-thong-tin (confidential, pairwise subjects, scopes: openid profile email)"), "{stdout}");
    let secret = stdout
        .lines()
        .find_map(|l| l.strip_prefix("client secret (shown once): "))
        .expect("secret");
    assert_eq!(secret.len(), 43);
    assert_eq!(
        app.count(&format!("SELECT count(*) AS n FROM oidc_clients WHERE client_id = 'cong-thong-tin' AND secret_hash = sha256('{secret}'::bytea)")).await,
        1,
        "only the secret's hash is stored"
    );

    let out = admin(
        &app,
        &[
            "client",
            "create",
            "--client-id",
            "app-mobile",
            "--redirect-uri",
            "vn.gov.hcm.app:/cb",
            "--public",
            "--public-sub",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("secret"));

    bad_arguments_are_refused_naming_them(&app);

    let out = admin(&app, &["client", "list"]);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert_eq!(listing.lines().count(), 2);
    assert!(
        listing.contains("app-mobile\tpublic\tpublic\topenid profile\tvn.gov.hcm.app:/cb"),
        "{listing}"
    );

    let out = admin(&app, &["client", "delete", "app-mobile"]);
    assert!(out.status.success());
    let out = admin(&app, &["client", "delete", "app-mobile"]);
    assert!(!out.status.success(), "deleting twice fails clearly");
    assert_eq!(app.count("SELECT count(*) AS n FROM oidc_clients").await, 1);
}

/// Each bad argument is refused, the message naming it (or the taken
/// client_id).
fn bad_arguments_are_refused_naming_them(app: &TestApp) {
    for (args, named) in [
        (
            vec![
                "client",
                "create",
                "--client-id",
                "x1",
                "--redirect-uri",
                "http://rp.example.vn/cb",
            ],
            "--redirect-uri",
        ),
        (
            vec![
                "client",
                "create",
                "--client-id",
                "bad id!",
                "--redirect-uri",
                "https://rp.example.vn/cb",
            ],
            "--client-id",
        ),
        (
            vec![
                "client",
                "create",
                "--client-id",
                "x2",
                "--redirect-uri",
                "https://rp.example.vn/cb",
                "--scope",
                "openid admin",
            ],
            "--scope",
        ),
        (
            vec![
                "client",
                "create",
                "--client-id",
                "x3",
                "--redirect-uri",
                "https://rp.example.vn/cb",
                "--secret",
                "short",
            ],
            "--secret",
        ),
        (
            vec![
                "client",
                "create",
                "--client-id",
                "cong-thong-tin",
                "--redirect-uri",
                "https://rp.example.vn/cb",
            ],
            "client_id",
        ),
    ] {
        let out = admin(app, &args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(named), "{args:?}: {stderr}");
    }
}
