//! The JSON API takes bearer tokens by scope (and refuses unsigned and
//! expired ones); the citizen lists connected apps and revokes one, which
//! makes the next authorization ask again.

use serde_json::Value;

use super::{REDIRECT, SECRET, provider, register_client, tokens_for};
use crate::helpers::TestApp;

#[tokio::test]
async fn the_api_takes_bearer_tokens_by_scope_and_connected_apps_can_be_revoked() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    register_client(&app, "ung-dung", &["openid", "profile", "account"], None).await;
    app.signed_in_citizen(3).await;

    let narrow = tokens_for(&app, "cong-thong-tin", SECRET, REDIRECT, "openid profile").await;
    let wide = tokens_for(&app, "ung-dung", SECRET, REDIRECT, "openid account").await;
    let bearer = |token: &Value| token["access_token"].as_str().expect("token").to_owned();
    the_api_reads_bearer_tokens_by_scope(&app, &bearer(&narrow), &bearer(&wide)).await;
    connected_apps_are_listed_and_revoked(&app).await;
}

/// A separate client without cookies: only the bearer token speaks; scope
/// `account` is needed; unsigned and expired tokens are refused.
async fn the_api_reads_bearer_tokens_by_scope(app: &TestApp, narrow: &str, wide: &str) {
    let api = reqwest::Client::new();
    let res = api
        .get(app.url("/api/v1/me"))
        .bearer_auth(narrow)
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 403);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .contains("insufficient_scope")
    );
    let res = api
        .get(app.url("/api/v1/me"))
        .bearer_auth(wide)
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.expect("json");
    // Scope `account` alone: the subject and level, no national ID (that
    // needs scope `national_id` at level 2, as in UserInfo).
    assert!(
        me["sub"].is_string() && me.get("national_id").is_none(),
        "{me}"
    );
    assert_eq!(me["assurance_level"], 1);
    let res = api
        .get(app.url("/api/v1/me"))
        .bearer_auth("eyJhbGciOiJub25lIn0.e30.")
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 401, "unsigned tokens are refused");

    // Expired after 5 minutes.
    app.clock.advance(chrono::Duration::minutes(6));
    let res = api
        .get(app.url("/api/v1/me"))
        .bearer_auth(wide)
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 401);
}

/// Both apps are listed; one is revoked (once), the next authorization asks
/// again, and the security events show consent given and withdrawn.
async fn connected_apps_are_listed_and_revoked(app: &TestApp) {
    let apps: Value = app
        .get("/api/v1/connected-apps")
        .await
        .json()
        .await
        .expect("json");
    let ids: Vec<&str> = apps["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["client_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"cong-thong-tin") && ids.contains(&"ung-dung"));
    for status in [204, 404] {
        let res = app
            .client
            .delete(app.url("/api/v1/connected-apps/ung-dung"))
            .send()
            .await
            .expect("delete");
        assert_eq!(res.status(), status);
    }
    // The next authorization asks again.
    let verifier_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let res = app
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id=ung-dung&redirect_uri={}&scope=openid%20account&code_challenge={verifier_challenge}&code_challenge_method=S256",
            url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(res.status(), 200, "the consent page again");
    let events: Value = app
        .get("/api/v1/me/events")
        .await
        .json()
        .await
        .expect("json");
    let kinds: Vec<&str> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    assert!(
        kinds.contains(&"consent_granted") && kinds.contains(&"consent_revoked"),
        "{kinds:?}"
    );
}
