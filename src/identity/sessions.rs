//! Browser sessions, kept server-side in Redis.
//!
//! The cookie holds a random token; Redis holds the session under the token's
//! SHA-256, with an idle timeout (the key's TTL, renewed on use) and an
//! absolute timeout (checked against `created_at`). Each account has a set of
//! its sessions so the owner can list and revoke them. Losing Redis signs
//! everyone out; nothing durable lives here.

use std::time::Duration;

use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{
    crypto::tokens,
    domain::{AccountId, BusinessId, assurance::Method},
    error::{AppError, AppResult},
    kv::Kv,
};

/// Idle timeout of citizens' sessions: a session unused this long ends.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Absolute timeout of citizens' sessions: it ends this long after sign-in, used or not.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::from_secs(12 * 3600);

/// What any kind of session must tell the store.
pub trait SessionData: Serialize + DeserializeOwned + Clone + Send + Sync {
    /// Key prefix of this kind of session.
    const KIND: &'static str;
    /// Unused this long, the session ends.
    const IDLE: Duration;
    /// This long after sign-in, the session ends.
    const ABSOLUTE: Duration;
    /// Whose session it is (for the per-owner index).
    fn owner(&self) -> String;
    /// When it began.
    fn created_at(&self) -> DateTime<Utc>;
    /// When it was last used.
    fn last_seen_at(&self) -> DateTime<Utc>;
    /// Records a use.
    fn touch(&mut self, now: DateTime<Utc>);
    /// Client software and address, for the owner's list.
    fn client(&self) -> (Option<String>, Option<String>);
    /// How the session signed in, in words for its owner.
    fn signed_in_with(&self) -> Option<&'static str> {
        None
    }
}

/// What a session knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Who signed in.
    pub account_id: AccountId,
    /// Assurance level at sign-in (1 or 2).
    pub level: u8,
    /// The business the person acts for, if they chose one.
    pub acting_for: Option<BusinessId>,
    /// How they proved who they are, in order (a password, then a code…).
    pub methods: Vec<Method>,
    /// When they authenticated.
    pub authenticated_at: DateTime<Utc>,
    /// When the session began.
    pub created_at: DateTime<Utc>,
    /// When it was last used.
    pub last_seen_at: DateTime<Utc>,
    /// The client's software, for the owner's session list.
    pub user_agent: Option<String>,
    /// The client's address, for the owner's session list.
    pub ip: Option<String>,
}

impl SessionData for Session {
    const KIND: &'static str = "session";
    const IDLE: Duration = IDLE_TIMEOUT;
    const ABSOLUTE: Duration = ABSOLUTE_TIMEOUT;
    fn owner(&self) -> String {
        self.account_id.to_string()
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
    fn signed_in_with(&self) -> Option<&'static str> {
        Some(crate::domain::assurance::describe(&self.methods))
    }
}

impl Session {
    /// The `sid` of this browser session, as its ID tokens and logout
    /// tokens carry it.
    pub fn sid(&self) -> String {
        tokens::hash_hex(&format!(
            "{}:{}",
            self.account_id,
            self.created_at.timestamp_micros()
        ))[..32]
            .to_owned()
    }

    /// The level this session asserts (`acr`): the account's, capped at 1
    /// unless it signed in strongly.
    pub fn asserted_level(&self) -> u8 {
        crate::domain::assurance::session_level(self.level, &self.methods)
    }

    /// Whether it signed in strongly in the last ten minutes.
    pub fn recently_strong(&self, now: DateTime<Utc>) -> bool {
        crate::domain::assurance::recent_strong(&self.methods, self.authenticated_at, now)
    }
}

/// A session as its owner sees it in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionSummary {
    /// Public id (a prefix of the token's hash, never the token).
    pub id: String,
    /// When it began.
    pub created_at: DateTime<Utc>,
    /// When it was last used.
    pub last_seen_at: DateTime<Utc>,
    /// Client software.
    pub user_agent: Option<String>,
    /// Client address.
    pub ip: Option<String>,
    /// Whether it is the session making the request.
    pub current: bool,
    /// How it signed in ("Mật khẩu", "Passkey", "VNeID"…).
    pub signed_in_with: Option<&'static str>,
}

/// The session store for one kind of session.
#[derive(Debug)]
pub struct SessionStore<T = Session> {
    kv: std::sync::Arc<Kv>,
    kind: PhantomData<fn() -> T>,
}

impl<T> Clone for SessionStore<T> {
    fn clone(&self) -> Self {
        Self {
            kv: self.kv.clone(),
            kind: PhantomData,
        }
    }
}

fn public_id(hash_hex: &str) -> String {
    hash_hex[..16].to_owned()
}

impl<T: SessionData> SessionStore<T> {
    /// A store on `kv`.
    pub fn new(kv: std::sync::Arc<Kv>) -> Self {
        Self {
            kv,
            kind: PhantomData,
        }
    }

    fn key(&self, hash_hex: &str) -> String {
        self.kv.key(&format!("{}:{hash_hex}", T::KIND))
    }

    fn index_key(&self, owner: &str) -> String {
        self.kv.key(&format!("{}_index:{owner}", T::KIND))
    }

    /// Starts a session; returns the cookie token.
    pub async fn create(&self, session: &T) -> AppResult<String> {
        let token = tokens::generate();
        let hash = tokens::hash_hex(&token);
        let body = serde_json::to_string(session).map_err(AppError::internal)?;
        let mut conn = self.kv.conn().await?;
        redis::pipe()
            .atomic()
            .set_ex(self.key(&hash), body, T::IDLE.as_secs())
            .sadd(self.index_key(&session.owner()), &hash)
            .expire(
                self.index_key(&session.owner()),
                i64::try_from(T::ABSOLUTE.as_secs()).unwrap_or(i64::MAX),
            )
            .query_async::<()>(&mut conn)
            .await?;
        Ok(token)
    }

    /// The live session of a cookie token, renewed; `None` if unknown or expired.
    pub async fn load(&self, token: &str, now: DateTime<Utc>) -> AppResult<Option<T>> {
        if !tokens::well_formed(token) {
            return Ok(None);
        }
        let hash = tokens::hash_hex(token);
        let mut conn = self.kv.conn().await?;
        let raw: Option<String> = conn.get(self.key(&hash)).await?;
        let Some(mut session) = raw.and_then(|r| serde_json::from_str::<T>(&r).ok()) else {
            return Ok(None);
        };
        let absolute = chrono::Duration::from_std(T::ABSOLUTE).unwrap_or_default();
        let idle = chrono::Duration::from_std(T::IDLE).unwrap_or_default();
        if now >= session.created_at() + absolute || now >= session.last_seen_at() + idle {
            self.revoke_hash(&session.owner(), &hash).await?;
            return Ok(None);
        }
        // Renew at most once a minute, so reads stay reads.
        if now - session.last_seen_at() >= chrono::Duration::seconds(60) {
            session.touch(now);
            let body = serde_json::to_string(&session).map_err(AppError::internal)?;
            let _: () = conn
                .set_ex(self.key(&hash), body, T::IDLE.as_secs())
                .await?;
        }
        Ok(Some(session))
    }

    /// Ends the session of a cookie token; returns it if it was live.
    pub async fn revoke(&self, token: &str) -> AppResult<Option<T>> {
        if !tokens::well_formed(token) {
            return Ok(None);
        }
        let hash = tokens::hash_hex(token);
        let mut conn = self.kv.conn().await?;
        let raw: Option<String> = conn.get(self.key(&hash)).await?;
        let session = raw.and_then(|r| serde_json::from_str::<T>(&r).ok());
        if let Some(session) = &session {
            self.revoke_hash(&session.owner(), &hash).await?;
        }
        Ok(session)
    }

    async fn revoke_hash(&self, owner: &str, hash: &str) -> AppResult<()> {
        let mut conn = self.kv.conn().await?;
        redis::pipe()
            .atomic()
            .del(self.key(hash))
            .srem(self.index_key(owner), hash)
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    async fn live_hashes(&self, owner: &str) -> AppResult<Vec<(String, T)>> {
        let mut conn = self.kv.conn().await?;
        let hashes: Vec<String> = conn.smembers(self.index_key(owner)).await?;
        let mut live = Vec::new();
        for hash in hashes {
            let raw: Option<String> = conn.get(self.key(&hash)).await?;
            match raw.and_then(|r| serde_json::from_str::<T>(&r).ok()) {
                Some(s) => live.push((hash, s)),
                None => {
                    let _: () = conn.srem(self.index_key(owner), &hash).await?;
                }
            }
        }
        Ok(live)
    }

    /// The account's live sessions, newest first.
    pub async fn list(
        &self,
        owner: &str,
        current_token: Option<&str>,
    ) -> AppResult<Vec<SessionSummary>> {
        let current = current_token.map(tokens::hash_hex);
        let mut list: Vec<_> = self
            .live_hashes(owner)
            .await?
            .into_iter()
            .map(|(hash, s)| {
                let (user_agent, ip) = s.client();
                SessionSummary {
                    id: public_id(&hash),
                    created_at: s.created_at(),
                    last_seen_at: s.last_seen_at(),
                    user_agent,
                    ip,
                    current: current.as_deref() == Some(hash.as_str()),
                    signed_in_with: s.signed_in_with(),
                }
            })
            .collect();
        list.sort_by_key(|s| std::cmp::Reverse(s.created_at));
        Ok(list)
    }

    /// Ends one of the account's sessions by its public id; returns it, or
    /// `None` if none matched.
    pub async fn revoke_by_public_id(&self, owner: &str, id: &str) -> AppResult<Option<T>> {
        for (hash, session) in self.live_hashes(owner).await? {
            if public_id(&hash) == id {
                self.revoke_hash(owner, &hash).await?;
                return Ok(Some(session));
            }
        }
        Ok(None)
    }

    /// Ends every session of the account except the one of `keep_token`;
    /// returns the sessions ended.
    pub async fn revoke_all(&self, owner: &str, keep_token: Option<&str>) -> AppResult<Vec<T>> {
        let keep = keep_token.map(tokens::hash_hex);
        let mut ended = Vec::new();
        for (hash, session) in self.live_hashes(owner).await? {
            if keep.as_deref() != Some(hash.as_str()) {
                self.revoke_hash(owner, &hash).await?;
                ended.push(session);
            }
        }
        Ok(ended)
    }
}
