//! The browser of the suite's tester: it goes where the provider sends it,
//! and the person signs in, completes the second step and allows, as the
//! pages ask, until the provider sends it back to the client.

use super::{AuthRequest, CLIENT_ORIGIN, Callback, Op, location, query_pairs};
use crate::helpers::{input_value, sign_in_code_in};

impl Op {
    /// The browser opens `req` at the authorization endpoint (GET) and the
    /// person does what the pages ask until the provider sends it back.
    pub(crate) async fn authorize(&self, req: &AuthRequest) -> Callback {
        let res = self
            .browser
            .get(self.app.url(&req.path()))
            .send()
            .await
            .expect("authorize");
        self.follow(res).await
    }

    /// `authorize` with the request as a form POST (Core §3.1.2.1).
    pub(crate) async fn authorize_by_post(&self, req: &AuthRequest) -> Callback {
        let res = self
            .browser
            .post(self.app.url("/oauth2/authorize"))
            .form(&req.params)
            .send()
            .await
            .expect("authorize");
        self.follow(res).await
    }

    /// The browser goes where the provider sends it; the person signs in,
    /// completes the second step and allows, as asked.
    pub(super) async fn follow(&self, mut res: reqwest::Response) -> Callback {
        let mut callback = Callback::default();
        for _ in 0..10 {
            let status = res.status();
            if status.is_redirection() {
                let to = location(&res);
                if to.starts_with(CLIENT_ORIGIN) {
                    callback.params = query_pairs(&to);
                    callback.location = to;
                    return callback;
                }
                res = if to.starts_with("/login/verify") {
                    callback.stepped_up = true;
                    self.second_step(&to).await
                } else if to.starts_with("/login?") {
                    let (page, next) = self.sign_in(&to).await;
                    callback.login_page = Some(page);
                    next
                } else {
                    let url = self.app.url(&to);
                    self.browser.get(url).send().await.expect("follow")
                };
            } else if status == 200 {
                let page = res.text().await.expect("page");
                assert!(page.contains("name=\"consent_id\""), "{page}");
                callback.consented = true;
                res = self.answer_consent(&page, "allow").await;
            } else {
                let body = res.text().await.unwrap_or_default();
                panic!("the authorization stopped at {status}: {body}");
            }
        }
        panic!("the authorization never came back to the client");
    }

    /// The sign-in page at `to` and its answer with the citizen's password.
    async fn sign_in(&self, to: &str) -> (String, reqwest::Response) {
        let page = self
            .browser
            .get(self.app.url(to))
            .send()
            .await
            .expect("sign-in page")
            .text()
            .await
            .expect("page");
        let csrf = input_value(&page, "csrf_token").expect("a CSRF field");
        let return_to = query_pairs(&self.app.url(to))
            .remove("return_to")
            .expect("return_to");
        let res = self
            .browser
            .post(self.app.url("/login"))
            .form(&[
                ("username", self.citizen.national_id.as_str()),
                ("password", self.citizen.password.as_str()),
                ("csrf_token", csrf.as_str()),
                ("return_to", return_to.as_str()),
            ])
            .send()
            .await
            .expect("sign in");
        assert_eq!(res.status(), 303, "signed in");
        (page, res)
    }

    /// The second step at `to`: a code sent by email, typed back.
    async fn second_step(&self, to: &str) -> reqwest::Response {
        let url = self.app.url(to);
        let page = self.browser.get(&url).send().await.expect("get");
        let page = page.text().await.expect("second step page");
        let csrf = input_value(&page, "csrf_token").expect("a CSRF field");
        let return_to = query_pairs(&url).remove("return_to").expect("return_to");
        let fields = [("csrf_token", csrf.as_str()), ("return_to", &return_to)];
        let res = self
            .browser
            .post(self.app.url("/login/verify/email-code"))
            .form(&fields)
            .send()
            .await
            .expect("send code");
        assert_eq!(res.status(), 303, "code sent");
        self.app.run_jobs().await;
        let code = self
            .app
            .smtp
            .messages_to(&self.citizen.email)
            .iter()
            .rev()
            .find(|m| m.subject().contains("Mã xác thực"))
            .and_then(|m| sign_in_code_in(&m.text()))
            .expect("a sign-in code by email");
        self.browser
            .post(self.app.url("/login/verify"))
            .form(&[fields[0], fields[1], ("code", code.as_str())])
            .send()
            .await
            .expect("check code")
    }

    /// Answers the consent page `page` with `decision`.
    async fn answer_consent(&self, page: &str, decision: &str) -> reqwest::Response {
        let id = input_value(page, "consent_id").expect("consent id");
        let csrf = input_value(page, "csrf_token").expect("csrf");
        self.browser
            .post(self.app.url("/oauth2/consent"))
            .form(&[
                ("consent_id", id.as_str()),
                ("csrf_token", csrf.as_str()),
                ("decision", decision),
            ])
            .send()
            .await
            .expect("consent")
    }
}
