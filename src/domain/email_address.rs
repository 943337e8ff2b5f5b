//! A syntactically valid email address.

use std::fmt;

use validator::ValidateEmail;

/// An email address that passed validation; stored trimmed and with a lower-case domain.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

/// Why a string is not an email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("địa chỉ email không hợp lệ")]
pub struct InvalidEmail;

impl EmailAddress {
    /// Parses and normalises `raw`.
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let trimmed = raw.trim();
        if trimmed.len() > 254 || !trimmed.validate_email() {
            return Err(InvalidEmail);
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(InvalidEmail)?;
        if !domain.contains('.') && domain != "localhost" {
            return Err(InvalidEmail);
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shows only the domain, so addresses do not end up in logs by accident.
impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let domain = self.0.rsplit_once('@').map_or("", |(_, d)| d);
        write!(f, "EmailAddress(***@{domain})")
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises_valid_addresses() {
        let e = EmailAddress::parse("  Nguyen.Van.A@Example.VN ").expect("valid");
        assert_eq!(e.as_str(), "Nguyen.Van.A@example.vn");
    }

    #[test]
    fn rejects_invalid_addresses() {
        for raw in [
            "",
            "plain",
            "a@",
            "@b.vn",
            "a b@c.vn",
            "a@nodot",
            &"x".repeat(250),
        ] {
            assert_eq!(EmailAddress::parse(raw), Err(InvalidEmail), "{raw}");
        }
    }

    #[test]
    fn debug_hides_the_local_part() {
        let e = EmailAddress::parse("secret.person@example.vn").expect("valid");
        assert_eq!(format!("{e:?}"), "EmailAddress(***@example.vn)");
    }
}
