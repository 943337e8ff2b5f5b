//! Load for person-bound paths, against a running server (scripts/bench/oidc
//! and scripts/bench/dossiers start one). Each task holds its own signed-in
//! browser session:
//!
//! - `flow`: whole OpenID code flows without the password hash: authorize
//!   (consent remembered) → code → token exchange (PKCE, client_secret_basic);
//! - `refresh`: each task follows its own rotation chain, exchanging the
//!   refresh token it got last for the next one;
//! - `file`: filing dossiers: create a complete draft, then submit it (a
//!   receipt code), counted per filed dossier;
//! - `draft`: creating a draft with every value given (nothing to prefill);
//! - `draft_prefill`: creating a draft with no value given (the vault
//!   prefills what it holds);
//! - `get`: `GET BENCH_PATH` without a session, or with the cookie
//!   `BENCH_COOKIE` (a back-office page).
//!
//! `BENCH_URL=http://127.0.0.1:PORT BENCH_MODE=flow|refresh|file|draft|draft_prefill|get BENCH_SECONDS=15
//! BENCH_CONCURRENCY=32 BENCH_CLIENT_ID=… BENCH_CLIENT_SECRET=… BENCH_USERNAME=…
//! BENCH_PASSWORD=… cargo bench --bench load` prints one line:
//! `<mode> <completed>/s errors=<n> p50=<ms> p99=<ms>`.

#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::Digest;

const REDIRECT: &str = "https://bench.example/cb";
const VERIFIER: &str = "bench-verifier-bench-verifier-bench-verifier-0123";

struct Settings {
    url: String,
    client_id: String,
    secret: String,
    username: String,
    password: String,
}

fn env(name: &str, default: Option<&str>) -> String {
    std::env::var(name)
        .ok()
        .or_else(|| default.map(str::to_owned))
        .unwrap_or_else(|| panic!("{name} is not set"))
}

fn query_value(location: &str, name: &str) -> Option<String> {
    url::Url::parse(location)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// A browser signed in as the bench citizen.
async fn browser(s: &Settings) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let page = client
        .get(format!("{}/login", s.url))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("text");
    let csrf = input_value(&page, "csrf_token").expect("csrf field");
    let res = client
        .post(format!("{}/login", s.url))
        .form(&[
            ("username", s.username.as_str()),
            ("password", s.password.as_str()),
            ("csrf_token", csrf.as_str()),
            ("return_to", "/"),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(res.status(), 303, "sign-in");
    client
}

fn authorize_url(s: &Settings, scope: &str) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(VERIFIER.as_bytes()));
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", s.client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "bench"),
        ("nonce", "bench"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ])
    .expect("query");
    format!("{}/oauth2/authorize?{query}", s.url)
}

/// One code flow; consents on the way if asked. Returns the token response.
async fn code_flow(
    s: &Settings,
    browser: &reqwest::Client,
    scope: &str,
) -> Option<serde_json::Value> {
    let mut res = browser.get(authorize_url(s, scope)).send().await.ok()?;
    if res.status() == 200 {
        let page = res.text().await.ok()?;
        res = browser
            .post(format!("{}/oauth2/consent", s.url))
            .form(&[
                ("consent_id", input_value(&page, "consent_id")?.as_str()),
                ("csrf_token", input_value(&page, "csrf_token")?.as_str()),
                ("decision", "allow"),
            ])
            .send()
            .await
            .ok()?;
    }
    let location = res.headers().get("location")?.to_str().ok()?.to_owned();
    let code = query_value(&location, "code")?;
    let res = browser
        .post(format!("{}/oauth2/token", s.url))
        .basic_auth(&s.client_id, Some(&s.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .ok()?;
    if res.status() != 200 {
        return None;
    }
    res.json().await.ok()
}

/// Creates a draft at `agency`, complete or (with `prefill`) empty.
async fn draft(
    s: &Settings,
    http: &reqwest::Client,
    agency: &str,
    prefill: bool,
) -> Option<serde_json::Value> {
    let values = if prefill {
        serde_json::json!({})
    } else {
        serde_json::json!({
            "full_name": "Nguyễn Văn An",
            "date_of_birth": "1990-01-01",
            "national_id": s.username,
            "permanent_address": "12 Lê Lợi, Phường Bến Thành",
            "phone": "0901234567",
        })
    };
    let res = http
        .post(format!("{}/api/v1/dossiers", s.url))
        .json(&serde_json::json!({
            "service_code": "HGCS-001",
            "agency_code": agency,
            "form_values": values,
        }))
        .send()
        .await
        .ok()?;
    if res.status() != 201 {
        eprintln!(
            "create: {} {}",
            res.status(),
            res.text().await.unwrap_or_default()
        );
        return None;
    }
    res.json().await.ok()
}

/// `GET path` (with `cookie`, if any), expecting 200.
async fn get(s: &Settings, http: &reqwest::Client, path: &str, cookie: &str) -> Option<()> {
    let mut req = http.get(format!("{}{path}", s.url));
    if !cookie.is_empty() {
        req = req.header("Cookie", cookie);
    }
    let res = req.send().await.ok()?;
    let ok = res.status() == 200;
    res.bytes().await.ok()?;
    ok.then_some(())
}

/// Files one dossier at `agency`: a complete draft, then submit (a receipt code).
async fn file(s: &Settings, http: &reqwest::Client, agency: &str) -> Option<()> {
    let draft = draft(s, http, agency, false).await?;
    let id = draft["id"].as_str()?;
    let res = http
        .post(format!("{}/api/v1/dossiers/{id}/submit", s.url))
        .send()
        .await
        .ok()?;
    if res.status() != 200 {
        eprintln!(
            "submit: {} {}",
            res.status(),
            res.text().await.unwrap_or_default()
        );
        return None;
    }
    Some(())
}

async fn refresh(s: &Settings, http: &reqwest::Client, token: &str) -> Option<String> {
    let res = http
        .post(format!("{}/oauth2/token", s.url))
        .basic_auth(&s.client_id, Some(&s.secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await
        .ok()?;
    if res.status() != 200 {
        let status = res.status();
        eprintln!("refresh: {status} {}", res.text().await.unwrap_or_default());
        return None;
    }
    let body: serde_json::Value = res.json().await.ok()?;
    body["refresh_token"].as_str().map(str::to_owned)
}

fn main() {
    let settings = Arc::new(Settings {
        url: env("BENCH_URL", None),
        client_id: env("BENCH_CLIENT_ID", Some("bench")),
        secret: env("BENCH_CLIENT_SECRET", Some("")),
        username: env("BENCH_USERNAME", Some("079090000001")),
        password: env("BENCH_PASSWORD", Some("DichVuCong@2026")),
    });
    let mode = env("BENCH_MODE", Some("flow"));
    let path = env("BENCH_PATH", Some("/healthz"));
    let cookie = env("BENCH_COOKIE", Some(""));
    let seconds: u64 = env("BENCH_SECONDS", Some("15")).parse().expect("seconds");
    let concurrency: usize = env("BENCH_CONCURRENCY", Some("32"))
        .parse()
        .expect("concurrency");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let done = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        // Set-up (not timed): one signed-in browser per task, consent given,
        // and for refresh a first refresh token each.
        let mut prepared = Vec::new();
        for _ in 0..concurrency {
            let browser = if mode == "get" {
                reqwest::Client::new()
            } else {
                browser(&settings).await
            };
            let token = if matches!(mode.as_str(), "file" | "draft" | "draft_prefill" | "get") {
                None
            } else {
                let first = code_flow(&settings, &browser, "openid offline_access")
                    .await
                    .expect("a first code flow");
                first["refresh_token"].as_str().map(str::to_owned)
            };
            prepared.push((browser, token));
        }
        let latencies = Arc::new(std::sync::Mutex::new(Vec::<Duration>::new()));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for (task, (browser, token)) in prepared.into_iter().enumerate() {
            // Filings spread over 40 wards, as the city's are: numbers of one
            // agency and day are taken one at a time (no gaps), by design.
            let agency = format!("000.{:02}.11.H29", 1 + task % 40);
            let (path, cookie) = (path.clone(), cookie.clone());
            let (s, done, errors, stop, mode, latencies) = (
                settings.clone(),
                done.clone(),
                errors.clone(),
                stop.clone(),
                mode.clone(),
                latencies.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut token = token.unwrap_or_default();
                let mut mine = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let began = Instant::now();
                    let ok = if mode == "file" {
                        file(&s, &browser, &agency).await.is_some()
                    } else if mode == "draft" || mode == "draft_prefill" {
                        draft(&s, &browser, &agency, mode == "draft_prefill")
                            .await
                            .is_some()
                    } else if mode == "get" {
                        get(&s, &browser, &path, &cookie).await.is_some()
                    } else if mode == "refresh" {
                        // A failed refresh did not rotate (or, if its answer was
                        // lost, the grace window honours the same token): retry it.
                        match refresh(&s, &browser, &token).await {
                            Some(next) => {
                                token = next;
                                true
                            }
                            None => false,
                        }
                    } else {
                        code_flow(&s, &browser, "openid").await.is_some()
                    };
                    if ok {
                        mine.push(began.elapsed());
                        done.fetch_add(1, Ordering::Relaxed);
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .extend(mine);
            }));
        }
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        stop.store(true, Ordering::Relaxed);
        let elapsed = start.elapsed().as_secs_f64();
        let completed = done.load(Ordering::Relaxed);
        for t in tasks {
            let _ = t.await;
        }
        let mut all = latencies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        all.sort();
        let at = |q: f64| {
            all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        println!(
            "{mode} {:.0}/s errors={} p50={:.1}ms p99={:.1}ms",
            completed as f64 / elapsed,
            errors.load(Ordering::Relaxed),
            at(0.50),
            at(0.99)
        );
    });
}
