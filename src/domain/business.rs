//! Proof of representation: a business a citizen registers is `pending`
//! until a receiver, having seen the business registration certificate
//! (ĐKKD) and the person's ID, confirms it, or rejects it. Only a confirmed
//! business can be acted for.

use super::Invalid;

/// Where a business registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationStatus {
    /// Claimed by a citizen; nobody may act for it yet.
    Pending,
    /// A receiver saw the papers: the representative (and whom they authorise) may act for it.
    Confirmed,
    /// A receiver refused the claim; the tax code is free for another registration.
    Rejected,
}

impl RegistrationStatus {
    /// Every status.
    pub const ALL: [Self; 3] = [Self::Pending, Self::Confirmed, Self::Rejected];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Rejected => "rejected",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// What people read (Vietnamese).
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Chờ xác nhận người đại diện",
            Self::Confirmed => "Đã xác nhận",
            Self::Rejected => "Bị từ chối",
        }
    }

    /// Whether the business may be acted for (dossiers, authorisations, token claims).
    pub fn may_act(self) -> bool {
        self == Self::Confirmed
    }

    /// Whether the registration still holds its tax code against other claims.
    pub fn holds_tax_code(self) -> bool {
        self != Self::Rejected
    }
}

/// A receiver's decision on a pending registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The papers show the citizen represents the business.
    Confirm,
    /// They do not (or were not shown).
    Reject,
}

impl Decision {
    /// Parses the form's value (`confirm` or `reject`).
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim() {
            "confirm" => Ok(Self::Confirm),
            "reject" => Ok(Self::Reject),
            _ => Err(Invalid::new(
                "decision_unknown",
                "Vui lòng chọn xác nhận hoặc từ chối.",
            )),
        }
    }

    /// The status it leads to from `current`; only a pending registration is decided.
    pub fn apply(self, current: RegistrationStatus) -> Result<RegistrationStatus, Invalid> {
        if current != RegistrationStatus::Pending {
            return Err(Invalid::new(
                "registration_already_decided",
                "Đăng ký doanh nghiệp này đã được xử lý.",
            ));
        }
        Ok(match self {
            Self::Confirm => RegistrationStatus::Confirmed,
            Self::Reject => RegistrationStatus::Rejected,
        })
    }
}

/// The receiver's note of what was checked (or why it was refused): 10 to
/// 500 characters, whitespace collapsed.
pub fn evidence(raw: &str) -> Result<String, Invalid> {
    let value = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let len = value.chars().count();
    if !(10..=500).contains(&len) {
        return Err(Invalid::new(
            "evidence_length",
            "Vui lòng ghi giấy tờ đã kiểm tra hoặc lý do từ chối (10–500 ký tự).",
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_only_a_confirmed_business_is_acted_for() {
        for s in RegistrationStatus::ALL {
            assert_eq!(RegistrationStatus::parse(s.as_str()), Some(s));
            assert!(!s.label().is_empty());
        }
        assert_eq!(RegistrationStatus::parse("approved"), None);
        assert!(RegistrationStatus::Confirmed.may_act());
        assert!(!RegistrationStatus::Pending.may_act());
        assert!(!RegistrationStatus::Rejected.may_act());
        assert!(RegistrationStatus::Pending.holds_tax_code());
        assert!(!RegistrationStatus::Rejected.holds_tax_code());
    }

    #[test]
    fn only_a_pending_registration_is_decided() {
        assert_eq!(
            Decision::Confirm.apply(RegistrationStatus::Pending),
            Ok(RegistrationStatus::Confirmed)
        );
        assert_eq!(
            Decision::Reject.apply(RegistrationStatus::Pending),
            Ok(RegistrationStatus::Rejected)
        );
        for done in [RegistrationStatus::Confirmed, RegistrationStatus::Rejected] {
            for d in [Decision::Confirm, Decision::Reject] {
                assert_eq!(
                    d.apply(done).map_err(|e| e.code),
                    Err("registration_already_decided")
                );
            }
        }
        assert_eq!(Decision::parse("confirm"), Ok(Decision::Confirm));
        assert!(Decision::parse("yes").is_err());
    }

    #[test]
    fn evidence_is_required() {
        assert!(evidence("  ").is_err());
        assert!(evidence("ĐKKD").is_err());
        assert_eq!(
            evidence(" Giấy ĐKKD   bản gốc, CCCD ").as_deref(),
            Ok("Giấy ĐKKD bản gốc, CCCD")
        );
        assert!(evidence(&"x".repeat(501)).is_err());
    }
}
