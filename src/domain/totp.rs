//! The second factor of civil-servant accounts: RFC 6238 time-based one-time
//! passwords (HMAC-SHA-1, 6 digits, 30-second steps) computed with the
//! `totp-rs` crate, their `otpauth://` provisioning URIs, and one-time
//! recovery codes.
//!
//! Time is a parameter (Unix seconds); nothing here reads the clock. Replay
//! protection is the caller's to store: [`verify`] returns the matched step,
//! and the caller passes the last accepted step back in next time.

use std::collections::HashSet;
use std::fmt;

use rand::{CryptoRng, Rng};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use super::Invalid;

/// Length of a step, in seconds.
pub const STEP_SECONDS: u64 = 30;
/// Digits in a code.
pub const DIGITS: usize = 6;
/// Length of a secret, in bytes (160 bits, as RFC 4226 §4 recommends).
pub const SECRET_LEN: usize = 20;
/// Steps of clock skew accepted either side of the current one.
pub const SKEW_STEPS: u64 = 1;

/// Symbols of recovery codes: lower-case letters and digits without the
/// easily confused `0`, `o`, `1`, `l` and `i`.
pub const RECOVERY_CODE_ALPHABET: &str = "23456789abcdefghjkmnpqrstuvwxyz";
/// Symbols in a recovery code (three groups of four).
const RECOVERY_CODE_SYMBOLS: usize = 12;
/// Symbols between hyphens in a recovery code.
const RECOVERY_CODE_GROUP: usize = 4;

/// The shared secret of an authenticator app: 20 raw bytes.
///
/// Secret: `Debug` hides it and there is no `Display`.
#[derive(Clone)]
pub struct TotpSecret([u8; SECRET_LEN]);

impl TotpSecret {
    /// A secret with the given bytes.
    pub fn from_bytes(bytes: [u8; SECRET_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw bytes (for encrypted storage).
    pub fn as_bytes(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }

    /// A new random secret from the thread-local cryptographic RNG.
    pub fn generate() -> Self {
        Self::generate_with(&mut rand::rng())
    }

    /// A new random secret from `rng`.
    pub fn generate_with<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0_u8; SECRET_LEN];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The RFC 4648 base32 form shown to people and put in the provisioning
    /// URI: upper case, no padding (32 characters).
    pub fn to_base32(&self) -> String {
        Secret::from(self.0).to_base32()
    }

    /// Parses the base32 form, ignoring case, spaces, hyphens and trailing
    /// `=` padding. Fails with `totp_secret_format` unless it decodes to
    /// exactly 20 bytes.
    pub fn from_base32(raw: &str) -> Result<Self, Invalid> {
        let compact: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>()
            .trim_end_matches('=')
            .to_ascii_uppercase();
        let bytes = Secret::try_from_base32(&compact)
            .ok()
            .and_then(|s| <[u8; SECRET_LEN]>::try_from(s.as_bytes()).ok())
            .filter(|_| compact.len() == 32)
            .ok_or_else(|| {
                Invalid::new(
                    "totp_secret_format",
                    "Khóa bí mật của ứng dụng xác thực không hợp lệ.",
                )
            })?;
        Ok(Self(bytes))
    }
}

/// Hides the secret, so it does not end up in logs by accident.
impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

/// The `totp-rs` generator for `secret` with this module's parameters and no
/// skew (the skew window is handled in [`verify`], step by step).
fn totp(secret: &TotpSecret) -> Totp {
    // The parameters are RFC-compliant (SHA-1, 6 digits, 160-bit secret,
    // non-zero step), so the unchecked build cannot produce a broken generator.
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(STEP_SECONDS)
        .with_skew(0)
        .with_secret(secret.0)
        .build_noncompliant()
}

/// Percent-encodes everything but RFC 3986 unreserved characters, byte by
/// byte in UTF-8.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The `otpauth://totp/…` URI (Google Authenticator Key URI Format) that an
/// authenticator app scans from a QR code.
///
/// The label is `issuer:account_name`; both parts and the `issuer` parameter
/// are percent-encoded as UTF-8 (so "TP.HCM Dịch vụ công" becomes
/// `TP.HCM%20D%E1%BB%8Bch%20v%E1%BB%A5%20c%C3%B4ng`). The format forbids a
/// colon inside either part, so a colon there is replaced by a space. An
/// empty issuer is left out.
pub fn provisioning_uri(secret: &TotpSecret, issuer: &str, account_name: &str) -> String {
    let issuer = percent_encode(issuer.replace(':', " ").trim());
    let account = percent_encode(account_name.replace(':', " ").trim());
    let secret = secret.to_base32();
    let params = format!("secret={secret}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}");
    if issuer.is_empty() {
        format!("otpauth://totp/{account}?{params}")
    } else {
        format!("otpauth://totp/{issuer}:{account}?{params}&issuer={issuer}")
    }
}

/// The step number (`T` of RFC 6238) of the instant `at_unix_seconds`.
pub fn step_at(at_unix_seconds: u64) -> u64 {
    at_unix_seconds / STEP_SECONDS
}

/// The 6-digit code of `secret` at `at_unix_seconds` (what the authenticator
/// app shows then); for tests and development tools.
pub fn code_at(secret: &TotpSecret, at_unix_seconds: u64) -> String {
    totp(secret).generate(at_unix_seconds).to_string()
}

/// Checks a code typed at `at_unix_seconds`.
///
/// Spaces in `code` are ignored; anything but 6 digits fails. The code may be
/// that of the current step or, for clock skew, of the step before or after.
/// A code of a step at or before `last_used_step` (the step returned by the
/// last successful call for this secret) is refused, so a code works once.
///
/// Returns the matched step, which the caller stores as the new
/// `last_used_step`; `None` if the code is refused.
pub fn verify(
    secret: &TotpSecret,
    code: &str,
    at_unix_seconds: u64,
    last_used_step: Option<u64>,
) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret);
    let current = step_at(at_unix_seconds);
    // The current step first, then the skew window.
    let candidates = [
        Some(current),
        current.checked_sub(SKEW_STEPS),
        current.checked_add(SKEW_STEPS),
    ];
    candidates
        .into_iter()
        .flatten()
        .filter(|step| last_used_step.is_none_or(|last| *step > last))
        .find(|step| {
            step.checked_mul(STEP_SECONDS)
                .is_some_and(|time| totp.check(&code, time) == Some(*step))
        })
}

/// `n` new, distinct recovery codes of the form `xxxx-xxxx-xxxx` from
/// [`RECOVERY_CODE_ALPHABET`] (about 59 bits each), using the thread-local
/// cryptographic RNG.
pub fn generate_recovery_codes(n: usize) -> Vec<String> {
    generate_recovery_codes_with(&mut rand::rng(), n)
}

/// Like [`generate_recovery_codes`], drawing from `rng`.
pub fn generate_recovery_codes_with<R: CryptoRng + ?Sized>(rng: &mut R, n: usize) -> Vec<String> {
    let alphabet = RECOVERY_CODE_ALPHABET.as_bytes();
    let mut seen = HashSet::with_capacity(n);
    let mut codes = Vec::with_capacity(n);
    while codes.len() < n {
        let symbols: String = (0..RECOVERY_CODE_SYMBOLS)
            .map(|_| {
                let index = rng.random_range(0..alphabet.len());
                alphabet.get(index).map_or('2', |b| char::from(*b))
            })
            .collect();
        let code = group(&symbols);
        if seen.insert(code.clone()) {
            codes.push(code);
        }
    }
    codes
}

/// Inserts a hyphen after every [`RECOVERY_CODE_GROUP`] symbols.
fn group(symbols: &str) -> String {
    let mut out = String::with_capacity(symbols.len() + 2);
    for (i, c) in symbols.chars().enumerate() {
        if i > 0 && i % RECOVERY_CODE_GROUP == 0 {
            out.push('-');
        }
        out.push(c);
    }
    out
}

/// The canonical form (`xxxx-xxxx-xxxx`) of a recovery code as typed: lower
/// case, spaces and hyphens ignored. `None` unless it is 12 symbols of
/// [`RECOVERY_CODE_ALPHABET`].
pub fn normalize_recovery_code(input: &str) -> Option<String> {
    let symbols: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    let valid = symbols.chars().count() == RECOVERY_CODE_SYMBOLS
        && symbols.chars().all(|c| RECOVERY_CODE_ALPHABET.contains(c));
    valid.then(|| group(&symbols))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// The RFC 6238 appendix B SHA-1 secret: ASCII "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(*b"12345678901234567890")
    }

    /// RFC 6238 appendix B, SHA-1 rows: time and 8-digit code.
    const RFC_VECTORS: [(u64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    #[test]
    fn totp_rs_reproduces_the_rfc_8_digit_vectors() {
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(8)
            .with_secret(*b"12345678901234567890")
            .build()
            .expect("valid parameters");
        for (time, code) in RFC_VECTORS {
            assert_eq!(totp.generate(time).to_string(), code, "T={time}");
        }
    }

    #[test]
    fn six_digit_codes_are_the_last_six_rfc_digits() {
        let secret = rfc_secret();
        assert_eq!(code_at(&secret, 59), "287082");
        for (time, code8) in RFC_VECTORS {
            let code6 = &code8[2..];
            assert_eq!(code_at(&secret, time), code6, "T={time}");
            assert_eq!(
                verify(&secret, code6, time, None),
                Some(time / 30),
                "T={time}"
            );
        }
    }

    #[test]
    fn verify_refuses_wrong_and_malformed_codes() {
        let secret = rfc_secret();
        for code in [
            "287083",
            "28708",
            "2870820",
            "94287082",
            "",
            "abcdef",
            "28708a",
            "+87082",
            "２８７０８２",
        ] {
            assert_eq!(verify(&secret, code, 59, None), None, "{code:?}");
        }
        assert_eq!(verify(&secret, " 287 082 ", 59, None), Some(1));
    }

    #[test]
    fn verify_accepts_one_step_of_skew_either_way_and_no_more() {
        let secret = rfc_secret();
        let step = 1_000_000_u64;
        let code = code_at(&secret, step * 30);
        // Every second of the current step, and of the steps either side.
        assert_eq!(verify(&secret, &code, step * 30, None), Some(step));
        assert_eq!(verify(&secret, &code, step * 30 + 29, None), Some(step));
        assert_eq!(verify(&secret, &code, (step - 1) * 30, None), Some(step));
        assert_eq!(
            verify(&secret, &code, (step + 1) * 30 + 29, None),
            Some(step)
        );
        // Two steps away is too far.
        assert_eq!(verify(&secret, &code, (step - 1) * 30 - 1, None), None);
        assert_eq!(verify(&secret, &code, (step + 2) * 30, None), None);
    }

    #[test]
    fn verify_handles_the_first_and_last_steps_without_overflow() {
        let secret = rfc_secret();
        let code = code_at(&secret, 0);
        assert_eq!(verify(&secret, &code, 0, None), Some(0));
        assert_eq!(verify(&secret, &code, 59, None), Some(0));
        let _ = verify(&secret, "123456", u64::MAX, None);
    }

    #[test]
    fn verify_refuses_replay_of_a_used_or_older_step() {
        let secret = rfc_secret();
        let time = 1_111_111_109;
        let step = time / 30;
        let first = verify(&secret, "081804", time, None);
        assert_eq!(first, Some(step));
        // Same code again, even a second later in the same step.
        assert_eq!(verify(&secret, "081804", time + 1, first), None);
        // After a newer step was used, the older code is refused too.
        assert_eq!(verify(&secret, "081804", time, Some(step + 1)), None);
        // A previous, unused step is still fine.
        assert_eq!(verify(&secret, "081804", time, Some(step - 1)), Some(step));
    }

    #[test]
    fn replay_check_applies_inside_the_skew_window() {
        let secret = rfc_secret();
        let step = 2_000_000_u64;
        let previous = code_at(&secret, (step - 1) * 30);
        let next = code_at(&secret, (step + 1) * 30);
        let now = step * 30 + 10;
        // The previous step's code is refused once its step was used...
        assert_eq!(verify(&secret, &previous, now, Some(step - 1)), None);
        // ...and accepted otherwise.
        assert_eq!(
            verify(&secret, &previous, now, Some(step - 2)),
            Some(step - 1)
        );
        // A code from a fast clock moves last_used_step ahead, so the current
        // step's code cannot be used afterwards.
        let used = verify(&secret, &next, now, Some(step - 1));
        assert_eq!(used, Some(step + 1));
        let current = code_at(&secret, now);
        assert_eq!(verify(&secret, &current, now, used), None);
    }

    #[test]
    fn secrets_round_trip_through_base32() {
        let secret = rfc_secret();
        assert_eq!(secret.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        for raw in [
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
            "GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ",
        ] {
            let parsed = TotpSecret::from_base32(raw).expect(raw);
            assert_eq!(parsed.as_bytes(), b"12345678901234567890");
        }
    }

    #[test]
    fn from_base32_rejects_bad_input() {
        for raw in [
            "",
            "GEZDGNBVGY3TQOJQ",                   // 10 bytes
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGE", // too long
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1",   // '1' is not base32
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJÉ",
        ] {
            let err = TotpSecret::from_base32(raw).expect_err(raw);
            assert_eq!(err.code, "totp_secret_format", "{raw}");
        }
    }

    #[test]
    fn generated_secrets_are_random_and_reproducible_with_a_seed() {
        let a = TotpSecret::generate();
        let b = TotpSecret::generate();
        assert_ne!(a.as_bytes(), b.as_bytes());
        let c = TotpSecret::generate_with(&mut StdRng::seed_from_u64(7));
        let d = TotpSecret::generate_with(&mut StdRng::seed_from_u64(7));
        assert_eq!(c.as_bytes(), d.as_bytes());
        assert_eq!(c.to_base32().len(), 32);
    }

    #[test]
    fn debug_hides_the_secret() {
        let secret = rfc_secret();
        let shown = format!("{secret:?}");
        assert_eq!(shown, "TotpSecret(***)");
        assert!(!shown.contains("GEZD"));
    }

    #[test]
    fn provisioning_uri_encodes_the_vietnamese_issuer() {
        let uri = provisioning_uri(&rfc_secret(), "TP.HCM Dịch vụ công", "an.nguyen@example.vn");
        assert_eq!(
            uri,
            "otpauth://totp/TP.HCM%20D%E1%BB%8Bch%20v%E1%BB%A5%20c%C3%B4ng:an.nguyen%40example.vn\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30\
             &issuer=TP.HCM%20D%E1%BB%8Bch%20v%E1%BB%A5%20c%C3%B4ng"
        );
    }

    #[test]
    fn provisioning_uri_round_trips_through_totp_rs() {
        let secret = TotpSecret::generate_with(&mut StdRng::seed_from_u64(1));
        let uri = provisioning_uri(&secret, "TP.HCM Dịch vụ công", "cán.bộ+1@example.vn");
        let parsed = Totp::from_url(&uri).expect("totp-rs parses it");
        assert_eq!(parsed.issuer(), Some("TP.HCM Dịch vụ công"));
        assert_eq!(parsed.account_name(), "cán.bộ+1@example.vn");
        assert_eq!(parsed.secret().as_bytes(), secret.as_bytes());
        assert_eq!(parsed.digits(), 6);
        assert_eq!(parsed.step(), 30);
        assert_eq!(parsed.algorithm(), Algorithm::SHA1);
        assert_eq!(
            parsed.generate(1_234_567_890).to_string(),
            code_at(&secret, 1_234_567_890)
        );
    }

    #[test]
    fn provisioning_uri_replaces_colons_and_omits_an_empty_issuer() {
        let secret = rfc_secret();
        let uri = provisioning_uri(&secret, "A:B", "user:1");
        assert!(uri.starts_with("otpauth://totp/A%20B:user%201?"), "{uri}");
        let uri = provisioning_uri(&secret, "", "user");
        assert!(uri.starts_with("otpauth://totp/user?secret="), "{uri}");
        assert!(!uri.contains("issuer="), "{uri}");
    }

    #[test]
    fn recovery_codes_have_the_right_shape_and_alphabet() {
        let codes = generate_recovery_codes(10);
        assert_eq!(codes.len(), 10);
        let distinct: HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 14, "{code}");
            let groups: Vec<&str> = code.split('-').collect();
            assert_eq!(groups.len(), 3, "{code}");
            for g in groups {
                assert_eq!(g.len(), 4, "{code}");
                assert!(
                    g.chars().all(|c| RECOVERY_CODE_ALPHABET.contains(c)),
                    "{code}"
                );
            }
            assert_eq!(
                normalize_recovery_code(code).as_deref(),
                Some(code.as_str())
            );
        }
        assert!(generate_recovery_codes(0).is_empty());
    }

    #[test]
    fn recovery_alphabet_has_no_ambiguous_symbols() {
        for c in ['0', 'o', '1', 'l', 'i'] {
            assert!(!RECOVERY_CODE_ALPHABET.contains(c), "{c}");
        }
        assert_eq!(RECOVERY_CODE_ALPHABET.len(), 31);
        let unique: HashSet<char> = RECOVERY_CODE_ALPHABET.chars().collect();
        assert_eq!(unique.len(), 31);
    }

    #[test]
    fn seeded_recovery_codes_are_reproducible() {
        let a = generate_recovery_codes_with(&mut StdRng::seed_from_u64(42), 5);
        let b = generate_recovery_codes_with(&mut StdRng::seed_from_u64(42), 5);
        assert_eq!(a, b);
        // Over many codes every symbol shows up, and only those symbols.
        let many = generate_recovery_codes_with(&mut StdRng::seed_from_u64(3), 200);
        let used: HashSet<char> = many
            .iter()
            .flat_map(|c| c.chars())
            .filter(|c| *c != '-')
            .collect();
        assert_eq!(used, RECOVERY_CODE_ALPHABET.chars().collect());
    }

    #[test]
    fn normalizes_recovery_codes_as_typed() {
        for raw in [
            "abcd-efgh-jkmn",
            "ABCD EFGH JKMN",
            " abcdefghjkmn ",
            "ab-cd-ef-gh-jk-mn",
        ] {
            assert_eq!(
                normalize_recovery_code(raw).as_deref(),
                Some("abcd-efgh-jkmn"),
                "{raw}"
            );
        }
        for raw in [
            "",
            "abcd-efgh-jkm",
            "abcd-efgh-jkmnp",
            "abcd-efgh-jkm0",
            "abcd-efgh-jkmo",
            "abcd-efgh-jkm1",
            "abcd-efgh-jkml",
            "abcd-efgh-jkmi",
            "abcd_efgh_jkmn",
            "abcd-efgh-jkmñ",
        ] {
            assert_eq!(normalize_recovery_code(raw), None, "{raw}");
        }
    }
}
