//! Typed settings read from the environment (and `.env` in development).
//!
//! Every variable is parsed once at start; a missing or malformed variable is
//! reported by name and the process exits non-zero. Secrets are kept in
//! `secrecy` types so they never reach a log line or a `Debug` print.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use lettre::message::Mailbox;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

mod integrations;
mod webauthn;

pub use integrations::{NationalPortalSettings, PaymentSettings};

pub use webauthn::WebauthnSettings;

use crate::crypto::keyring::{Keyring, MasterKey};

/// A configuration problem, naming the variable at fault.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {var} {reason}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub var: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl ConfigError {
    fn new(var: &'static str, reason: impl Into<String>) -> Self {
        Self {
            var,
            reason: reason.into(),
        }
    }
}

/// Where the PostgreSQL database is and how many connections to keep.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`: a `postgres://` URL; it may carry a password.
    pub url: SecretString,
    /// `DATABASE_POOL_SIZE`: connections per process.
    pub pool_size: usize,
    /// `DATABASE_TIMEOUT_SECS`: how long to wait for a connection or a query.
    pub timeout: Duration,
}

/// Where Redis is and which key prefix this deployment owns.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// `REDIS_URL`: a `redis://` or `rediss://` URL.
    pub url: SecretString,
    /// `REDIS_PREFIX`: prepended to every key, so deployments (and tests) can share one Redis.
    pub prefix: String,
}

/// How email leaves the system.
#[derive(Debug, Clone)]
pub enum MailTransportSettings {
    /// `SMTP_URL` set: deliver over SMTP (`smtp://`, `smtps://`, `?tls=required` for STARTTLS).
    Smtp {
        /// The URL lettre understands, with credentials if any.
        url: SecretString,
        /// `SMTP_POOL_SIZE`: pooled SMTP connections.
        pool_size: u32,
        /// `SMTP_TIMEOUT_SECS`: per-command timeout.
        timeout: Duration,
    },
    /// `SMTP_URL` unset: write each message as a `.eml` file under `MAIL_DIR`.
    Files {
        /// The folder the files go to.
        dir: PathBuf,
    },
}

/// How SMS leave the system.
#[derive(Debug, Clone)]
pub enum SmsTransportSettings {
    /// `SMS_URL` set: POST `{id, to, text}` as JSON to the operator's gateway.
    Http {
        /// The gateway URL.
        url: Url,
        /// `SMS_TOKEN`: bearer token for the gateway, if it wants one.
        token: Option<SecretString>,
    },
    /// `SMS_URL` unset: write each message as a JSON file under `SMS_DIR`.
    Files {
        /// The folder (default `.data/sms`).
        dir: PathBuf,
    },
}

/// Email settings.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The transport.
    pub transport: MailTransportSettings,
    /// `MAIL_FROM`: the sender shown to citizens.
    pub from: Mailbox,
}

/// Background job settings.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// `WORKER_CONCURRENCY`: jobs run at once by one worker process.
    pub concurrency: usize,
    /// `WORKER_POLL_MS`: how often an idle worker looks for due jobs.
    pub poll_interval: Duration,
}

/// The upstream national identity provider (VNeID), an OpenID provider.
#[derive(Debug, Clone)]
pub struct VneidSettings {
    /// `VNEID_ISSUER`: its issuer URL (discovery is read from it).
    pub issuer: Url,
    /// `VNEID_CLIENT_ID`.
    pub client_id: String,
    /// `VNEID_CLIENT_SECRET`.
    pub client_secret: SecretString,
    /// `VNEID_SCOPES`: scopes asked for (default `openid profile`).
    pub scopes: Vec<String>,
    /// `VNEID_CLAIM_NATIONAL_ID`: the claim carrying the 12-digit ID (default `national_id`).
    pub claim_national_id: String,
    /// `VNEID_CLAIM_NAME` (default `name`).
    pub claim_name: String,
    /// `VNEID_CLAIM_BIRTHDATE` (default `birthdate`).
    pub claim_birthdate: String,
    /// `VNEID_CLAIM_GENDER` (default `gender`).
    pub claim_gender: String,
}

/// All settings of one process.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `PUBLIC_URL`: the externally visible base URL, also the OIDC issuer.
    pub public_url: Url,
    /// `BIND_ADDR`: where the HTTP server listens.
    pub bind_addr: SocketAddr,
    /// Database.
    pub database: DatabaseSettings,
    /// Redis.
    pub redis: RedisSettings,
    /// Email.
    pub mail: MailSettings,
    /// Workers.
    pub worker: WorkerSettings,
    /// `HTTP_WORKERS`: actix worker threads (default: number of cores).
    pub http_workers: Option<usize>,
    /// The upstream VNeID provider, when configured.
    pub vneid: Option<VneidSettings>,
    /// `VAULT_MASTER_KEY` (and `VAULT_RETIRED_KEYS`): encryption at rest.
    pub keyring: Keyring,
    /// SMS delivery.
    pub sms: SmsTransportSettings,
    /// `TRUSTED_PROXY_HOPS`: reverse proxies in front of the app whose
    /// `X-Forwarded-For` entries are trusted (default 0: the peer address is the client).
    pub trusted_proxy_hops: usize,
    /// Where dossier files are kept: `FILES_URL` (an object_store URL such as
    /// `file:///srv/files` or `memory:///`) or else the folder `FILES_DIR`
    /// (default `.data/files`).
    pub files: FilesSettings,
    /// `METRICS_TOKEN`: the bearer token `/metrics` requires (at least 32
    /// characters); unset, `/metrics` answers 404.
    pub metrics_token: Option<SecretString>,
    /// The WebAuthn relying party (passkeys).
    pub webauthn: WebauthnSettings,
    /// The national payment platform, when configured (fees paid online).
    pub payment: Option<PaymentSettings>,
    /// The National Public Service Portal, when configured (dossiers mirrored).
    pub national_portal: Option<NationalPortalSettings>,
}

/// Where files are kept.
#[derive(Debug, Clone)]
pub enum FilesSettings {
    /// An object-store URL.
    Url(Url),
    /// A local folder (created if missing).
    Dir(PathBuf),
}

/// Reads `VAULT_MASTER_KEY` (required) and `VAULT_RETIRED_KEYS` (comma-separated, optional).
pub fn keyring_from_env(env: &dyn Env) -> Result<Keyring, ConfigError> {
    let active = MasterKey::parse(&required(env, "VAULT_MASTER_KEY")?)
        .map_err(|e| ConfigError::new("VAULT_MASTER_KEY", e.to_string()))?;
    let mut retired = Vec::new();
    for raw in env.get("VAULT_RETIRED_KEYS").unwrap_or_default().split(',') {
        if !raw.trim().is_empty() {
            retired.push(
                MasterKey::parse(raw)
                    .map_err(|e| ConfigError::new("VAULT_RETIRED_KEYS", e.to_string()))?,
            );
        }
    }
    Ok(Keyring::new(active, retired))
}

impl VneidSettings {
    /// Reads the VNeID variables: all three of issuer, client id and secret, or none.
    pub fn from_env(env: &dyn Env) -> Result<Option<Self>, ConfigError> {
        let issuer = env.get("VNEID_ISSUER");
        let client_id = env.get("VNEID_CLIENT_ID");
        let secret = env.get("VNEID_CLIENT_SECRET");
        let (issuer, client_id, secret) = match (issuer, client_id, secret) {
            (None, None, None) => return Ok(None),
            (Some(i), Some(c), Some(s)) => (i, c, s),
            (None, _, _) => {
                return Err(ConfigError::new(
                    "VNEID_ISSUER",
                    "is not set but other VNEID_ variables are",
                ));
            }
            (_, None, _) => {
                return Err(ConfigError::new(
                    "VNEID_CLIENT_ID",
                    "is not set but VNEID_ISSUER is",
                ));
            }
            (_, _, None) => {
                return Err(ConfigError::new(
                    "VNEID_CLIENT_SECRET",
                    "is not set but VNEID_ISSUER is",
                ));
            }
        };
        let issuer = Url::parse(&issuer)
            .map_err(|e| ConfigError::new("VNEID_ISSUER", format!("is not a valid URL ({e})")))?;
        if !matches!(issuer.scheme(), "http" | "https") {
            return Err(ConfigError::new(
                "VNEID_ISSUER",
                "must be an http:// or https:// URL",
            ));
        }
        let claim =
            |var: &'static str, default: &str| env.get(var).unwrap_or_else(|| default.to_owned());
        Ok(Some(Self {
            issuer,
            client_id,
            client_secret: SecretString::from(secret),
            scopes: env
                .get("VNEID_SCOPES")
                .unwrap_or_else(|| "openid profile".into())
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            claim_national_id: claim("VNEID_CLAIM_NATIONAL_ID", "national_id"),
            claim_name: claim("VNEID_CLAIM_NAME", "name"),
            claim_birthdate: claim("VNEID_CLAIM_BIRTHDATE", "birthdate"),
            claim_gender: claim("VNEID_CLAIM_GENDER", "gender"),
        }))
    }
}

/// A source of variables: the process environment in production, a map in tests.
pub trait Env {
    /// The value of `name`, if set and not empty.
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl<S: std::hash::BuildHasher> Env for std::collections::HashMap<String, String, S> {
    fn get(&self, name: &str) -> Option<String> {
        std::collections::HashMap::get(self, name)
            .cloned()
            .filter(|v| !v.trim().is_empty())
    }
}

fn required(env: &dyn Env, var: &'static str) -> Result<String, ConfigError> {
    env.get(var)
        .ok_or_else(|| ConfigError::new(var, "is not set (see .env.example)"))
}

fn parsed<T: std::str::FromStr>(
    env: &dyn Env,
    var: &'static str,
    default: T,
    what: &str,
) -> Result<T, ConfigError> {
    match env.get(var) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|_| ConfigError::new(var, format!("must be {what}, got {raw:?}"))),
    }
}

fn positive(var: &'static str, value: u64) -> Result<u64, ConfigError> {
    if value == 0 {
        Err(ConfigError::new(var, "must be greater than 0"))
    } else {
        Ok(value)
    }
}

impl DatabaseSettings {
    /// Reads only the database variables (enough for `eservices migrate`).
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        let raw = required(env, "DATABASE_URL")?;
        let url = Url::parse(&raw)
            .map_err(|e| ConfigError::new("DATABASE_URL", format!("is not a valid URL ({e})")))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "must start with postgres:// or postgresql://",
            ));
        }
        let pool_size = positive(
            "DATABASE_POOL_SIZE",
            parsed(env, "DATABASE_POOL_SIZE", 16, "a whole number")?,
        )?;
        let timeout = positive(
            "DATABASE_TIMEOUT_SECS",
            parsed(env, "DATABASE_TIMEOUT_SECS", 5, "a whole number of seconds")?,
        )?;
        Ok(Self {
            url: SecretString::from(raw),
            pool_size: usize::try_from(pool_size).unwrap_or(16),
            timeout: Duration::from_secs(timeout),
        })
    }
}

impl Settings {
    /// Reads and validates every setting.
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        let public_url = Url::parse(&required(env, "PUBLIC_URL")?)
            .map_err(|e| ConfigError::new("PUBLIC_URL", format!("is not a valid URL ({e})")))?;
        if !matches!(public_url.scheme(), "http" | "https") || public_url.host_str().is_none() {
            return Err(ConfigError::new(
                "PUBLIC_URL",
                "must be an http:// or https:// URL with a host",
            ));
        }
        if public_url.query().is_some() || public_url.fragment().is_some() {
            return Err(ConfigError::new(
                "PUBLIC_URL",
                "must not have a query or fragment (it is the OIDC issuer)",
            ));
        }
        let bind_addr = parsed(
            env,
            "BIND_ADDR",
            SocketAddr::from(([127, 0, 0, 1], 8080)),
            "an address such as 127.0.0.1:8080",
        )?;

        let redis_url = required(env, "REDIS_URL")?;
        redis::Client::open(redis_url.as_str()).map_err(|e| {
            ConfigError::new("REDIS_URL", format!("is not a valid Redis URL ({e})"))
        })?;
        let redis = RedisSettings {
            url: SecretString::from(redis_url),
            prefix: env
                .get("REDIS_PREFIX")
                .unwrap_or_else(|| "eservices:".into()),
        };

        let transport = match env.get("SMTP_URL") {
            Some(url) => {
                lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&url).map_err(
                    |e| ConfigError::new("SMTP_URL", format!("is not a valid SMTP URL ({e})")),
                )?;
                MailTransportSettings::Smtp {
                    url: SecretString::from(url),
                    pool_size: u32::try_from(positive(
                        "SMTP_POOL_SIZE",
                        parsed(env, "SMTP_POOL_SIZE", 8, "a whole number")?,
                    )?)
                    .unwrap_or(8),
                    timeout: Duration::from_secs(positive(
                        "SMTP_TIMEOUT_SECS",
                        parsed(env, "SMTP_TIMEOUT_SECS", 10, "a whole number of seconds")?,
                    )?),
                }
            }
            None => MailTransportSettings::Files {
                dir: PathBuf::from(env.get("MAIL_DIR").unwrap_or_else(|| ".data/mail".into())),
            },
        };
        let from_raw = env
            .get("MAIL_FROM")
            .unwrap_or_else(|| "Dịch vụ công TP.HCM <no-reply@localhost>".into());
        let from: Mailbox = from_raw
            .parse()
            .map_err(|e| ConfigError::new("MAIL_FROM", format!("is not a valid mailbox ({e})")))?;

        let worker = WorkerSettings {
            concurrency: usize::try_from(positive(
                "WORKER_CONCURRENCY",
                parsed(env, "WORKER_CONCURRENCY", 16, "a whole number")?,
            )?)
            .unwrap_or(16),
            poll_interval: Duration::from_millis(positive(
                "WORKER_POLL_MS",
                parsed(env, "WORKER_POLL_MS", 500, "a whole number of milliseconds")?,
            )?),
        };
        let http_workers = match env.get("HTTP_WORKERS") {
            None => None,
            Some(_) => Some(
                usize::try_from(positive(
                    "HTTP_WORKERS",
                    parsed(env, "HTTP_WORKERS", 0, "a whole number")?,
                )?)
                .unwrap_or(1),
            ),
        };

        let metrics_token = match env.get("METRICS_TOKEN") {
            Some(t) if t.chars().count() < 32 => {
                return Err(ConfigError::new(
                    "METRICS_TOKEN",
                    "must be at least 32 characters (generate one with: head -c 32 /dev/urandom | base64)",
                ));
            }
            t => t.map(SecretString::from),
        };
        Ok(Self {
            metrics_token,
            payment: PaymentSettings::from_env(env)?,
            national_portal: NationalPortalSettings::from_env(env)?,
            webauthn: WebauthnSettings::from_env(env, &public_url)?,
            public_url,
            bind_addr,
            database: DatabaseSettings::from_env(env)?,
            redis,
            mail: MailSettings { transport, from },
            worker,
            http_workers,
            vneid: VneidSettings::from_env(env)?,
            keyring: keyring_from_env(env)?,
            files: match env.get("FILES_URL") {
                Some(raw) => FilesSettings::Url(Url::parse(&raw).map_err(|e| {
                    ConfigError::new("FILES_URL", format!("is not a valid URL ({e})"))
                })?),
                None => FilesSettings::Dir(PathBuf::from(
                    env.get("FILES_DIR").unwrap_or_else(|| ".data/files".into()),
                )),
            },
            trusted_proxy_hops: usize::try_from(parsed(
                env,
                "TRUSTED_PROXY_HOPS",
                0_u64,
                "a whole number",
            )?)
            .unwrap_or(0),
            sms: match env.get("SMS_URL") {
                Some(raw) => {
                    let url = Url::parse(&raw).map_err(|e| {
                        ConfigError::new("SMS_URL", format!("is not a valid URL ({e})"))
                    })?;
                    if !matches!(url.scheme(), "http" | "https") {
                        return Err(ConfigError::new(
                            "SMS_URL",
                            "must be an http:// or https:// URL",
                        ));
                    }
                    SmsTransportSettings::Http {
                        url,
                        token: env.get("SMS_TOKEN").map(SecretString::from),
                    }
                }
                None => SmsTransportSettings::Files {
                    dir: PathBuf::from(env.get("SMS_DIR").unwrap_or_else(|| ".data/sms".into())),
                },
            },
        })
    }

    /// The issuer identifier: `PUBLIC_URL` without a trailing slash.
    pub fn issuer(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_owned()
    }

    /// The host part of `PUBLIC_URL`, used in Message-IDs.
    pub fn mail_domain(&self) -> String {
        self.public_url.host_str().unwrap_or("localhost").to_owned()
    }
}

impl MailTransportSettings {
    /// A description without credentials, for start-up logs.
    pub fn describe(&self) -> String {
        match self {
            Self::Smtp { url, .. } => match Url::parse(url.expose_secret()) {
                Ok(u) => format!(
                    "smtp {}:{}",
                    u.host_str().unwrap_or("?"),
                    u.port().map_or_else(|| "default".into(), |p| p.to_string())
                ),
                Err(_) => "smtp".into(),
            },
            Self::Files { dir } => format!("files in {}", dir.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn base() -> HashMap<String, String> {
        [
            ("DATABASE_URL", "postgres://u:p@127.0.0.1:5432/db"),
            ("REDIS_URL", "redis://127.0.0.1:6379/"),
            ("PUBLIC_URL", "http://127.0.0.1:8080"),
            (
                "VAULT_MASTER_KEY",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn minimal_environment_is_enough() {
        let s = Settings::from_env(&base()).expect("valid");
        assert_eq!(s.issuer(), "http://127.0.0.1:8080");
        assert_eq!(s.bind_addr.port(), 8080);
        assert!(matches!(
            s.mail.transport,
            MailTransportSettings::Files { .. }
        ));
    }

    #[test]
    fn each_missing_variable_is_named() {
        for var in [
            "DATABASE_URL",
            "REDIS_URL",
            "PUBLIC_URL",
            "VAULT_MASTER_KEY",
        ] {
            let mut env = base();
            env.remove(var);
            let err = Settings::from_env(&env).expect_err("must fail");
            assert_eq!(err.var, var);
            assert!(err.to_string().contains(var));
        }
    }

    #[test]
    fn malformed_values_are_named() {
        for (var, value) in [
            ("DATABASE_URL", "mysql://x/y"),
            ("REDIS_URL", "not a url"),
            ("PUBLIC_URL", "ftp://host"),
            ("BIND_ADDR", "localhost"),
            ("SMTP_URL", "gopher://x"),
            ("MAIL_FROM", "no at sign"),
            ("DATABASE_POOL_SIZE", "0"),
            ("WORKER_CONCURRENCY", "many"),
            ("VNEID_ISSUER", "ftp://vneid.example"),
            ("VAULT_MASTER_KEY", "c2hvcnQ="),
            ("VAULT_RETIRED_KEYS", "bad"),
            ("METRICS_TOKEN", "short"),
        ] {
            let mut env = base();
            env.insert(var.into(), value.into());
            if var == "VNEID_ISSUER" {
                env.insert("VNEID_CLIENT_ID".into(), "eservices".into());
                env.insert("VNEID_CLIENT_SECRET".into(), "s3cret".into());
            }
            let err = Settings::from_env(&env).expect_err(var);
            assert_eq!(err.var, var, "{value}");
        }
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let mut env = base();
        env.insert(
            "SMTP_URL".into(),
            "smtp://user:hunter22@mail.example:25".into(),
        );
        let s = Settings::from_env(&env).expect("valid");
        let printed = format!("{s:?}");
        assert!(!printed.contains("hunter22"));
        assert!(!printed.contains("u:p@"));
        assert_eq!(s.mail.transport.describe(), "smtp mail.example:25");
    }
}
