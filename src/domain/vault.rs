//! The vault's pure rules: whose data it is, vault keys (`record.field`),
//! where a value came from, which of several candidates prefills a field, and
//! the statement an agency signs when it issues a result.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{AccountId, BusinessId, Invalid};

/// Vault scopes (`vault:<record type>`): the owner's vault records of that
/// type, shown with their values on the consent page, each read logged.
pub const VAULT_SCOPES: [&str; 5] = [
    "vault:identity",
    "vault:address",
    "vault:civil_status",
    "vault:contact",
    "vault:education",
];

/// Whose vault: a person's or a business's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A citizen.
    Account(AccountId),
    /// A business (its representatives act for it).
    Business(BusinessId),
}

impl Owner {
    /// `(account_id, business_id)`: exactly one is set.
    pub fn columns(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            Self::Account(a) => (Some(a.as_uuid()), None),
            Self::Business(b) => (None, Some(b.as_uuid())),
        }
    }

    /// The owner of a row with these columns.
    pub fn from_columns(account: Option<Uuid>, business: Option<Uuid>) -> Option<Self> {
        match (account, business) {
            (Some(a), None) => Some(Self::Account(a.into())),
            (None, Some(b)) => Some(Self::Business(b.into())),
            _ => None,
        }
    }
}

/// A vault key as forms bind it: `identity.full_name`, `address.permanent`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VaultKey {
    record: String,
    field: String,
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl VaultKey {
    /// Parses `record.field` (lower-case ASCII names).
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.split_once('.') {
            Some((record, field)) if is_name(record) && is_name(field) => Ok(Self {
                record: record.to_owned(),
                field: field.to_owned(),
            }),
            _ => Err(Invalid::new(
                "vault_key_invalid",
                "Khóa dữ liệu phải có dạng “loại.trường” (chữ thường không dấu).",
            )),
        }
    }

    /// The record type (`identity`).
    pub fn record(&self) -> &str {
        &self.record
    }

    /// The field inside the record (`full_name`).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// Whether it is about the business the applicant acts for.
    pub fn is_business(&self) -> bool {
        self.record == "business"
    }
}

impl std::fmt::Display for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.record, self.field)
    }
}

/// Where a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// The national identity provider (VNeID).
    Vneid,
    /// An agency's decision on a dossier (a result).
    Agency,
    /// Checked at a one-stop counter against the chip ID card.
    Counter,
    /// The account's own contact details, checked by a code or a link.
    Account,
    /// Declared by the owner.
    SelfDeclared,
}

impl Provenance {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vneid => "vneid",
            Self::Agency => "agency",
            Self::Counter => "counter",
            Self::Account => "account",
            Self::SelfDeclared => "self_declared",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Vneid,
            Self::Agency,
            Self::Counter,
            Self::Account,
            Self::SelfDeclared,
        ]
        .into_iter()
        .find(|p| p.as_str() == raw)
    }

    /// In Vietnamese, for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Vneid => "Cơ sở dữ liệu quốc gia về dân cư (VNeID)",
            Self::Agency => "Kết quả giải quyết thủ tục hành chính",
            Self::Counter => "Xác thực tại bộ phận một cửa",
            Self::Account => "Thông tin liên hệ đã xác thực của tài khoản",
            Self::SelfDeclared => "Tự khai",
        }
    }
}

/// A record that may prefill fields.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The record's id (`account:identity` for data held by the account itself).
    pub id: String,
    /// The record type.
    pub record_type: String,
    /// Its fields.
    pub data: Map<String, Value>,
    /// Where it came from.
    pub provenance: Provenance,
    /// Verified by the state.
    pub verified: bool,
    /// Since when it holds.
    pub issued_at: DateTime<Utc>,
    /// Until when it holds.
    pub valid_until: Option<DateTime<Utc>>,
}

/// The value for `key` among `candidates` at `now`: verified records before
/// self-declared ones, then the newest; expired records never.
pub fn choose<'a>(
    candidates: &'a [Candidate],
    key: &VaultKey,
    now: DateTime<Utc>,
) -> Option<(&'a Candidate, &'a Value)> {
    candidates
        .iter()
        .filter(|c| c.record_type == key.record() && c.valid_until.is_none_or(|v| v > now))
        .filter_map(|c| match c.data.get(key.field()) {
            Some(v) if !v.is_null() && v != "" => Some((c, v)),
            _ => None,
        })
        .max_by_key(|(c, _)| (c.verified, c.issued_at))
}

/// What an agency signs when it issues a result: everything /verify shows,
/// nothing about the holder.
#[derive(Debug, Clone)]
pub struct ResultStatement<'a> {
    /// The document.
    pub document_id: Uuid,
    /// Its type code.
    pub document_type: &'a str,
    /// The issuing agency's code.
    pub issuer: &'a str,
    /// The dossier's receipt code.
    pub receipt_code: Option<&'a str>,
    /// Issued.
    pub issued_at: DateTime<Utc>,
    /// Valid until.
    pub valid_until: Option<DateTime<Utc>>,
    /// SHA-256 of the file.
    pub sha256: &'a [u8],
}

impl ResultStatement<'_> {
    /// The exact bytes signed: one `name=value` line each, in a fixed order.
    pub fn to_bytes(&self) -> Vec<u8> {
        let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Micros, true);
        let hex: String = self.sha256.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "hcm-eservices-result/1\nid={}\ntype={}\nissuer={}\nreceipt={}\nissued_at={}\nvalid_until={}\nsha256={}\n",
            self.document_id,
            self.document_type,
            self.issuer,
            self.receipt_code.unwrap_or_default(),
            time(self.issued_at),
            self.valid_until.map(time).unwrap_or_default(),
            hex
        )
        .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 0, 0, 0)
            .single()
            .expect("date")
    }

    fn candidate(id: &str, data: Value, verified: bool, day: u32) -> Candidate {
        Candidate {
            id: id.into(),
            record_type: "address".into(),
            data: data.as_object().cloned().expect("object"),
            provenance: if verified {
                Provenance::Vneid
            } else {
                Provenance::SelfDeclared
            },
            verified,
            issued_at: at(day),
            valid_until: None,
        }
    }

    #[test]
    fn keys_parse_strictly() {
        let key = VaultKey::parse("address.permanent").expect("key");
        assert_eq!((key.record(), key.field()), ("address", "permanent"));
        assert_eq!(key.to_string(), "address.permanent");
        assert!(VaultKey::parse("business.name").expect("key").is_business());
        for bad in ["address", ".x", "a.", "Address.x", "a.b.c", "a.b-c", ""] {
            assert!(VaultKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn verified_beats_newer_self_declared_and_expired_never_counts() {
        let key = VaultKey::parse("address.permanent").expect("key");
        let mut all = vec![
            candidate("old", json!({"permanent": "A"}), true, 1),
            candidate("self", json!({"permanent": "B"}), false, 20),
            candidate("new", json!({"permanent": "C"}), true, 10),
            candidate("other", json!({"current": "D"}), true, 21),
        ];
        let (c, v) = choose(&all, &key, at(22)).expect("a value");
        assert_eq!((c.id.as_str(), v), ("new", &json!("C")));
        all[2].valid_until = Some(at(15));
        let (c, _) = choose(&all, &key, at(22)).expect("a value");
        assert_eq!(c.id, "old");
        let none = choose(&all, &VaultKey::parse("address.x").expect("key"), at(22));
        assert!(none.is_none());
    }

    #[test]
    fn the_signed_statement_changes_with_every_field() {
        let base = ResultStatement {
            document_id: Uuid::nil(),
            document_type: "PHIEU_LLTP",
            issuer: "000.00.12.H29",
            receipt_code: Some("000.00.12.H29-261122-0001"),
            issued_at: at(22),
            valid_until: None,
            sha256: &[1, 2],
        };
        let bytes = base.to_bytes();
        assert!(String::from_utf8_lossy(&bytes).contains("sha256=0102\n"));
        let mut other = base.clone();
        other.issuer = "000.00.13.H29";
        assert_ne!(other.to_bytes(), bytes);
        let mut other = base.clone();
        other.sha256 = &[1, 3];
        assert_ne!(other.to_bytes(), bytes);
        let mut other = base;
        other.valid_until = Some(at(23));
        assert_ne!(other.to_bytes(), bytes);
    }
}
