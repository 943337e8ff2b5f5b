//! Random tokens (email links, sessions, CSRF) and their stored hashes.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A new random token: 32 bytes, base64url without padding (43 characters).
pub fn generate() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The SHA-256 of a token, as stored (tokens are high-entropy: a fast hash suffices).
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The SHA-256 of a token in hex, for Redis keys.
pub fn hash_hex(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Bytes (a stored hash) in lower-case hex, for keys and display.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `token` looks like one of ours (cheap rejection before any look-up).
pub fn well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Constant-time equality.
pub fn equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_well_formed_and_hash_stably() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert!(well_formed(&a));
        assert!(!well_formed("short"));
        assert!(!well_formed(&format!("{}!", &a[..42])));
        assert_eq!(hash(&a), hash(&a));
        assert_eq!(hash(&a).len(), 32);
        assert_eq!(hash_hex(&a).len(), 64);
        assert!(equal(&a, &a.clone()));
        assert!(!equal(&a, &b));
    }
}
