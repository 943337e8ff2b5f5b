//! Registering, verifying and signing citizens in, and the second step.

use super::*;

impl TestApp {
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Registers `citizen`; returns the verification token from the email.
    pub async fn register(&self, citizen: &Citizen) -> String {
        let res = self
            .post_json("/api/v1/registrations/citizens", &citizen.json())
            .await;
        assert_eq!(
            res.status(),
            202,
            "{}",
            res.text().await.unwrap_or_default()
        );
        self.run_jobs().await;
        let mails = self.smtp.messages_to(&citizen.email);
        let mail = mails.last().expect("a verification email");
        token_in(&mail.text()).expect("a token in the email")
    }

    /// Registers and verifies `citizen` (an active level-1 account).
    pub async fn active_citizen(&self, citizen: &Citizen) {
        let token = self.register(citizen).await;
        let res = self
            .post_json(
                "/api/v1/registrations/verify-email",
                &serde_json::json!({ "token": token }),
            )
            .await;
        assert_eq!(
            res.status(),
            200,
            "{}",
            res.text().await.unwrap_or_default()
        );
    }

    /// An active citizen (`Citizen::sample(seq)`) signed in with a password
    /// on `self.client`.
    pub async fn signed_in_citizen(&self, seq: u32) -> Citizen {
        let citizen = Citizen::sample(seq);
        self.active_citizen(&citizen).await;
        assert_eq!(
            self.sign_in(&citizen.national_id, &citizen.password)
                .await
                .status(),
            303
        );
        citizen
    }

    /// A cookie-keeping client that does not follow redirects (another browser).
    pub fn fresh_client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .expect("client")
    }

    /// Fetches the sign-in page and submits it; returns the answer (303 on success).
    pub async fn sign_in(&self, username: &str, password: &str) -> reqwest::Response {
        self.sign_in_with(&self.client, username, password).await
    }

    /// `sign_in` with another client.
    pub async fn sign_in_with(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let page = client
            .get(self.url("/login"))
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("login page");
        let csrf = input_value(&page, "csrf_token").expect("a CSRF field");
        client
            .post(self.url("/login"))
            .form(&[
                ("username", username),
                ("password", password),
                ("csrf_token", csrf.as_str()),
                ("return_to", "/api/v1/me"),
            ])
            .send()
            .await
            .expect("request")
    }
}

impl TestApp {
    /// The second step with a code by email, for `client`'s pending sign-in
    /// or signed-in session (a step-up); returns the final answer (303).
    pub async fn step_up_by_email(&self, client: &reqwest::Client) -> reqwest::Response {
        let page = client
            .get(self.url("/login/verify?return_to=/api/v1/me"))
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("verify page");
        let csrf = input_value(&page, "csrf_token").expect("a CSRF field on the second step");
        let res = client
            .post(self.url("/login/verify/email-code"))
            .form(&[("csrf_token", csrf.as_str()), ("return_to", "/api/v1/me")])
            .send()
            .await
            .expect("send code");
        assert_eq!(
            res.status(),
            303,
            "{}",
            res.text().await.unwrap_or_default()
        );
        self.run_jobs().await;
        let code = self
            .smtp
            .messages()
            .iter()
            .rev()
            .find(|m| m.subject().contains("Mã xác thực"))
            .and_then(|m| sign_in_code_in(&m.text()))
            .expect("a sign-in code by email");
        client
            .post(self.url("/login/verify"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("return_to", "/api/v1/me"),
                ("code", code.as_str()),
            ])
            .send()
            .await
            .expect("check code")
    }

    /// Signs in with a password and completes the email-code step: a strong
    /// session (`amr` pwd otp mfa).
    pub async fn sign_in_strongly(&self, username: &str, password: &str) {
        self.sign_in_strongly_with(&self.client, username, password)
            .await;
    }

    /// `sign_in_strongly` with another client.
    pub async fn sign_in_strongly_with(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
    ) {
        let res = self.sign_in_with(client, username, password).await;
        assert_eq!(
            res.status(),
            303,
            "{}",
            res.text().await.unwrap_or_default()
        );
        let res = self.step_up_by_email(client).await;
        assert_eq!(
            res.status(),
            303,
            "{}",
            res.text().await.unwrap_or_default()
        );
    }
}

/// The six-digit code in a sign-in code email.
pub fn sign_in_code_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .map(str::to_owned)
}
