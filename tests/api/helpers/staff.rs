//! Civil servants for tests and their back-office sign-in.

use super::*;

/// A civil servant created for a test, with what is needed to sign in.
pub struct TestStaff {
    pub username: String,
    pub password: String,
    pub secret: eservices::domain::TotpSecret,
    pub recovery_codes: Vec<String>,
}

impl TestApp {
    /// Creates a civil servant of `agency` with `roles`.
    pub async fn staff(&self, username: &str, agency: &str, roles: &[&str]) -> TestStaff {
        let password = "Cán bộ một cửa 2026!".to_owned();
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        let new = eservices::identity::staff::NewStaff::parse(
            username,
            "Phạm Thị Tiếp Nhận",
            agency,
            &roles,
            password.clone().into(),
        )
        .expect("valid staff");
        let (_, enrolment) = eservices::identity::staff::create(&self.state.identity, new)
            .await
            .expect("created");
        TestStaff {
            username: username.to_owned(),
            password,
            secret: eservices::domain::TotpSecret::from_base32(&enrolment.secret_base32)
                .expect("secret"),
            recovery_codes: enrolment.recovery_codes,
        }
    }

    /// The TOTP code of `secret` now (by the app's clock).
    pub fn totp_now(&self, secret: &eservices::domain::TotpSecret) -> String {
        let at = u64::try_from(self.now().timestamp()).expect("after 1970");
        eservices::domain::totp::code_at(secret, at)
    }

    /// Signs a civil servant in at /backoffice/login with `second_factor`.
    pub async fn staff_sign_in(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
        second_factor: &str,
    ) -> reqwest::Response {
        let page = client
            .get(self.url("/backoffice/login"))
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("page");
        let csrf = input_value(&page, "csrf_token").expect("csrf");
        client
            .post(self.url("/backoffice/login"))
            .form(&[
                ("username", username),
                ("password", password),
                ("totp", second_factor),
                ("csrf_token", csrf.as_str()),
            ])
            .send()
            .await
            .expect("post")
    }
}

impl TestApp {
    /// A civil servant's browser, signed in to the back office with a fresh TOTP code.
    pub async fn backoffice(&self, staff: &TestStaff) -> reqwest::Client {
        let browser = Self::fresh_client();
        let res = self
            .staff_sign_in(
                &browser,
                &staff.username,
                &staff.password,
                &self.totp_now(&staff.secret),
            )
            .await;
        assert_eq!(
            res.status(),
            303,
            "{}",
            res.text().await.unwrap_or_default()
        );
        browser
    }

    /// A page as `browser` gets it: status and body.
    pub async fn page(&self, browser: &reqwest::Client, path: &str) -> (u16, String) {
        let res = browser.get(self.url(path)).send().await.expect("get");
        (res.status().as_u16(), res.text().await.expect("page"))
    }
}

impl TestApp {
    /// The SMS the app sent (its file transport), as `(to, text)`, oldest first.
    pub fn sms_messages(&self) -> Vec<(String, String)> {
        let Ok(entries) = std::fs::read_dir(&self.sms_dir) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        // File names are UUID v7s: time-ordered.
        files.sort();
        files
            .into_iter()
            .filter_map(|p| std::fs::read(p).ok())
            .filter_map(|raw| serde_json::from_slice::<serde_json::Value>(&raw).ok())
            .map(|v| {
                (
                    v["to"].as_str().unwrap_or_default().to_owned(),
                    v["text"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}
