//! Settings of the systems of others we talk to: the national payment
//! platform and the National Public Service Portal. Each is optional (all
//! of its variables, or none); unset, the feature is off.

use secrecy::SecretString;
use url::Url;

use super::{ConfigError, Env, parsed, positive};

/// The national payment platform (fees paid online).
#[derive(Debug, Clone)]
pub struct PaymentSettings {
    /// `PAYMENT_PLATFORM_URL`: its API base URL.
    pub url: Url,
    /// `PAYMENT_MERCHANT_CODE`: our merchant (partner) code there.
    pub merchant_code: String,
    /// `PAYMENT_KEY1`: signs what we send (HMAC-SHA256).
    pub key1: SecretString,
    /// `PAYMENT_KEY2`: verifies what it sends (callbacks, query answers).
    pub key2: SecretString,
    /// `PAYMENT_PENDING_MINUTES`: how long a payment may stay pending
    /// before it expires (default 30).
    pub pending_minutes: u32,
    /// `PAYMENT_TIMEOUT_SECS`: how long a call to the platform may take (default 10).
    pub timeout_secs: u64,
}

/// The National Public Service Portal (Cổng Dịch vụ công quốc gia).
#[derive(Debug, Clone)]
pub struct NationalPortalSettings {
    /// `NATIONAL_PORTAL_URL`: its API base URL.
    pub url: Url,
    /// `NATIONAL_PORTAL_USERNAME`: the city's account there.
    pub username: String,
    /// `NATIONAL_PORTAL_PASSWORD`.
    pub password: SecretString,
    /// `NATIONAL_PORTAL_UNIT_CODE`: the city's unit code in the national
    /// catalogue (default `000.00.00.H29`, Ho Chi Minh City).
    pub unit_code: String,
    /// `NATIONAL_PORTAL_TIMEOUT_SECS`: how long a call may take (default 10).
    pub timeout_secs: u64,
}

/// `var` as an http(s) URL.
fn http_url(var: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let url =
        Url::parse(raw).map_err(|e| ConfigError::new(var, format!("is not a valid URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::new(var, "must be an http:// or https:// URL"));
    }
    Ok(url)
}

/// The value of each of `vars`: all set, or none (`Ok(None)`); naming the first missing one.
fn all_or_none<const N: usize>(
    env: &dyn Env,
    vars: [&'static str; N],
) -> Result<Option<[String; N]>, ConfigError> {
    let values = vars.map(|v| env.get(v));
    if values.iter().all(Option::is_none) {
        return Ok(None);
    }
    if let Some((missing, _)) = vars.iter().zip(&values).find(|(_, v)| v.is_none()) {
        return Err(ConfigError::new(
            missing,
            format!("is not set but {} is", vars[0]),
        ));
    }
    Ok(Some(values.map(Option::unwrap_or_default)))
}

impl PaymentSettings {
    /// Reads the payment platform's variables.
    pub fn from_env(env: &dyn Env) -> Result<Option<Self>, ConfigError> {
        let Some([url, merchant_code, key1, key2]) = all_or_none(
            env,
            [
                "PAYMENT_PLATFORM_URL",
                "PAYMENT_MERCHANT_CODE",
                "PAYMENT_KEY1",
                "PAYMENT_KEY2",
            ],
        )?
        else {
            return Ok(None);
        };
        for (var, key) in [("PAYMENT_KEY1", &key1), ("PAYMENT_KEY2", &key2)] {
            if key.len() < 16 {
                return Err(ConfigError::new(var, "must be at least 16 characters"));
            }
        }
        Ok(Some(Self {
            url: http_url("PAYMENT_PLATFORM_URL", &url)?,
            merchant_code,
            key1: SecretString::from(key1),
            key2: SecretString::from(key2),
            pending_minutes: u32::try_from(positive(
                "PAYMENT_PENDING_MINUTES",
                parsed(
                    env,
                    "PAYMENT_PENDING_MINUTES",
                    30,
                    "a whole number of minutes",
                )?,
            )?)
            .unwrap_or(30),
            timeout_secs: positive(
                "PAYMENT_TIMEOUT_SECS",
                parsed(env, "PAYMENT_TIMEOUT_SECS", 10, "a whole number of seconds")?,
            )?,
        }))
    }
}

impl NationalPortalSettings {
    /// Reads the national portal's variables.
    pub fn from_env(env: &dyn Env) -> Result<Option<Self>, ConfigError> {
        let Some([url, username, password]) = all_or_none(
            env,
            [
                "NATIONAL_PORTAL_URL",
                "NATIONAL_PORTAL_USERNAME",
                "NATIONAL_PORTAL_PASSWORD",
            ],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(Self {
            url: http_url("NATIONAL_PORTAL_URL", &url)?,
            username,
            password: SecretString::from(password),
            unit_code: env
                .get("NATIONAL_PORTAL_UNIT_CODE")
                .unwrap_or_else(|| "000.00.00.H29".into()),
            timeout_secs: positive(
                "NATIONAL_PORTAL_TIMEOUT_SECS",
                parsed(
                    env,
                    "NATIONAL_PORTAL_TIMEOUT_SECS",
                    10,
                    "a whole number of seconds",
                )?,
            )?,
        }))
    }
}
