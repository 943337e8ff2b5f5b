//! SMS delivery: an HTTP gateway of the operator (`SMS_URL`, JSON
//! `{id, to, text}`, the id lets the gateway drop a retried duplicate) or JSON
//! files under `SMS_DIR` when none is configured (development, tests).

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};

use crate::{config::SmsTransportSettings, notify::mailer::DeliveryError, storage::sms::SmsRow};

/// An SMS transport.
#[derive(Clone)]
pub enum SmsSender {
    /// The operator's HTTP gateway.
    Http {
        /// Client with a timeout, no redirects.
        client: reqwest::Client,
        /// Gateway URL.
        url: url::Url,
        /// Bearer token.
        token: Option<SecretString>,
    },
    /// JSON files in a folder.
    Files(PathBuf),
}

impl std::fmt::Debug for SmsSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Http { .. } => "SmsSender::Http",
            Self::Files(_) => "SmsSender::Files",
        })
    }
}

impl SmsSender {
    /// Builds the transport; creates the folder if needed.
    pub fn build(settings: &SmsTransportSettings) -> anyhow::Result<Self> {
        match settings {
            SmsTransportSettings::Http { url, token } => Ok(Self::Http {
                client: reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(10))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()?,
                url: url.clone(),
                token: token.clone(),
            }),
            SmsTransportSettings::Files { dir } => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("creating SMS_DIR {}: {e}", dir.display()))?;
                Ok(Self::Files(dir.clone()))
            }
        }
    }

    /// Sends a stored message; returns the gateway's answer.
    pub async fn deliver(&self, sms: &SmsRow) -> Result<String, DeliveryError> {
        let Some(text) = &sms.body else {
            return Err(DeliveryError {
                detail: "message body was already erased".into(),
                retryable: false,
            });
        };
        let payload = serde_json::json!({ "id": sms.id, "to": sms.recipient, "text": text });
        match self {
            Self::Http { client, url, token } => {
                let mut request = client.post(url.clone()).json(&payload);
                if let Some(token) = token {
                    request = request.bearer_auth(token.expose_secret());
                }
                match request.send().await {
                    Ok(res) if res.status().is_success() => {
                        Ok(format!("HTTP {}", res.status().as_u16()))
                    }
                    Ok(res) => {
                        let status = res.status();
                        Err(DeliveryError {
                            detail: format!("HTTP {}", status.as_u16()),
                            // 4xx other than 408/429 will not get better by retrying.
                            retryable: status.is_server_error()
                                || status.as_u16() == 408
                                || status.as_u16() == 429,
                        })
                    }
                    Err(err) => Err(DeliveryError {
                        detail: format!("gateway unreachable: {err}"),
                        retryable: true,
                    }),
                }
            }
            Self::Files(dir) => {
                let path = dir.join(format!("{}.json", sms.id));
                let tmp = dir.join(format!(".{}.tmp", sms.id));
                let body = payload.to_string();
                let write = async {
                    tokio::fs::write(&tmp, body).await?;
                    tokio::fs::rename(&tmp, &path).await
                };
                write
                    .await
                    .map(|()| format!("written {}.json", sms.id))
                    .map_err(|e| DeliveryError {
                        detail: format!("file transport: {e}"),
                        retryable: true,
                    })
            }
        }
    }
}
