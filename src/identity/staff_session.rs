//! A back-office session: who, their agency and roles, and how they signed
//! in (password with TOTP, or password with a passkey).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::identity::Identity;
use crate::{
    domain::{assurance::Method, staff::StaffRole},
    error::AppResult,
    identity::{ClientInfo, sessions::SessionData},
};

/// A back-office session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffSession {
    /// The civil servant.
    pub staff_id: Uuid,
    /// Their agency.
    pub agency_code: String,
    /// Their roles at sign-in.
    pub roles: Vec<StaffRole>,
    /// How they signed in (`pwd` with `otp`, or `pwd` with `hwk`/`swk`).
    /// Sessions opened before methods were recorded have none: they signed
    /// in with a password and TOTP.
    #[serde(default)]
    pub methods: Vec<Method>,
    /// When the session began (the sign-in: staff sessions are never stepped up).
    pub created_at: DateTime<Utc>,
    /// When it was last used.
    pub last_seen_at: DateTime<Utc>,
    /// Client software (at sign-in; once loaded for a request, the request's).
    pub user_agent: Option<String>,
    /// Client address (likewise).
    pub ip: Option<String>,
}

impl StaffSession {
    /// Whether the session carries `role`.
    pub fn has(&self, role: StaffRole) -> bool {
        self.roles.contains(&role)
    }

    /// Whether it signed in with a passkey.
    pub fn used_passkey(&self) -> bool {
        self.methods.iter().any(|m| m.is_passkey())
    }
}

/// The live back-office session of a token (pages' cookie or the staff
/// API's bearer token), renewed, carrying this request's client: what the
/// audit trail records.
pub async fn session(
    state: &Identity,
    token: &str,
    client: ClientInfo,
) -> AppResult<Option<StaffSession>> {
    let session = state.staff_sessions.load(token, state.clock.now()).await?;
    Ok(session.map(|s| StaffSession {
        ip: client.ip,
        user_agent: client.user_agent,
        ..s
    }))
}

impl SessionData for StaffSession {
    const KIND: &'static str = "staff_session";
    const IDLE: Duration = Duration::from_secs(15 * 60);
    const ABSOLUTE: Duration = Duration::from_secs(10 * 3600);
    fn owner(&self) -> String {
        self.staff_id.to_string()
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    fn last_seen_at(&self) -> DateTime<Utc> {
        self.last_seen_at
    }
    fn touch(&mut self, now: DateTime<Utc>) {
        self.last_seen_at = now;
    }
    fn client(&self) -> (Option<String>, Option<String>) {
        (self.user_agent.clone(), self.ip.clone())
    }
}
