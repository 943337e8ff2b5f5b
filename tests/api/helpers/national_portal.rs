//! The simulated National Public Service Portal
//! (tests/support/national-portal/portal.mjs): a process of its own per
//! test, killed when dropped, and its control endpoints.

use std::{
    io::BufRead,
    path::Path,
    process::{Command, Stdio},
};

use serde_json::{Value, json};

use super::Guard;

/// The simulated portal.
pub struct NationalPortal {
    /// Its base URL.
    pub url: String,
    pub username: String,
    pub password: String,
    client: reqwest::Client,
    _child: Guard,
}

impl NationalPortal {
    /// Starts a portal on a free port (node, no dependencies).
    pub fn start() -> Self {
        Self::start_knowing(None)
    }

    /// Starts a portal that knows only the procedure codes `known` (all, when `None`).
    pub fn start_knowing(known: Option<&[&str]>) -> Self {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/national-portal/portal.mjs");
        let username = "tphcm-mot-cua".to_owned();
        let password = format!("mat-khau-{}", uuid::Uuid::new_v4().simple());
        let mut child = Command::new("node")
            .arg(script)
            .env("PORT", "0")
            .env("USERNAME", &username)
            .env("PASSWORD", &password)
            .env("EXIT_ON_STDIN_EOF", "1")
            .env(
                "KNOWN_PROCEDURES",
                known.map(|k| k.join(",")).unwrap_or_default(),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs the simulated national portal");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the port line");
        let port = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["port"].as_u64())
            .unwrap_or_else(|| panic!("unexpected portal output: {line:?}"));
        Self {
            url: format!("http://127.0.0.1:{port}"),
            username,
            password,
            client: reqwest::Client::new(),
            _child: Guard(child),
        }
    }

    /// The settings that point an app at this portal (calls time out after
    /// a second, so a hanging portal costs a test little).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("NATIONAL_PORTAL_URL", self.url.clone()),
            ("NATIONAL_PORTAL_USERNAME", self.username.clone()),
            ("NATIONAL_PORTAL_PASSWORD", self.password.clone()),
            ("NATIONAL_PORTAL_TIMEOUT_SECS", "1".into()),
        ]
    }

    /// `no`, `503`, `hang` or `garbage`.
    pub async fn down(&self, mode: &str) {
        let res = self
            .client
            .post(format!("{}/_control/mode", self.url))
            .json(&json!({ "down": mode }))
            .send()
            .await
            .expect("mode");
        assert_eq!(res.status(), 200, "mode {mode}");
    }

    /// Forgets every session it gave.
    pub async fn expire_sessions(&self) {
        let res = self
            .client
            .post(format!("{}/_control/expire-sessions", self.url))
            .send()
            .await
            .expect("expire");
        assert_eq!(res.status(), 200);
    }

    /// Every call it accepted, in arrival order.
    pub async fn received(&self) -> Vec<Value> {
        self.client
            .get(format!("{}/_control/received", self.url))
            .send()
            .await
            .expect("received")
            .json()
            .await
            .expect("json")
    }

    /// The accepted calls of one kind (`login`, `dossier`, `progress`).
    pub async fn calls(&self, kind: &str) -> Vec<Value> {
        self.received()
            .await
            .into_iter()
            .filter(|c| c["call"] == kind)
            .collect()
    }
}
