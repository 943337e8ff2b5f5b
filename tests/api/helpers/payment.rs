//! The payment-platform simulator (tests/support/payment/platform.mjs), run
//! as a separate process for one test, and its control endpoints.

use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

/// Our merchant code at the simulated platform.
pub const MERCHANT: &str = "HCMC-DVC";
const KEY1: &str = "test-key-one-0123456789abcdef";
const KEY2: &str = "test-key-two-0123456789abcdef";

/// A running simulator (killed on drop).
pub struct PaymentPlatform {
    child: Child,
    /// Its base URL.
    pub url: String,
    http: reqwest::Client,
}

impl Drop for PaymentPlatform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PaymentPlatform {
    /// Starts a simulator on a free port.
    pub fn start() -> Self {
        use std::io::BufRead;
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/support/payment/platform.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .envs([
                ("PORT", "0"),
                ("MERCHANT_CODE", MERCHANT),
                ("KEY1", KEY1),
                ("KEY2", KEY2),
                ("EXIT_ON_STDIN_EOF", "1"),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs the payment-platform simulator");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the port line");
        let ready: Value = serde_json::from_str(line.trim()).expect("{\"port\": n}");
        let port = ready["port"].as_u64().expect("port");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        }
    }

    /// The settings that point the app at this simulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PAYMENT_PLATFORM_URL", format!("{}/", self.url)),
            ("PAYMENT_MERCHANT_CODE", MERCHANT.into()),
            ("PAYMENT_KEY1", KEY1.into()),
            ("PAYMENT_KEY2", KEY2.into()),
            ("PAYMENT_TIMEOUT_SECS", "2".into()),
        ]
    }

    async fn control(&self, path: &str, body: &Value) -> Value {
        let res = self
            .http
            .post(format!("{}/_control/{path}", self.url))
            .json(body)
            .send()
            .await
            .expect("simulator control");
        res.json().await.unwrap_or(Value::Null)
    }

    /// Settles `transaction_id` with `outcome`, its callback sent as `ipn`
    /// says (`normal`, `none`, `duplicate`, `late`), with `extra` fields
    /// (`amount`, `forge`, `late_ms`); what each callback attempt got back.
    pub async fn pay(&self, transaction_id: &str, outcome: &str, ipn: &str, extra: Value) -> Value {
        let mut body = json!({ "transaction_id": transaction_id, "outcome": outcome, "ipn": ipn });
        if let Value::Object(fields) = extra {
            for (k, v) in fields {
                body[k] = v;
            }
        }
        self.control("pay", &body).await
    }

    /// Sends one arbitrary, correctly signed callback; what it got back.
    pub async fn ipn(&self, body: Value) -> Value {
        self.control("ipn", &body).await
    }

    /// Makes creation or queries misbehave (`ok`, `timeout`, `error`, `garbage`).
    pub async fn mode(&self, create: &str, query: &str) {
        self.control("mode", &json!({ "create": create, "query": query }))
            .await;
    }

    /// Every transaction the simulator holds.
    pub async fn transactions(&self) -> Vec<Value> {
        let res = self
            .http
            .get(format!("{}/_control/transactions", self.url))
            .send()
            .await
            .expect("transactions");
        let body: Value = res.json().await.expect("json");
        body["transactions"].as_array().cloned().unwrap_or_default()
    }
}
