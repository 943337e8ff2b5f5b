//! The checks of an authorization code at its exchange (RFC 6749 §4.1.3):
//! short-lived, bound to the client it was issued to and to the redirect
//! URI of its authorization request. PKCE is checked after these
//! ([`super::pkce`]).

use chrono::{DateTime, Duration, Utc};

/// How long a code may wait for its exchange.
pub const CODE_TTL: Duration = Duration::seconds(60);

/// What an issued code was bound to.
#[derive(Debug, Clone, Copy)]
pub struct IssuedCode<'a> {
    /// The client it was issued to.
    pub client_id: &'a str,
    /// The redirect URI of its authorization request.
    pub redirect_uri: &'a str,
    /// When it was issued (codes issued before this was recorded: unknown).
    pub issued_at: Option<DateTime<Utc>>,
}

/// Why a code cannot be exchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    /// Older than [`CODE_TTL`].
    Expired,
    /// Another client presents it.
    OtherClient,
    /// The token request names another redirect URI (or none).
    RedirectMismatch,
}

/// Checks a code presented by `client_id` with `redirect_uri` at `now`.
pub fn check(
    code: &IssuedCode<'_>,
    client_id: &str,
    redirect_uri: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), CodeRefusal> {
    if code.issued_at.is_some_and(|at| now - at > CODE_TTL) {
        return Err(CodeRefusal::Expired);
    }
    if code.client_id != client_id {
        return Err(CodeRefusal::OtherClient);
    }
    if redirect_uri != Some(code.redirect_uri) {
        return Err(CodeRefusal::RedirectMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued(at: DateTime<Utc>) -> IssuedCode<'static> {
        IssuedCode {
            client_id: "app",
            redirect_uri: "https://app.example/cb",
            issued_at: Some(at),
        }
    }

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("time")
    }

    #[test]
    fn a_fresh_code_of_the_client_at_its_uri_is_accepted() {
        let now = t0() + Duration::seconds(5);
        assert_eq!(
            check(&issued(t0()), "app", Some("https://app.example/cb"), now),
            Ok(())
        );
    }

    #[test]
    fn a_code_expires_after_sixty_seconds() {
        let uri = Some("https://app.example/cb");
        assert_eq!(check(&issued(t0()), "app", uri, t0() + CODE_TTL), Ok(()));
        assert_eq!(
            check(
                &issued(t0()),
                "app",
                uri,
                t0() + CODE_TTL + Duration::seconds(1)
            ),
            Err(CodeRefusal::Expired)
        );
    }

    #[test]
    fn another_client_cannot_use_it() {
        assert_eq!(
            check(&issued(t0()), "other", Some("https://app.example/cb"), t0()),
            Err(CodeRefusal::OtherClient)
        );
    }

    #[test]
    fn the_redirect_uri_must_match_exactly_and_be_present() {
        for uri in [
            None,
            Some("https://app.example/cb/"),
            Some("https://app.example/CB"),
        ] {
            assert_eq!(
                check(&issued(t0()), "app", uri, t0()),
                Err(CodeRefusal::RedirectMismatch),
                "{uri:?}"
            );
        }
    }

    #[test]
    fn a_code_without_issue_time_relies_on_its_store_expiry() {
        let code = IssuedCode {
            issued_at: None,
            ..issued(t0())
        };
        let later = t0() + Duration::hours(1);
        assert_eq!(
            check(&code, "app", Some("https://app.example/cb"), later),
            Ok(())
        );
    }
}
