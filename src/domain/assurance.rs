//! Assurance as it is: how a session signed in (its methods), what that
//! proves (`amr`, RFC 8176), and the level we assert (`acr`).
//!
//! The level of an account says who the person was proven to be (level 2:
//! VNeID level 2 or a counter check). A session asserts level 2 only when
//! the account is proven at level 2 **and** this session signed in strongly:
//! with VNeID, a passkey (user-verified), or a password plus a second factor.
//! A password alone is level 1, whatever the account.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// `acr` of an account verified by email only.
pub const ACR_LEVEL_1: &str = "urn:vn:hcm:eservices:loa:1";
/// `acr` of an identity-verified account (VNeID level 2 or counter check).
pub const ACR_LEVEL_2: &str = "urn:vn:hcm:eservices:loa:2";

/// An `acr_values` request for a strong sign-in (VNeID, a passkey, or a
/// password with a second factor), whatever the account's level: a client
/// asks it before a sensitive action. The asserted `acr` stays the level.
pub const ACR_MFA: &str = "urn:vn:hcm:eservices:mfa";

/// One way a session proved who is there (stored in the session, in order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// A password.
    Pwd,
    /// A one-time code (by email for citizens, TOTP for civil servants).
    Otp,
    /// A passkey bound to one device (no backup-eligible flag).
    Hwk,
    /// A synced passkey (backup eligible: copies live in a cloud keychain).
    Swk,
    /// The national identity provider (VNeID), a federated sign-in.
    Fed,
}

impl Method {
    /// The RFC 8176 `amr` value.
    pub fn amr(self) -> &'static str {
        match self {
            Self::Pwd => "pwd",
            Self::Otp => "otp",
            Self::Hwk => "hwk",
            Self::Swk => "swk",
            Self::Fed => "fed",
        }
    }

    /// Whether this is a passkey (a user-verified key: two factors in one).
    pub fn is_passkey(self) -> bool {
        matches!(self, Self::Hwk | Self::Swk)
    }

    /// The method a passkey assertion counts as.
    pub fn passkey(backup_eligible: bool) -> Self {
        if backup_eligible {
            Self::Swk
        } else {
            Self::Hwk
        }
    }
}

/// How recent a strong sign-in must be for a sensitive action.
pub const RECENT_STRONG: Duration = Duration::minutes(10);

/// Whether `methods` make a strong sign-in: VNeID, a passkey, or a password
/// with a second factor.
pub fn is_strong(methods: &[Method]) -> bool {
    methods.iter().any(|m| *m == Method::Fed || m.is_passkey())
        || (methods.contains(&Method::Pwd) && methods.contains(&Method::Otp))
}

/// The level a session asserts: the account's proven level, capped at 1
/// unless the session signed in strongly.
pub fn session_level(proven: u8, methods: &[Method]) -> u8 {
    if proven >= 2 && is_strong(methods) {
        2
    } else {
        1
    }
}

/// The `amr` claim: the methods used, plus `mfa` when two factors were
/// used or a user-verified passkey (possession and a PIN or biometric).
pub fn amr(methods: &[Method]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(methods.len() + 1);
    for m in methods {
        let value = m.amr().to_owned();
        if !out.contains(&value) {
            out.push(value);
        }
    }
    let factors = out.iter().filter(|v| v.as_str() != "fed").count();
    if methods.iter().any(|m| m.is_passkey()) || factors >= 2 {
        out.push("mfa".to_owned());
    }
    out
}

/// Adds `added` to a session's methods (a second step or a step-up).
pub fn with_method(methods: &[Method], added: Method) -> Vec<Method> {
    let mut out = methods.to_vec();
    if !out.contains(&added) {
        out.push(added);
    }
    out
}

/// Whether a sign-in made at `authenticated_at` with `methods` may take a
/// sensitive action at `now`: strong, and at most [`RECENT_STRONG`] ago.
pub fn recent_strong(
    methods: &[Method],
    authenticated_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    is_strong(methods)
        && now - authenticated_at <= RECENT_STRONG
        && authenticated_at <= now + Duration::minutes(1)
}

/// How a session signed in, in words for its owner.
pub fn describe(methods: &[Method]) -> &'static str {
    if methods.contains(&Method::Fed) {
        "VNeID"
    } else if methods.iter().any(|m| m.is_passkey()) {
        if methods.contains(&Method::Pwd) {
            "Mật khẩu + passkey"
        } else {
            "Passkey"
        }
    } else if methods.contains(&Method::Otp) {
        "Mật khẩu + mã xác thực"
    } else {
        "Mật khẩu"
    }
}

/// Parses stored `amr` values back into methods (unknown values are skipped).
pub fn methods_from_amr(amr: &[String]) -> Vec<Method> {
    amr.iter()
        .filter_map(|v| match v.as_str() {
            "pwd" => Some(Method::Pwd),
            "otp" => Some(Method::Otp),
            "hwk" => Some(Method::Hwk),
            "swk" => Some(Method::Swk),
            "fed" => Some(Method::Fed),
            _ => None,
        })
        .collect()
}

/// What an `acr_values` request needs of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcrNeed {
    /// Any sign-in does (no value asked, `loa:1` among them, or none we know).
    Nothing,
    /// A strong sign-in (a second step when the session lacks one).
    Strong,
    /// Only level 2 was asked and the account is not proven: no sign-in can reach it.
    Unreachable,
}

/// The `acr_values` of a request are alternatives in order of preference
/// (OpenID Connect Core §3.1.2.1): the request is met when any of them can
/// be. Level 1 is met by any sign-in; level 2 by a strong sign-in of a
/// proven (`level` 2) account; `mfa` by a strong sign-in. Values we do not
/// know are ignored, as voluntary claims are.
pub fn acr_need(wanted: &[&str], level: u8) -> AcrNeed {
    let known: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|v| [ACR_LEVEL_1, ACR_LEVEL_2, ACR_MFA].contains(v))
        .collect();
    if known.is_empty() || known.contains(&ACR_LEVEL_1) {
        AcrNeed::Nothing
    } else if known.contains(&ACR_MFA) || level >= 2 {
        AcrNeed::Strong
    } else {
        AcrNeed::Unreachable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_values_are_alternatives_and_unknown_ones_are_ignored() {
        let all = [ACR_LEVEL_1, ACR_LEVEL_2, ACR_MFA];
        assert_eq!(acr_need(&all, 1), AcrNeed::Nothing, "loa:1 is listed");
        assert_eq!(acr_need(&[], 1), AcrNeed::Nothing);
        assert_eq!(acr_need(&["urn:other"], 1), AcrNeed::Nothing);
        assert_eq!(acr_need(&[ACR_LEVEL_2], 1), AcrNeed::Unreachable);
        assert_eq!(acr_need(&[ACR_LEVEL_2], 2), AcrNeed::Strong);
        assert_eq!(acr_need(&[ACR_LEVEL_2, ACR_MFA], 1), AcrNeed::Strong);
        assert_eq!(acr_need(&[ACR_MFA], 1), AcrNeed::Strong);
    }
    use Method::*;

    #[test]
    fn a_password_alone_is_level_one_whatever_the_account() {
        assert_eq!(session_level(2, &[Pwd]), 1);
        assert_eq!(session_level(1, &[Pwd]), 1);
        assert_eq!(amr(&[Pwd]), ["pwd"]);
    }

    #[test]
    fn a_second_factor_vneid_or_a_passkey_makes_a_proven_account_level_two() {
        assert_eq!(session_level(2, &[Pwd, Otp]), 2);
        assert_eq!(session_level(2, &[Hwk]), 2);
        assert_eq!(session_level(2, &[Swk]), 2);
        assert_eq!(session_level(2, &[Pwd, Hwk]), 2);
        assert_eq!(session_level(2, &[Fed]), 2);
        // …but never raise an unproven account.
        assert_eq!(session_level(1, &[Pwd, Otp]), 1);
        assert_eq!(session_level(1, &[Hwk]), 1);
    }

    #[test]
    fn a_code_alone_is_not_strong() {
        assert!(!is_strong(&[Otp]));
        assert!(!is_strong(&[]));
        assert_eq!(session_level(2, &[Otp]), 1);
    }

    #[test]
    fn amr_lists_the_real_methods_and_mfa() {
        assert_eq!(amr(&[Pwd, Otp]), ["pwd", "otp", "mfa"]);
        assert_eq!(amr(&[Hwk]), ["hwk", "mfa"]);
        assert_eq!(amr(&[Pwd, Swk]), ["pwd", "swk", "mfa"]);
        assert_eq!(amr(&[Fed]), ["fed"]);
        assert_eq!(amr(&[Pwd, Pwd]), ["pwd"]);
    }

    #[test]
    fn stored_amr_values_come_back_as_methods() {
        let methods = [Pwd, Otp, Hwk, Swk, Fed];
        let values: Vec<String> = methods.iter().map(|m| m.amr().to_owned()).collect();
        assert_eq!(methods_from_amr(&values), methods);
        assert_eq!(methods_from_amr(&["mfa".into()]), []);
    }

    #[test]
    fn a_strong_sign_in_counts_for_ten_minutes() {
        let t = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        assert!(recent_strong(&[Hwk], t, t + Duration::minutes(10)));
        assert!(!recent_strong(
            &[Hwk],
            t,
            t + Duration::minutes(10) + Duration::seconds(1)
        ));
        assert!(!recent_strong(&[Pwd], t, t));
        assert!(recent_strong(&[Pwd, Otp], t, t + Duration::minutes(3)));
    }

    #[test]
    fn a_step_adds_a_method_once() {
        assert_eq!(with_method(&[Pwd], Otp), [Pwd, Otp]);
        assert_eq!(with_method(&[Pwd, Otp], Otp), [Pwd, Otp]);
    }

    #[test]
    fn owners_read_the_strength_in_vietnamese() {
        assert_eq!(describe(&[Pwd]), "Mật khẩu");
        assert_eq!(describe(&[Pwd, Otp]), "Mật khẩu + mã xác thực");
        assert_eq!(describe(&[Swk]), "Passkey");
        assert_eq!(describe(&[Fed]), "VNeID");
    }
}
