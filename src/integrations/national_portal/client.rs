//! Calls to the portal: log-in (`POST {url}/api/auth/login` with the city's
//! credentials, answered `{session_token, expires_in}`), the session cached
//! in Redis under the deployment's prefix and renewed before it expires or
//! when the portal answers 401 (then the call is repeated once), and the
//! JSON calls themselves, each answered `{"ok": true, …}` when accepted.
//!
//! Redis may be lost: without it every run logs in afresh.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{config::NationalPortalSettings, domain::national_portal::Answer, infra::Core};

/// Why a call did not go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// Trying again later may help (the portal down, slow, answering
    /// garbage, a session refused twice).
    Passing(String),
    /// The portal refused the call for good (a 4xx other than 401, 408, 429),
    /// with its status and reason.
    Refused(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Passing(detail) | Self::Refused(detail) => f.write_str(detail),
        }
    }
}

/// The log-in answer.
#[derive(Debug, Deserialize)]
struct Session {
    session_token: String,
    expires_in: u64,
}

/// The answer to an accepted call.
#[derive(Debug, Deserialize)]
struct Ack {
    ok: bool,
}

/// The longest answer body kept for a log line or a failure.
const DETAIL_CHARS: usize = 300;

/// A client of the portal for one run.
pub struct PortalClient<'a> {
    core: &'a Core,
    settings: &'a NationalPortalSettings,
}

impl<'a> PortalClient<'a> {
    /// A client with `settings`, over the Core's HTTP client and Redis.
    pub fn new(core: &'a Core, settings: &'a NationalPortalSettings) -> Self {
        Self { core, settings }
    }

    /// `POST`s `body` to `{url}/{segments…}` in the current session; a 401
    /// renews the session and repeats the call once.
    pub async fn post(&self, segments: &[&str], body: &impl Serialize) -> Result<(), CallError> {
        let url = self.url(segments)?;
        let token = match self.cached_session().await {
            Some(token) => token,
            None => self.log_in().await?,
        };
        match self.send(&url, body, &token).await? {
            Answer::SessionRejected => {
                self.forget_session().await;
                let token = self.log_in().await?;
                match self.send(&url, body, &token).await? {
                    Answer::SessionRejected => Err(CallError::Passing(
                        "the portal refused a fresh session (401)".into(),
                    )),
                    _ => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    fn url(&self, segments: &[&str]) -> Result<Url, CallError> {
        let mut url = self.settings.url.clone();
        url.path_segments_mut()
            .map_err(|()| CallError::Refused("NATIONAL_PORTAL_URL cannot take a path".into()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.settings.timeout_secs)
    }

    /// One call; `Accepted` or `SessionRejected`, else why not.
    async fn send(
        &self,
        url: &Url,
        body: &impl Serialize,
        token: &str,
    ) -> Result<Answer, CallError> {
        let response = self
            .core
            .http
            .post(url.clone())
            .bearer_auth(token)
            .json(body)
            .timeout(self.timeout())
            .send()
            .await
            .map_err(|e| CallError::Passing(unreachable(url, e)))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| CallError::Passing(unreachable(url, e)))?;
        match Answer::of_status(status) {
            Answer::Accepted => match serde_json::from_str::<Ack>(&text) {
                Ok(Ack { ok: true }) => Ok(Answer::Accepted),
                _ => Err(CallError::Passing(format!(
                    "{} answered {status} without an acknowledgement: {}",
                    url.path(),
                    clip(&text)
                ))),
            },
            Answer::SessionRejected => Ok(Answer::SessionRejected),
            Answer::TryLater => Err(CallError::Passing(format!(
                "{} answered {status}: {}",
                url.path(),
                clip(&text)
            ))),
            Answer::Refused => Err(CallError::Refused(format!(
                "HTTP {status}: {}",
                reason(&text)
            ))),
        }
    }

    /// Logs in and caches the session; a refused log-in is passing (the
    /// credentials are the operator's to mend, not the dossier's fault).
    async fn log_in(&self) -> Result<String, CallError> {
        let url = self.url(&["api", "auth", "login"])?;
        let response = self
            .core
            .http
            .post(url.clone())
            .json(&serde_json::json!({
                "username": self.settings.username,
                "password": self.settings.password.expose_secret(),
            }))
            .timeout(self.timeout())
            .send()
            .await
            .map_err(|e| CallError::Passing(unreachable(&url, e)))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| CallError::Passing(unreachable(&url, e)))?;
        if !status.is_success() {
            tracing::warn!(
                status = status.as_u16(),
                "the national portal refused our log-in"
            );
            return Err(CallError::Passing(format!(
                "log-in answered {}: {}",
                status.as_u16(),
                clip(&text)
            )));
        }
        let session: Session = serde_json::from_str(&text)
            .ok()
            .filter(|s: &Session| !s.session_token.is_empty())
            .ok_or_else(|| {
                CallError::Passing(format!("log-in answered garbage: {}", clip(&text)))
            })?;
        self.cache_session(&session).await;
        Ok(session.session_token)
    }

    fn session_key(&self) -> String {
        self.core.kv.key("national_portal:session")
    }

    async fn cached_session(&self) -> Option<String> {
        let mut conn = self.core.kv.conn().await.ok()?;
        redis::cmd("GET")
            .arg(self.session_key())
            .query_async::<Option<String>>(&mut conn)
            .await
            .ok()
            .flatten()
    }

    /// Keeps the session until shortly before the portal forgets it (a
    /// minute early, or half its life when it is short).
    async fn cache_session(&self, session: &Session) {
        let ttl = session
            .expires_in
            .saturating_sub(60)
            .max(session.expires_in / 2);
        if ttl == 0 {
            return;
        }
        let Ok(mut conn) = self.core.kv.conn().await else {
            return;
        };
        let stored: redis::RedisResult<()> = redis::cmd("SET")
            .arg(self.session_key())
            .arg(&session.session_token)
            .arg("EX")
            .arg(ttl)
            .query_async(&mut conn)
            .await;
        if let Err(e) = stored {
            tracing::warn!(error = %e, "caching the national portal's session failed");
        }
    }

    async fn forget_session(&self) {
        if let Ok(mut conn) = self.core.kv.conn().await {
            let _: redis::RedisResult<()> = redis::cmd("DEL")
                .arg(self.session_key())
                .query_async(&mut conn)
                .await;
        }
    }
}

/// Why the portal could not be reached (no URL parameters: none carry secrets,
/// but the path is enough).
fn unreachable(url: &Url, e: reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    format!("{} {what}: {}", url.path(), e.without_url())
}

/// The portal's reason for a refusal: its `reason` or `message` field, or
/// the start of its answer.
fn reason(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| {
            ["reason", "message", "error"]
                .iter()
                .find_map(|k| v.get(k).and_then(|r| r.as_str()).map(str::to_owned))
        })
        .map_or_else(|| clip(text), |r| clip(&r))
}

fn clip(text: &str) -> String {
    let clipped: String = text.chars().take(DETAIL_CHARS).collect();
    clipped
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_carry_the_portals_reason_clipped() {
        assert_eq!(
            reason(r#"{"reason": "NgayTiepNhan: must be yyyyMMddHHmmss"}"#),
            "NgayTiepNhan: must be yyyyMMddHHmmss"
        );
        assert_eq!(reason("<html>\nbad</html>"), "<html> bad</html>");
        assert_eq!(reason(&"x".repeat(1000)).chars().count(), DETAIL_CHARS);
    }
}
