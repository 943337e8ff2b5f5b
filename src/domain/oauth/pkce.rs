//! PKCE (RFC 7636) with the S256 method only: the client proves at the
//! token endpoint that it made the authorization request.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Whether `verifier` is a code verifier RFC 7636 §4.1 allows: 43 to 128
/// characters of `[A-Za-z0-9-._~]`.
pub fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `challenge` may be an S256 code challenge: 43 to 128 base64url
/// characters (as the authorization endpoint has always accepted).
pub fn valid_challenge(challenge: &str) -> bool {
    (43..=128).contains(&challenge.len())
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// The S256 challenge of `verifier`: BASE64URL(SHA-256(verifier)).
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `verifier` is well formed and answers `challenge` (compared in constant time).
pub fn verify(challenge_sent: &str, verifier: &str) -> bool {
    valid_verifier(verifier)
        && challenge(verifier)
            .as_bytes()
            .ct_eq(challenge_sent.as_bytes())
            .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    #[test]
    fn the_rfc_7636_example_verifies() {
        // RFC 7636 Appendix B.
        assert_eq!(
            challenge(VERIFIER),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(verify(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            VERIFIER
        ));
    }

    #[test]
    fn the_challenge_itself_is_not_a_verifier() {
        // The plain method: sending the challenge back must not work.
        let c = challenge(VERIFIER);
        assert!(!verify(&c, &c));
    }

    #[test]
    fn verifier_length_bounds() {
        assert!(!valid_verifier(&"a".repeat(42)));
        assert!(valid_verifier(&"a".repeat(43)));
        assert!(valid_verifier(&"a".repeat(128)));
        assert!(!valid_verifier(&"a".repeat(129)));
    }

    #[test]
    fn verifier_charset() {
        let base = "a".repeat(42);
        for ok in ['-', '.', '_', '~', 'Z', '9'] {
            assert!(valid_verifier(&format!("{base}{ok}")), "{ok}");
        }
        for bad in ['+', '/', '=', ' ', 'é', '%'] {
            assert!(!valid_verifier(&format!("{base}{bad}")), "{bad}");
        }
    }

    #[test]
    fn a_malformed_verifier_never_verifies_even_when_it_hashes_right() {
        let short = "short";
        assert!(!verify(&challenge(short), short));
    }

    #[test]
    fn challenge_charset_and_length() {
        assert!(valid_challenge(&challenge(VERIFIER)));
        assert!(!valid_challenge(&"a".repeat(42)));
        assert!(!valid_challenge(&format!("{}=", "a".repeat(43))));
        assert!(!valid_challenge(&format!("{}.", "a".repeat(43))));
    }

    fn verifier() -> impl Strategy<Value = String> {
        "[A-Za-z0-9._~-]{43,128}"
    }

    proptest! {
        #[test]
        fn every_valid_verifier_answers_its_challenge(v in verifier()) {
            prop_assert!(valid_verifier(&v));
            prop_assert!(valid_challenge(&challenge(&v)));
            prop_assert!(verify(&challenge(&v), &v));
        }

        #[test]
        fn no_other_verifier_answers_it(v in verifier(), w in verifier()) {
            prop_assume!(v != w);
            prop_assert!(!verify(&challenge(&v), &w));
        }
    }
}
