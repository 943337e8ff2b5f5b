//! `login_hint` prefills the sign-in page and `ui_locales=en` gives English
//! pages through sign-in and consent; Vietnamese otherwise.

use super::{challenge, enc};
use crate::{
    helpers::{Citizen, TestApp, input_value},
    oidc_flow::{REDIRECT, provider, query},
};

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
async fn the_consent_page_names_the_organisation_and_who_is_signed_in() {
    let app = TestApp::spawn().await;
    eservices::oidc::keys::ensure(&app.state)
        .await
        .expect("keys");
    eservices::oidc::clients::register(
        &app.state,
        eservices::oidc::clients::NewClient {
            client_id: "so-y-te".into(),
            redirect_uris: vec![REDIRECT.into()],
            secret: Some(crate::oidc_flow::SECRET.into()),
            scopes: vec!["openid".into(), "email".into()],
            client_name: Some("Sở Y tế TP.HCM".into()),
            logo_uri: Some("https://soyte.example/logo.png".into()),
            policy_uri: Some("https://soyte.example/chinh-sach".into()),
            ..Default::default()
        },
    )
    .await
    .expect("client");
    app.signed_in_citizen(36).await;
    let page = app
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id=so-y-te&redirect_uri={}&scope=openid%20email&state=s&code_challenge={}&code_challenge_method=S256",
            enc(REDIRECT),
            challenge()
        ))
        .await
        .text()
        .await
        .expect("consent page");
    assert!(page.contains("<strong>Sở Y tế TP.HCM</strong>"), "{page}");
    assert!(
        page.contains("src=\"https://soyte.example/logo.png\""),
        "{page}"
    );
    assert!(
        page.contains("href=\"https://soyte.example/chinh-sach\""),
        "{page}"
    );
    assert!(page.contains("mã ứng dụng: so-y-te"), "{page}");
    assert!(
        page.contains("Bạn đang đăng nhập với tên <strong>Nguyễn Văn An</strong>"),
        "{page}"
    );
    assert!(input_value(&page, "consent_id").is_some());
}
