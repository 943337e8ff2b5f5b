//! Fees and their payments, free of I/O: the closed sets, the payment
//! platform's checksums (HMAC-SHA256 over `|`-joined fields, key 1 for what
//! we send, key 2 for what it sends), its time format, and what a callback
//! or a status answer does to a stored payment — checked against the
//! amount we stored, never the one posted.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::text_enum::text_enum;

text_enum! {
    /// When a service's fee is asked for.
    pub enum FeeStage {
        /// At filing: the dossier waits for the payment before intake.
        Filing = "filing",
        /// When a processor asks for it (`request_fee`).
        OnRequest = "on_request",
    }
}

text_enum! {
    /// Where a payment was made.
    pub enum Channel {
        /// Through the payment platform.
        Online = "online",
        /// Cash or card at the counter, recorded by a receiver.
        Counter = "counter",
    }
}

text_enum! {
    /// A payment's state.
    pub enum PaymentStatus {
        /// Created at the platform; the payer has not finished.
        Pending = "pending",
        /// Paid: the fee request is settled.
        Paid = "paid",
        /// The platform says it failed.
        Failed = "failed",
        /// The payer cancelled.
        Cancelled = "cancelled",
        /// Left pending too long.
        Expired = "expired",
        /// Paid at the platform although the fee was already paid: to refund.
        RefundDue = "refund_due",
    }
}

impl PaymentStatus {
    /// The Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Đang chờ thanh toán",
            Self::Paid => "Đã thanh toán",
            Self::Failed => "Thanh toán không thành công",
            Self::Cancelled => "Đã hủy",
            Self::Expired => "Hết hạn",
            Self::RefundDue => "Chờ hoàn tiền",
        }
    }
}

/// HMAC-SHA256 under `key` over `fields` joined by `|`.
fn mac(key: &[u8], fields: &[&str]) -> Hmac<Sha256> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC takes any key length")
    };
    mac.update(fields.join("|").as_bytes());
    mac
}

/// Lowercase hex HMAC-SHA256 of `fields` joined by `|`.
pub fn checksum(key: &[u8], fields: &[&str]) -> String {
    mac(key, fields)
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `given` is the checksum of `fields` under `key` (constant time).
pub fn checksum_valid(key: &[u8], fields: &[&str], given: &str) -> bool {
    hex_bytes(given).is_some_and(|bytes| mac(key, fields).verify_slice(&bytes).is_ok())
}

fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The platform's time format, `yyyyMMddHHmmss` in the city's time zone.
pub fn platform_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&crate::domain::calendar::city_tz())
        .format("%Y%m%d%H%M%S")
        .to_string()
}

/// A `yyyyMMddHHmmss` time of the platform, in the city's time zone.
pub fn parse_platform_time(raw: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(raw, "%Y%m%d%H%M%S").ok()?;
    crate::domain::calendar::city_tz()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

text_enum! {
    /// What the platform reports of a transaction (a callback or a query).
    pub enum Reported {
        /// Still pending (a query only).
        Pending = "pending",
        /// Paid.
        Paid = "paid",
        /// Failed.
        Failed = "failed",
        /// Cancelled by the payer.
        Cancelled = "cancelled",
    }
}

/// What a report does to a stored payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Record the payment paid and settle its fee request.
    Settle,
    /// Paid, but its fee request was already paid by another payment: to refund.
    RefundDue,
    /// Record this outcome (failed, cancelled); the fee stays open.
    Close(PaymentStatus),
    /// Nothing changes (a duplicate, or news older than what we know).
    Nothing,
    /// Refused: the amount differs from what we stored.
    WrongAmount,
}

/// What a report of `reported` for `amount` does to a payment `stored`
/// for `stored_amount`, whose fee request is `fee_open` or not. Paid is
/// final; a payment that failed, was cancelled or expired can still turn
/// out paid (the money was taken); a late failure changes nothing paid.
pub fn decide(
    stored: PaymentStatus,
    stored_amount: i64,
    reported: Reported,
    amount: i64,
    fee_open: bool,
) -> Decision {
    if amount != stored_amount {
        return Decision::WrongAmount;
    }
    match (stored, reported) {
        (PaymentStatus::Paid | PaymentStatus::RefundDue, _) | (_, Reported::Pending) => {
            Decision::Nothing
        }
        (_, Reported::Paid) if fee_open => Decision::Settle,
        (_, Reported::Paid) => Decision::RefundDue,
        (PaymentStatus::Pending, Reported::Failed) => Decision::Close(PaymentStatus::Failed),
        (PaymentStatus::Pending, Reported::Cancelled) => Decision::Close(PaymentStatus::Cancelled),
        _ => Decision::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_verify_only_with_their_key_and_fields() {
        let sum = checksum(b"key-one-0123456789", &["HCMC", "T1", "150000"]);
        assert_eq!(sum.len(), 64);
        assert!(checksum_valid(
            b"key-one-0123456789",
            &["HCMC", "T1", "150000"],
            &sum
        ));
        assert!(!checksum_valid(
            b"key-two-0123456789",
            &["HCMC", "T1", "150000"],
            &sum
        ));
        assert!(!checksum_valid(
            b"key-one-0123456789",
            &["HCMC", "T1", "150001"],
            &sum
        ));
        assert!(!checksum_valid(
            b"key-one-0123456789",
            &["HCMC", "T1", "150000"],
            "zz"
        ));
    }

    #[test]
    fn platform_times_round_trip_in_the_city_zone() {
        let at = DateTime::parse_from_rfc3339("2026-12-05T02:30:15Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(platform_time(at), "20261205093015");
        assert_eq!(parse_platform_time("20261205093015"), Some(at));
        assert_eq!(parse_platform_time("2026-12-05"), None);
    }

    #[test]
    fn the_stored_amount_decides_and_paid_is_final() {
        use PaymentStatus as S;
        assert_eq!(
            decide(S::Pending, 150_000, Reported::Paid, 149_999, true),
            Decision::WrongAmount
        );
        assert_eq!(
            decide(S::Pending, 150_000, Reported::Paid, 150_000, true),
            Decision::Settle
        );
        assert_eq!(
            decide(S::Paid, 150_000, Reported::Paid, 150_000, false),
            Decision::Nothing
        );
        assert_eq!(
            decide(S::Paid, 150_000, Reported::Failed, 150_000, false),
            Decision::Nothing
        );
        assert_eq!(
            decide(S::Expired, 150_000, Reported::Paid, 150_000, true),
            Decision::Settle
        );
        assert_eq!(
            decide(S::Expired, 150_000, Reported::Paid, 150_000, false),
            Decision::RefundDue
        );
        assert_eq!(
            decide(S::Pending, 150_000, Reported::Failed, 150_000, true),
            Decision::Close(S::Failed)
        );
        assert_eq!(
            decide(S::Failed, 150_000, Reported::Cancelled, 150_000, true),
            Decision::Nothing
        );
        assert_eq!(
            decide(S::Pending, 150_000, Reported::Pending, 150_000, true),
            Decision::Nothing
        );
    }
}
