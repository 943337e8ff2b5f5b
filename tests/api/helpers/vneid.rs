//! The VNeID stand-in (npm's oidc-provider) and signing in through it.

use std::{
    path::Path,
    process::{Command, Stdio},
};

use super::*;

/// The independent OpenID provider standing in for VNeID (npm's oidc-provider).
pub struct VneidProvider {
    pub issuer: String,
    _child: Guard,
    _accounts: tempfile::NamedTempFile,
}

/// What the VNeID stand-in knows.
#[derive(Clone, Default)]
pub struct VneidOptions {
    /// `{ "login": …, "claims": { … } }` objects.
    pub accounts: Vec<serde_json::Value>,
    /// Make every sign-in end with this OAuth error.
    pub fail_with: Option<String>,
}

pub const VNEID_CLIENT_ID: &str = "eservices-test";
pub const VNEID_CLIENT_SECRET: &str = "vneid-test-secret-0123456789";

impl VneidProvider {
    pub fn start(options: &VneidOptions, redirect_uri: &str) -> Self {
        use std::io::{BufRead, Write};
        let mut accounts = tempfile::NamedTempFile::new().expect("accounts file");
        accounts
            .write_all(
                serde_json::to_string(&options.accounts)
                    .expect("json")
                    .as_bytes(),
            )
            .expect("write accounts");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/vneid/provider.mjs");
        let mut cmd = Command::new("node");
        cmd.arg(script)
            .args([
                "--port",
                "0",
                "--client-id",
                VNEID_CLIENT_ID,
                "--client-secret",
                VNEID_CLIENT_SECRET,
            ])
            .args(["--redirect-uri", redirect_uri, "--exit-on-stdin-eof"])
            .arg("--accounts")
            .arg(accounts.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(error) = &options.fail_with {
            cmd.args(["--fail-with", error]);
        }
        let mut child = cmd
            .spawn()
            .expect("node runs the VNeID stand-in (npm ci --prefix tests/support/vneid)");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("READY line");
        let issuer = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("unexpected provider output: {line:?}"))
            .to_owned();
        Self {
            issuer,
            _child: Guard(child),
            _accounts: accounts,
        }
    }
}

/// A VNeID account for the stand-in, with the claim names the app is configured for.
pub fn vneid_account(
    login: &str,
    sub: &str,
    national_id: &str,
    name: &str,
    birthdate: &str,
    gender: &str,
) -> serde_json::Value {
    serde_json::json!({
        "login": login,
        "claims": {
            "sub": sub,
            "name": name,
            "birthdate": birthdate,
            "gender": gender,
            "so_dinh_danh": national_id,
        }
    })
}

impl TestApp {
    /// Signs in through VNeID as `login`, driving the provider's login form as
    /// a browser would; returns our callback's answer.
    pub async fn sign_in_with_vneid(&self, login: &str) -> reqwest::Response {
        let mut res = self.get("/login/vneid?return_to=/api/v1/me").await;
        let mut base = self.address.clone();
        for _ in 0..10 {
            if res.status() == 303 {
                let location = res.headers()["location"]
                    .to_str()
                    .expect("ascii")
                    .to_owned();
                let next = if location.starts_with('/') {
                    format!("{base}{location}")
                } else {
                    location
                };
                if next.starts_with(&self.url("/login/vneid/callback")) {
                    return self.client.get(next).send().await.expect("callback");
                }
                base = next.split('/').take(3).collect::<Vec<_>>().join("/");
                res = self.client.get(next).send().await.expect("follow");
                continue;
            }
            let page = res.text().await.expect("page");
            let start = page.find("action=\"").expect("a form") + "action=\"".len();
            let action = &page[start..start + page[start..].find('"').expect("end")];
            res = self
                .client
                .post(format!("{base}{action}"))
                .form(&[("login", login), ("password", "any")])
                .send()
                .await
                .expect("post login");
        }
        panic!("the VNeID flow did not come back");
    }
}
