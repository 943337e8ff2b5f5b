//! Integrators read vault data only through consented scopes: the consent
//! page shows the values and where they come from, UserInfo gives only what
//! was consented to, and each read is in the owner's access log.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::first_dossier_decided;
use crate::{
    helpers::{TestApp, Tokens, read_json},
    oidc_flow::{REDIRECT, SECRET, consent, query, register_client},
};

#[tokio::test]
async fn integrators_read_vault_data_only_through_consented_scopes_and_each_read_is_logged() {
    let app = TestApp::spawn().await;
    eservices::oidc::keys::ensure(&app.state)
        .await
        .expect("keys");
    let issued = first_dossier_decided(&app, 64).await;
    register_client(
        &app,
        "ngan-hang-so",
        &["openid", "vault:civil_status", "vault:address"],
        None,
    )
    .await;

    // The consent page shows the concrete values and where they come from.
    let (page, token) = authorize(&app, "ngan-hang-so", "openid vault:civil_status").await;
    assert!(page.contains("Kho dữ liệu"), "{page}");
    assert!(page.contains("Chưa đăng ký kết hôn với ai"), "{page}");
    assert!(
        page.contains("Kết quả giải quyết thủ tục hành chính"),
        "{page}"
    );
    assert!(!page.contains("12 Lê Lợi"), "no scope, no address");

    let userinfo = |token: String| {
        TestApp::fresh_client()
            .get(app.url("/oauth2/userinfo"))
            .bearer_auth(token)
            .send()
    };
    let info = read_json::<Value>(userinfo(token).await.expect("userinfo"), 200).await;
    let civil = info["vault"]["civil_status"]
        .as_array()
        .expect("civil status");
    assert!(
        civil
            .iter()
            .any(|r| r["data"]["marital"] == "Chưa đăng ký kết hôn với ai" && r["verified"] == true),
        "{info}"
    );
    assert!(
        info["vault"].get("address").is_none(),
        "not consented, not given"
    );

    // Without a vault scope: no vault claim at all.
    let (_, plain) = authorize(&app, "ngan-hang-so", "openid").await;
    let info = read_json::<Value>(userinfo(plain).await.expect("userinfo"), 200).await;
    assert!(info.get("vault").is_none(), "{info}");

    let log = read_json::<Value>(app.get("/api/v1/vault/access-log").await, 200).await;
    let reads: Vec<&Value> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|r| r["reader"] == "client")
        .collect();
    assert_eq!(reads.len(), 1, "{log}");
    assert_eq!(reads[0]["client_id"], "ngan-hang-so");
    assert_eq!(reads[0]["scope"], "vault:civil_status");
    assert_eq!(reads[0]["items"], json!(["civil_status.marital"]));
    let _ = issued;
}

/// Runs the code flow for `client_id` asking `scope`; the consent page and the access token.
async fn authorize(app: &TestApp, client_id: &str, scope: &str) -> (String, String) {
    use base64::Engine;
    let verifier = "v".repeat(20) + &uuid::Uuid::new_v4().simple().to_string();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let mut url = url::Url::parse(&app.url("/oauth2/authorize")).expect("url");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", scope)
        .append_pair("state", "s-123")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let res = app
        .client
        .get(url.as_str())
        .send()
        .await
        .expect("authorize");
    if res.status() == 303 {
        // Consent given before covers it.
        let location = res.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let code = query(&location, "code").expect("code");
        return (
            String::new(),
            exchange(app, client_id, &code, &verifier).await,
        );
    }
    assert_eq!(res.status(), 200);
    let page = res.text().await.expect("page");
    let res = consent(app, &page, "allow").await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let code = query(&location, "code").expect("code");
    let token = exchange(app, client_id, &code, &verifier).await;
    (page, token)
}

/// Redeems `code` for `client_id`; the access token.
async fn exchange(app: &TestApp, client_id: &str, code: &str, verifier: &str) -> String {
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth(client_id, Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("token");
    Tokens::read(res).await.access_token
}
