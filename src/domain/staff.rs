//! Civil servants' roles, usernames and agency codes.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Invalid, text_enum::text_enum};

text_enum! {
    /// Whether a civil servant may sign in (`staff.status`).
    pub enum StaffStatus {
        /// Signs in.
        Active = "active",
        /// Refused at sign-in by their agency admin.
        Disabled = "disabled",
    }
}

/// What a civil servant may do in their agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Takes dossiers in (one-stop counter), verifies identities at the counter.
    Receiver,
    /// Handles dossiers.
    Processor,
    /// Decides and signs.
    Approver,
    /// Manages the agency's staff and settings.
    AgencyAdmin,
}

impl StaffRole {
    /// Every role.
    pub const ALL: [Self; 4] = [
        Self::Receiver,
        Self::Processor,
        Self::Approver,
        Self::AgencyAdmin,
    ];

    /// Parses `receiver`, `processor`, `approver` or `agency_admin`.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw.trim())
            .ok_or_else(|| {
                Invalid::new(
                    "staff_role",
                    "Vai trò phải là receiver, processor, approver hoặc agency_admin.",
                )
            })
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receiver => "receiver",
            Self::Processor => "processor",
            Self::Approver => "approver",
            Self::AgencyAdmin => "agency_admin",
        }
    }

    /// The Vietnamese name.
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Receiver => "Cán bộ tiếp nhận",
            Self::Processor => "Cán bộ xử lý",
            Self::Approver => "Lãnh đạo phê duyệt",
            Self::AgencyAdmin => "Quản trị đơn vị",
        }
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A staff sign-in name: 3–64 of `a-z 0-9 . _ -`, stored lower-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffUsername(String);

impl StaffUsername {
    /// Parses and lower-cases.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let value = raw.trim().to_lowercase();
        let ok = (3..=64).contains(&value.len())
            && value.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            });
        if ok {
            Ok(Self(value))
        } else {
            Err(Invalid::new(
                "staff_username",
                "Tên đăng nhập gồm 3–64 ký tự: chữ không dấu, số, dấu chấm, gạch dưới hoặc gạch ngang.",
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An agency's official unit code (e.g. `000.00.01.H29`): 2–40 of `A-Z a-z 0-9 . - _`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyCode(String);

impl AgencyCode {
    /// Parses.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let value = raw.trim();
        let ok = (2..=40).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(Invalid::new(
                "agency_code",
                "Mã đơn vị gồm 2–40 ký tự: chữ, số, dấu chấm, gạch dưới hoặc gạch ngang.",
            ))
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_unknown_ones_fail() {
        for role in StaffRole::ALL {
            assert_eq!(StaffRole::parse(role.as_str()), Ok(role));
        }
        assert_eq!(
            StaffRole::parse("superuser").map_err(|e| e.code),
            Err("staff_role")
        );
    }

    #[test]
    fn usernames_and_agency_codes_are_checked() {
        assert_eq!(
            StaffUsername::parse(" Tiep.Nhan_01 ").map(|u| u.as_str().to_owned()),
            Ok("tiep.nhan_01".into())
        );
        assert!(StaffUsername::parse("ab").is_err());
        assert!(StaffUsername::parse("có dấu").is_err());
        assert_eq!(
            AgencyCode::parse("000.00.01.H29").map(|c| c.as_str().to_owned()),
            Ok("000.00.01.H29".into())
        );
        assert!(AgencyCode::parse("x").is_err());
        assert!(AgencyCode::parse("a b").is_err());
    }
}
