//! The lettre transport: pooled SMTP (plain, STARTTLS or TLS, per `SMTP_URL`)
//! or `.eml` files in `MAIL_DIR` when no SMTP server is configured.

use std::time::SystemTime;

use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
    transport::smtp::PoolConfig,
};
use secrecy::ExposeSecret;

use crate::{config::MailTransportSettings, storage::emails::EmailRow};

/// Why a delivery failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    /// The SMTP response or error text (no message content).
    pub detail: String,
    /// False for permanent refusals (5xx): retrying cannot help.
    pub retryable: bool,
}

/// An email transport.
#[derive(Clone)]
pub enum Mailer {
    /// SMTP with a connection pool.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a folder.
    Files(AsyncFileTransport<Tokio1Executor>),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Smtp(_) => "Mailer::Smtp",
            Self::Files(_) => "Mailer::Files",
        })
    }
}

impl Mailer {
    /// Builds the transport; creates the mail folder if needed.
    pub fn build(settings: &MailTransportSettings) -> anyhow::Result<Self> {
        match settings {
            MailTransportSettings::Smtp {
                url,
                pool_size,
                timeout,
            } => {
                let transport =
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())?
                        .pool_config(PoolConfig::new().max_size(*pool_size))
                        .timeout(Some(*timeout))
                        .build();
                Ok(Self::Smtp(transport))
            }
            MailTransportSettings::Files { dir } => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("creating MAIL_DIR {}: {e}", dir.display()))?;
                Ok(Self::Files(AsyncFileTransport::<Tokio1Executor>::new(dir)))
            }
        }
    }

    /// Sends a stored message; returns the server's response.
    pub async fn deliver(&self, from: &Mailbox, email: &EmailRow) -> Result<String, DeliveryError> {
        let message = build_message(from, email)?;
        match self {
            Self::Smtp(transport) => match transport.send(message).await {
                Ok(response) => Ok(format!(
                    "{} {}",
                    response.code(),
                    response.message().collect::<Vec<_>>().join(" ")
                )),
                Err(err) => Err(DeliveryError {
                    detail: describe_smtp_error(&err),
                    retryable: !err.is_permanent(),
                }),
            },
            Self::Files(transport) => match transport.send(message).await {
                Ok(id) => Ok(format!("written {id}.eml")),
                Err(err) => Err(DeliveryError {
                    detail: format!("file transport: {err}"),
                    retryable: true,
                }),
            },
        }
    }
}

fn describe_smtp_error(err: &lettre::transport::smtp::Error) -> String {
    use std::error::Error as _;
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Builds the MIME message: multipart/alternative (text, HTML), with the
/// stored Message-ID and date so a retried send is the same message.
pub fn build_message(from: &Mailbox, email: &EmailRow) -> Result<Message, DeliveryError> {
    let permanent = |detail: String| DeliveryError {
        detail,
        retryable: false,
    };
    let to: Mailbox = email
        .recipient
        .parse()
        .map_err(|e| permanent(format!("invalid recipient: {e}")))?;
    let (Some(text), Some(html)) = (&email.body_text, &email.body_html) else {
        return Err(permanent("message body was already erased".into()));
    };
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.clone())
        .message_id(Some(email.message_id.clone()))
        .date(SystemTime::from(email.created_at))
        .multipart(MultiPart::alternative_plain_html(
            text.clone(),
            html.clone(),
        ))
        .map_err(|e| permanent(format!("building message: {e}")))
}
