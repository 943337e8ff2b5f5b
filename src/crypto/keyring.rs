//! Encryption at rest: AES-256-GCM under a master key identified by a key id,
//! so the master key can be rotated (values sealed under an older key stay
//! readable while that key is configured as retired).
//!
//! A sealed value is the text `v1.<key id>.<nonce>.<ciphertext+tag>` (base64url),
//! bound to its purpose and owner through the associated data, so a
//! ciphertext copied to another row or column does not open.

use aes_gcm::{
    Aes256Gcm, Key, Nonce,
    aead::{Aead, KeyInit, Payload},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Why a master key or a sealed value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// `VAULT_MASTER_KEY` is not 32 bytes of base64.
    #[error(
        "must be 32 random bytes in base64 (generate one with: head -c 32 /dev/urandom | base64)"
    )]
    BadKey,
    /// The value is not of the sealed form.
    #[error("not a sealed value")]
    Malformed,
    /// Sealed under a key that is not configured.
    #[error("sealed under unknown key {0}")]
    UnknownKey(String),
    /// Tampered with, or opened with the wrong purpose or owner.
    #[error("authentication failed")]
    Tampered,
}

/// A master key with its id (the first 8 hex digits of its SHA-256).
#[derive(Clone)]
pub struct MasterKey {
    id: String,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl MasterKey {
    /// Parses 32 bytes of standard or URL-safe base64.
    pub fn parse(raw: &str) -> Result<Self, CryptoError> {
        let trimmed = raw.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(trimmed)
            .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed))
            .map_err(|_| CryptoError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        let digest = Sha256::digest(key);
        Ok(Self {
            id: digest[..4].iter().map(|b| format!("{b:02x}")).collect(),
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(key)),
        })
    }

    /// The key id stored beside every value sealed under it.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The active master key and the retired ones still used to open old values.
#[derive(Debug, Clone)]
pub struct Keyring {
    active: MasterKey,
    retired: Vec<MasterKey>,
}

impl Keyring {
    /// A keyring sealing with `active` and opening with it and `retired`.
    pub fn new(active: MasterKey, retired: Vec<MasterKey>) -> Self {
        Self { active, retired }
    }

    /// The id of the key new values are sealed under.
    pub fn active_id(&self) -> &str {
        self.active.id()
    }

    /// Seals `plaintext` for `context` (purpose and owner, e.g. `staff.totp:<id>`).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        let mut nonce = [0_u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .active
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .unwrap_or_default();
        format!(
            "v1.{}.{}.{}",
            self.active.id,
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(sealed)
        )
    }

    /// Opens a sealed value for `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, CryptoError> {
        let mut parts = sealed.split('.');
        let (Some("v1"), Some(kid), Some(nonce), Some(body), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(CryptoError::Malformed);
        };
        let key = std::iter::once(&self.active)
            .chain(&self.retired)
            .find(|k| k.id == kid)
            .ok_or_else(|| CryptoError::UnknownKey(kid.to_owned()))?;
        let nonce: [u8; 12] = URL_SAFE_NO_PAD
            .decode(nonce)
            .map_err(|_| CryptoError::Malformed)?
            .try_into()
            .map_err(|_| CryptoError::Malformed)?;
        let body = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| CryptoError::Malformed)?;
        key.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Tampered)
    }

    /// Whether a sealed value uses a retired key (and should be re-sealed).
    pub fn is_stale(&self, sealed: &str) -> bool {
        Self::key_id_of(sealed) != Some(self.active.id.as_str())
    }

    /// The id of the master key a value was sealed under.
    pub fn key_id_of(sealed: &str) -> Option<&str> {
        sealed.split('.').nth(1)
    }

    /// Whether `key_id` is one of this keyring's keys.
    pub fn knows(&self, key_id: &str) -> bool {
        std::iter::once(&self.active)
            .chain(&self.retired)
            .any(|k| k.id == key_id)
    }

    /// The value sealed again under the active key, when it was sealed under
    /// a retired one; `None` when it is current.
    pub fn reseal(&self, sealed: &str, context: &str) -> Result<Option<String>, CryptoError> {
        if !self.is_stale(sealed) {
            return Ok(None);
        }
        let plain = self.open(sealed, context)?;
        Ok(Some(self.seal(&plain, context)))
    }
}

/// The first bytes of a payload in the owner-bound format: the associated
/// data names the item's owner as well as the item, so a payload moved to
/// another owner's row does not open. Payloads without it are the first
/// format (the item alone), still read.
pub const OWNER_BOUND_PREFIX: &[u8; 4] = b"EO2.";

/// A per-item data key (envelope encryption): an item's payload is encrypted
/// under its own random key, and that key is sealed under the master key. A
/// rotation of the master key re-seals the small data keys, never the payloads.
pub struct DataKey(Aes256Gcm);

impl DataKey {
    /// A fresh random key and its sealed form (bound to `context`).
    pub fn generate(ring: &Keyring, context: &str) -> (Self, String) {
        let mut raw = [0_u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let sealed = ring.seal(&raw, context);
        let key = Self(Aes256Gcm::new(&Key::<Aes256Gcm>::from(raw)));
        raw.fill(0);
        (key, sealed)
    }

    /// Opens a sealed data key.
    pub fn open(ring: &Keyring, sealed: &str, context: &str) -> Result<Self, CryptoError> {
        let mut raw = ring.open(sealed, context)?;
        let key: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Malformed)?;
        raw.fill(0);
        Ok(Self(Aes256Gcm::new(&Key::<Aes256Gcm>::from(key))))
    }

    /// `nonce || ciphertext+tag` of `plaintext`, bound to `aad`.
    pub fn encrypt(&self, plaintext: &[u8], aad: &str) -> Vec<u8> {
        let mut nonce = [0_u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let body = self
            .0
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(12 + body.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        out
    }

    /// `encrypt` in the owner-bound format: the prefix, then `nonce ||
    /// ciphertext+tag` bound to `bound_aad` (which names the owner).
    pub fn encrypt_bound(&self, plaintext: &[u8], bound_aad: &str) -> Vec<u8> {
        let mut out = OWNER_BOUND_PREFIX.to_vec();
        out.extend_from_slice(&self.encrypt(plaintext, bound_aad));
        out
    }

    /// The plaintext of a payload of either format: an owner-bound one opens
    /// only with `bound_aad`, one of the first format with `legacy_aad`.
    /// (A first-format payload that happens to begin with the prefix is
    /// still read; no payload opens under associated data it was not made with.)
    pub fn decrypt_versioned(
        &self,
        sealed: &[u8],
        bound_aad: &str,
        legacy_aad: &str,
    ) -> Result<Vec<u8>, CryptoError> {
        match sealed.strip_prefix(OWNER_BOUND_PREFIX.as_slice()) {
            Some(rest) => self
                .decrypt(rest, bound_aad)
                .or_else(|bound_err| self.decrypt(sealed, legacy_aad).map_err(|_| bound_err)),
            None => self.decrypt(sealed, legacy_aad),
        }
    }

    /// The plaintext of `encrypt`'s output; `Tampered` if anything changed.
    pub fn decrypt(&self, sealed: &[u8], aad: &str) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < 12 + 16 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, body) = sealed.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| CryptoError::Malformed)?;
        self.0
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: body,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Tampered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey::parse(&base64::engine::general_purpose::STANDARD.encode([byte; 32]))
            .expect("key")
    }

    #[test]
    fn sealed_values_open_only_for_their_context_and_untampered() {
        let ring = Keyring::new(key(1), vec![]);
        let sealed = ring.seal(b"JBSWY3DPEHPK3PXP", "staff.totp:1");
        assert!(sealed.starts_with(&format!("v1.{}.", ring.active_id())));
        assert_eq!(
            ring.open(&sealed, "staff.totp:1").expect("opens"),
            b"JBSWY3DPEHPK3PXP"
        );
        assert_eq!(
            ring.open(&sealed, "staff.totp:2"),
            Err(CryptoError::Tampered)
        );
        let mut tampered = sealed.clone();
        let last = tampered.pop().expect("char");
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(ring.open(&tampered, "staff.totp:1").is_err());
        assert_eq!(ring.open("plain", "x"), Err(CryptoError::Malformed));
        assert_ne!(
            ring.seal(b"x", "c"),
            ring.seal(b"x", "c"),
            "fresh nonce every time"
        );
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let old = Keyring::new(key(1), vec![]);
        let sealed = old.seal(b"secret", "ctx");
        let rotated = Keyring::new(key(2), vec![key(1)]);
        assert_eq!(rotated.open(&sealed, "ctx").expect("opens"), b"secret");
        assert!(rotated.is_stale(&sealed));
        let without_old = Keyring::new(key(2), vec![]);
        assert!(matches!(
            without_old.open(&sealed, "ctx"),
            Err(CryptoError::UnknownKey(_))
        ));
    }

    #[test]
    fn data_keys_encrypt_under_the_master_key_and_survive_its_rotation() {
        let ring = Keyring::new(key(1), vec![]);
        let (dek, sealed_key) = DataKey::generate(&ring, "vault.record:1");
        let body = dek.encrypt(b"{\"permanent\":\"12 Le Loi\"}", "vault.record:1");
        assert!(!body.windows(6).any(|w| w == b"Le Loi"), "no plaintext");
        let rotated = Keyring::new(key(2), vec![key(1)]);
        let resealed = rotated
            .reseal(&sealed_key, "vault.record:1")
            .expect("opens")
            .expect("was stale");
        assert_eq!(rotated.reseal(&resealed, "vault.record:1"), Ok(None));
        let only_new = Keyring::new(key(2), vec![]);
        let reopened = DataKey::open(&only_new, &resealed, "vault.record:1").expect("opens");
        assert_eq!(
            reopened.decrypt(&body, "vault.record:1").expect("decrypts"),
            b"{\"permanent\":\"12 Le Loi\"}"
        );
        assert_eq!(
            reopened.decrypt(&body, "vault.record:2"),
            Err(CryptoError::Tampered)
        );
        let mut flipped = body.clone();
        flipped[20] ^= 1;
        assert_eq!(
            reopened.decrypt(&flipped, "vault.record:1"),
            Err(CryptoError::Tampered)
        );
        assert_eq!(
            reopened.decrypt(&body[..10], "vault.record:1"),
            Err(CryptoError::Malformed)
        );
    }

    #[test]
    fn owner_bound_payloads_open_only_for_their_owner_and_old_ones_still_open() {
        let ring = Keyring::new(key(1), vec![]);
        let (dek, _) = DataKey::generate(&ring, "vault.record:1");
        let mine = "vault.record:1;owner=account:a";
        let theirs = "vault.record:1;owner=account:b";
        let bound = dek.encrypt_bound(b"{}", mine);
        assert!(bound.starts_with(OWNER_BOUND_PREFIX));
        assert_eq!(
            dek.decrypt_versioned(&bound, mine, "vault.record:1"),
            Ok(b"{}".to_vec())
        );
        assert_eq!(
            dek.decrypt_versioned(&bound, theirs, "vault.record:1"),
            Err(CryptoError::Tampered),
            "moved to another owner, it does not open, not even as the first format"
        );
        // The first format (the item alone) still opens, whoever the owner.
        let legacy = dek.encrypt(b"{\"a\":1}", "vault.record:1");
        assert_eq!(
            dek.decrypt_versioned(&legacy, mine, "vault.record:1"),
            Ok(b"{\"a\":1}".to_vec())
        );
        assert_eq!(
            dek.decrypt_versioned(&legacy, mine, "vault.record:2"),
            Err(CryptoError::Tampered)
        );
        // A first-format payload whose random nonce begins like the prefix.
        let nonce: [u8; 12] = *b"EO2.abcdefgh";
        let body = dek
            .0
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: b"x",
                    aad: b"vault.record:1",
                },
            )
            .expect("encrypts");
        let lookalike = [&nonce[..], &body].concat();
        assert_eq!(
            dek.decrypt_versioned(&lookalike, mine, "vault.record:1"),
            Ok(b"x".to_vec())
        );
    }

    #[test]
    fn bad_keys_are_refused() {
        assert_eq!(
            MasterKey::parse("too short").map(|_| ()),
            Err(CryptoError::BadKey)
        );
        assert_eq!(
            MasterKey::parse(&base64::engine::general_purpose::STANDARD.encode([0_u8; 16]))
                .map(|_| ()),
            Err(CryptoError::BadKey)
        );
    }
}
