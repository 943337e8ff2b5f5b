//! The checks of a refresh token at the token endpoint (RFC 6749 §6, OAuth
//! 2.0 Security BCP §4.14): bound to its client, alive (not expired, its
//! family not revoked), used once (a rotated token presented again after a
//! short grace window means a copy exists: the family ends), and scopes only
//! narrowed, never widened.

use chrono::{DateTime, Duration, Utc};

/// A rotated refresh token presented again within this window (concurrent
/// requests of the same client) is honoured, and the successor issued before
/// is revoked (one live token per family); later, it revokes its family.
pub const REFRESH_REUSE_GRACE: Duration = Duration::seconds(10);
/// How long a refresh token lives unused (each use issues a new one).
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);

/// What a stored refresh token says about itself.
#[derive(Debug, Clone, Copy)]
pub struct StoredRefresh<'a> {
    /// The client it was issued to.
    pub client_id: &'a str,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it (or its family) was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was exchanged (rotated).
    pub used_at: Option<DateTime<Utc>>,
}

/// A refresh token that may be exchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshUse {
    /// First use: mark it used.
    First,
    /// Presented again within the grace window: its earlier successor ends.
    Repeat,
}

/// Why a refresh token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    /// Another client presents it.
    OtherClient,
    /// Revoked (alone or with its family) or expired.
    RevokedOrExpired,
    /// Rotated and presented again after the grace window: revoke the family.
    Reused,
}

impl RefreshRefusal {
    /// Whether the whole family must be revoked.
    pub fn revokes_family(self) -> bool {
        self == Self::Reused
    }
}

/// Checks `token` presented by `client_id` at `now`.
pub fn check(
    token: &StoredRefresh<'_>,
    client_id: &str,
    now: DateTime<Utc>,
) -> Result<RefreshUse, RefreshRefusal> {
    if token.client_id != client_id {
        return Err(RefreshRefusal::OtherClient);
    }
    if token.revoked_at.is_some() || token.expires_at <= now {
        return Err(RefreshRefusal::RevokedOrExpired);
    }
    match token.used_at {
        None => Ok(RefreshUse::First),
        Some(used) if now - used > REFRESH_REUSE_GRACE => Err(RefreshRefusal::Reused),
        Some(_) => Ok(RefreshUse::Repeat),
    }
}

/// The scopes of a refreshed token: the granted ones, or the `requested`
/// subset of them. `Err` names the first scope that was not granted.
pub fn narrow_scopes(granted: &[String], requested: Option<&str>) -> Result<Vec<String>, String> {
    let Some(requested) = requested else {
        return Ok(granted.to_vec());
    };
    let requested: Vec<String> = requested.split_whitespace().map(str::to_owned).collect();
    match requested.iter().find(|s| !granted.contains(s)) {
        Some(extra) => Err(extra.clone()),
        None => Ok(requested),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("time")
    }

    fn fresh() -> StoredRefresh<'static> {
        StoredRefresh {
            client_id: "app",
            expires_at: t0() + REFRESH_TOKEN_TTL,
            revoked_at: None,
            used_at: None,
        }
    }

    fn scopes(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn a_fresh_token_of_its_client_is_a_first_use() {
        assert_eq!(check(&fresh(), "app", t0()), Ok(RefreshUse::First));
    }

    #[test]
    fn another_client_is_refused_before_anything_else() {
        let revoked = StoredRefresh {
            revoked_at: Some(t0()),
            ..fresh()
        };
        assert_eq!(
            check(&revoked, "thief", t0()),
            Err(RefreshRefusal::OtherClient)
        );
    }

    #[test]
    fn expiry_is_exclusive_of_its_instant() {
        let at = fresh().expires_at;
        assert_eq!(
            check(&fresh(), "app", at - Duration::seconds(1)),
            Ok(RefreshUse::First)
        );
        assert_eq!(
            check(&fresh(), "app", at),
            Err(RefreshRefusal::RevokedOrExpired)
        );
    }

    #[test]
    fn a_revoked_family_refuses_even_unused_tokens() {
        let token = StoredRefresh {
            revoked_at: Some(t0()),
            ..fresh()
        };
        let refusal = check(&token, "app", t0() + Duration::seconds(1)).expect_err("revoked");
        assert_eq!(refusal, RefreshRefusal::RevokedOrExpired);
        assert!(!refusal.revokes_family());
    }

    #[test]
    fn reuse_within_the_grace_window_is_a_repeat() {
        let token = StoredRefresh {
            used_at: Some(t0()),
            ..fresh()
        };
        assert_eq!(
            check(&token, "app", t0() + REFRESH_REUSE_GRACE),
            Ok(RefreshUse::Repeat)
        );
    }

    #[test]
    fn reuse_after_the_grace_window_revokes_the_family() {
        let token = StoredRefresh {
            used_at: Some(t0()),
            ..fresh()
        };
        let refusal = check(
            &token,
            "app",
            t0() + REFRESH_REUSE_GRACE + Duration::seconds(1),
        )
        .expect_err("reuse");
        assert_eq!(refusal, RefreshRefusal::Reused);
        assert!(refusal.revokes_family());
    }

    #[test]
    fn no_scope_asked_keeps_the_grant() {
        assert_eq!(
            narrow_scopes(&scopes("openid profile"), None),
            Ok(scopes("openid profile"))
        );
    }

    #[test]
    fn scopes_may_only_narrow() {
        let granted = scopes("openid profile offline_access");
        assert_eq!(
            narrow_scopes(&granted, Some("openid")),
            Ok(scopes("openid"))
        );
        assert_eq!(
            narrow_scopes(&granted, Some("openid email")),
            Err("email".to_owned())
        );
    }

    proptest! {
        #[test]
        fn narrowed_scopes_are_always_a_subset(
            granted in proptest::collection::vec("[a-z]{1,6}", 0..6),
            requested in proptest::collection::vec("[a-z]{1,6}", 0..6),
        ) {
            let joined = requested.join(" ");
            match narrow_scopes(&granted, Some(&joined)) {
                Ok(kept) => prop_assert!(kept.iter().all(|s| granted.contains(s))),
                Err(extra) => prop_assert!(!granted.contains(&extra) && requested.contains(&extra)),
            }
        }

        #[test]
        fn a_token_is_never_accepted_after_expiry(after in 0i64..1_000_000) {
            let now = fresh().expires_at + Duration::seconds(after);
            prop_assert_eq!(check(&fresh(), "app", now), Err(RefreshRefusal::RevokedOrExpired));
        }
    }
}
