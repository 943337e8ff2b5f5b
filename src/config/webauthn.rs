//! The WebAuthn relying party's settings: `WEBAUTHN_RP_ID`,
//! `WEBAUTHN_ORIGINS`, `WEBAUTHN_RP_NAME`.

use url::Url;

use super::{ConfigError, Env};

/// Who we are to authenticators.
#[derive(Debug, Clone)]
pub struct WebauthnSettings {
    /// `WEBAUTHN_RP_ID`: the domain passkeys are bound to (default: the host
    /// of `PUBLIC_URL`). A parent domain lets every city site share them.
    pub rp_id: String,
    /// `WEBAUTHN_ORIGINS`: comma-separated origins allowed to use them
    /// (default: the origin of `PUBLIC_URL`); the mobile apps' origins (an
    /// `android:apk-key-hash:…` value) go here too.
    pub origins: Vec<Url>,
    /// `WEBAUTHN_RP_NAME`: the name authenticators show.
    pub rp_name: String,
}

impl WebauthnSettings {
    /// Reads the variables, with defaults from `public_url`.
    pub fn from_env(env: &dyn Env, public_url: &Url) -> Result<Self, ConfigError> {
        let rp_id = match env.get("WEBAUTHN_RP_ID") {
            Some(id) => {
                let id = id.trim().to_ascii_lowercase();
                if id.is_empty()
                    || id.contains(['/', ':', ' '])
                    || id.parse::<std::net::IpAddr>().is_ok()
                {
                    return Err(ConfigError::new(
                        "WEBAUTHN_RP_ID",
                        "must be a domain name (such as dichvucong.hochiminhcity.gov.vn), not a URL or an IP address",
                    ));
                }
                id
            }
            None => public_url.host_str().unwrap_or_default().to_owned(),
        };
        let origins = match env.get("WEBAUTHN_ORIGINS") {
            Some(raw) => raw
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|o| {
                    Url::parse(o).map_err(|e| {
                        ConfigError::new(
                            "WEBAUTHN_ORIGINS",
                            format!("{o} is not a valid origin ({e})"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => vec![public_url.clone()],
        };
        if origins.is_empty() {
            return Err(ConfigError::new(
                "WEBAUTHN_ORIGINS",
                "must name at least one origin",
            ));
        }
        Ok(Self {
            rp_id,
            origins,
            rp_name: env
                .get("WEBAUTHN_RP_NAME")
                .unwrap_or_else(|| "Dịch vụ công TP.HCM".into()),
        })
    }
}
