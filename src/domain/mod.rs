//! Pure domain types and rules: no actix, no diesel, no I/O, time passed in.
//!
//! Raw input becomes a domain type only through a parser that can fail with an
//! [`Invalid`]: a stable machine code and a Vietnamese message for the person
//! who typed the value ("parse, don't validate").

pub mod assurance;
pub mod business;
pub mod calendar;
pub mod chart;
pub mod dossier;
pub mod email_address;
pub mod file_kind;
pub mod form;
pub mod ids;
pub mod national_id;
pub mod national_portal;
pub mod oauth;
pub mod outbox;
pub mod password_policy;
pub mod payment;
pub mod person_name;
pub mod phone;
pub mod proofing;
pub mod retry;
pub mod search;
pub mod staff;
pub mod staff_event;
pub mod tax_code;
pub mod text_enum;
pub mod totp;
pub mod vault;
pub mod webhook;

use std::borrow::Cow;

pub use email_address::EmailAddress;
pub use ids::{AccountId, BusinessId};
pub use national_id::{NationalId, Sex};
pub use password_policy::check_password;
pub use person_name::PersonName;
pub use phone::PhoneNumber;
pub use tax_code::TaxCode;
pub use totp::TotpSecret;

/// Why a raw value is not a valid domain value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    /// Stable snake_case code (e.g. `invalid_province_code`).
    pub code: &'static str,
    /// Vietnamese message, with diacritics, for the person who typed the value.
    pub message: Cow<'static, str>,
}

impl Invalid {
    /// A new reason.
    pub fn new(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}
