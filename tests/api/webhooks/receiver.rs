//! The city system at the other end: tests/support/webhook-receiver, a
//! separate Node process that checks signatures with npm's
//! `standardwebhooks` and answers as told.

use std::{
    io::BufRead,
    path::Path,
    process::{Child, Command, Stdio},
};

use serde_json::{Value, json};

/// A running receiver; killed when dropped.
pub struct Receiver {
    pub base: String,
    child: Child,
    http: reqwest::Client,
}

/// One request the receiver got.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Received {
    pub path: String,
    pub id: Option<String>,
    pub timestamp: Option<String>,
    pub content_type: Option<String>,
    pub body: Value,
    /// The library's verdict on the signature.
    pub verified: bool,
    pub error: Option<String>,
    /// What it answered (none when it hung).
    pub answered: Option<u16>,
}

impl Received {
    /// The event type.
    pub fn kind(&self) -> &str {
        self.body["type"].as_str().unwrap_or_default()
    }
}

impl Receiver {
    pub fn start() -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/support/webhook-receiver/receiver.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .args(["--port", "0", "--exit-on-stdin-eof"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs the receiver (npm ci --prefix tests/support/webhook-receiver)");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("READY line");
        let base = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("unexpected receiver output: {line:?}"))
            .to_owned();
        Self {
            base,
            child,
            http: reqwest::Client::new(),
        }
    }

    /// The URL of the subscriber at `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn control(&self, what: &str, body: Value) {
        let res = self
            .http
            .post(self.url(&format!("/_control/{what}")))
            .json(&body)
            .send()
            .await
            .expect("control");
        assert_eq!(res.status(), 200);
    }

    /// Tells the subscriber at `path` its secret.
    pub async fn know_secret(&self, path: &str, secret: &str) {
        self.control("secret", json!({ "path": path, "secret": secret }))
            .await;
    }

    /// Answers every path 2xx (`ok`), 500 (`fail`) or never (`hang`).
    pub async fn answer(&self, mode: &str) {
        self.control("mode", json!({ "mode": mode })).await;
    }

    /// Every request received, oldest first.
    pub async fn received(&self) -> Vec<Received> {
        self.http
            .get(self.url("/_control/received"))
            .send()
            .await
            .expect("received")
            .json()
            .await
            .expect("json")
    }

    /// The requests the subscriber at `path` received.
    pub async fn received_at(&self, path: &str) -> Vec<Received> {
        let mut all = self.received().await;
        all.retain(|r| r.path == path);
        all
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
