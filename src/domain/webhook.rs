//! Events for city systems: which dossier status change is which event
//! (a table, first match wins), the subscriber's states, and the Standard
//! Webhooks signature (`whsec_` secrets, `v1,` HMAC-SHA256 signatures).

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::domain::{Invalid, dossier::Status, text_enum::text_enum};

text_enum! {
    /// The event types a subscriber may follow (`webhook_deliveries.event_type`).
    pub enum EventType {
        /// Filed (online or at the counter).
        Filed = "dossier.filed",
        /// Taken in by the receiver.
        Accepted = "dossier.accepted",
        /// Not taken in.
        Refused = "dossier.refused",
        /// The applicant must add documents.
        SupplementRequested = "dossier.supplement_requested",
        /// The applicant added them.
        Supplemented = "dossier.supplemented",
        /// Being handled.
        Processing = "dossier.processing",
        /// The applicant must pay a fee.
        FeeRequested = "dossier.fee_requested",
        /// The fee was paid (online or at the counter).
        FeePaid = "dossier.fee_paid",
        /// Decided: result or rejection ready.
        Decided = "dossier.decided",
        /// The result was handed over.
        Returned = "dossier.returned",
        /// Withdrawn by the applicant.
        Withdrawn = "dossier.withdrawn",
        /// Processing stopped.
        Stopped = "dossier.stopped",
    }
}

impl EventType {
    /// Parses an event type as an administrator types it.
    pub fn parse_input(raw: &str) -> Result<Self, Invalid> {
        Self::parse(raw.trim()).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|e| e.as_str()).collect();
            Invalid::new(
                "unknown_event_type",
                format!(
                    "Loại sự kiện không tồn tại; chọn một trong: {}.",
                    known.join(", ")
                ),
            )
        })
    }
}

text_enum! {
    /// Whether a subscriber is sent its events (`webhook_subscribers.state`).
    pub enum SubscriberState {
        /// Deliveries go out.
        Active = "active",
        /// Deliveries wait until it is resumed.
        Paused = "paused",
    }
}

/// One row of the event table: a status change matches when each given
/// part matches (`None` matches anything).
struct Rule {
    action: Option<&'static str>,
    from: Option<Status>,
    to: Option<Status>,
    event: EventType,
}

const fn rule(
    action: Option<&'static str>,
    from: Option<Status>,
    to: Option<Status>,
    event: EventType,
) -> Rule {
    Rule {
        action,
        from,
        to,
        event,
    }
}

/// Which status change is which event; the first matching row wins. Leaving
/// a draft is filing whatever it leads to; a fee paid (confirmed at the
/// counter, or `fee_paid` logged by the payments module) moves a dossier
/// back to processing or on to intake; the rest is told by the new status.
const TABLE: &[Rule] = &[
    rule(None, Some(Status::Draft), None, EventType::Filed),
    rule(Some("fee_paid"), None, None, EventType::FeePaid),
    rule(Some("confirm_payment"), None, None, EventType::FeePaid),
    rule(
        None,
        Some(Status::FeeRequested),
        Some(Status::Processing),
        EventType::FeePaid,
    ),
    rule(
        None,
        Some(Status::FeeRequested),
        Some(Status::Submitted),
        EventType::FeePaid,
    ),
    rule(
        None,
        Some(Status::SupplementRequested),
        Some(Status::Processing),
        EventType::Supplemented,
    ),
    rule(None, None, Some(Status::Accepted), EventType::Accepted),
    rule(None, None, Some(Status::Refused), EventType::Refused),
    rule(None, None, Some(Status::Processing), EventType::Processing),
    rule(
        None,
        None,
        Some(Status::SupplementRequested),
        EventType::SupplementRequested,
    ),
    rule(
        None,
        None,
        Some(Status::FeeRequested),
        EventType::FeeRequested,
    ),
    rule(None, None, Some(Status::Processed), EventType::Decided),
    rule(None, None, Some(Status::Returned), EventType::Returned),
    rule(None, None, Some(Status::Withdrawn), EventType::Withdrawn),
    rule(None, None, Some(Status::Stopped), EventType::Stopped),
];

/// The event a status change is, if any: none for a row that keeps the
/// status, and none for a new draft (nothing is filed yet).
pub fn event_for(action: &str, from: Option<Status>, to: Option<Status>) -> Option<EventType> {
    let to_status = to?;
    if to == from || to_status == Status::Draft {
        return None;
    }
    TABLE
        .iter()
        .find(|r| {
            r.action.is_none_or(|a| a == action)
                && r.from.is_none_or(|f| Some(f) == from)
                && r.to.is_none_or(|t| t == to_status)
        })
        .map(|r| r.event)
}

/// The prefix of a Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new signing secret: `whsec_` and 32 random bytes in base64.
pub fn generate_secret() -> String {
    let mut raw = [0_u8; 32];
    rand::rng().fill_bytes(&mut raw);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(raw))
}

/// Why a secret cannot sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret is `whsec_` followed by base64")]
pub struct BadSecret;

/// The `webhook-signature` header of a message: `v1,` and the base64
/// HMAC-SHA256, under the secret's decoded bytes, of `{id}.{timestamp}.{body}`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, BadSecret> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|_| BadSecret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| BadSecret)?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn each_status_change_is_its_event() {
        let cases: &[(&str, Status, Status, EventType)] = &[
            ("submit", Draft, Submitted, EventType::Filed),
            ("counter_filing", Draft, Submitted, EventType::Filed),
            ("submit", Draft, FeeRequested, EventType::Filed),
            ("accept", Submitted, Accepted, EventType::Accepted),
            ("refuse", Submitted, Refused, EventType::Refused),
            (
                "start_processing",
                Accepted,
                Processing,
                EventType::Processing,
            ),
            ("forward", Accepted, Processing, EventType::Processing),
            (
                "request_supplement",
                Processing,
                SupplementRequested,
                EventType::SupplementRequested,
            ),
            (
                "supplement",
                SupplementRequested,
                Processing,
                EventType::Supplemented,
            ),
            (
                "request_fee",
                Processing,
                FeeRequested,
                EventType::FeeRequested,
            ),
            (
                "confirm_payment",
                FeeRequested,
                Processing,
                EventType::FeePaid,
            ),
            ("fee_paid", FeeRequested, Processing, EventType::FeePaid),
            ("fee_paid", FeeRequested, Submitted, EventType::FeePaid),
            ("approve", Processing, Processed, EventType::Decided),
            ("reject", Accepted, Processed, EventType::Decided),
            ("return_result", Processed, Returned, EventType::Returned),
            ("withdraw", Submitted, Withdrawn, EventType::Withdrawn),
            ("withdraw", FeeRequested, Withdrawn, EventType::Withdrawn),
            ("stop", Processing, Stopped, EventType::Stopped),
        ];
        for &(action, from, to, event) in cases {
            assert_eq!(
                event_for(action, Some(from), Some(to)),
                Some(event),
                "{action}: {from:?} → {to:?}"
            );
        }
    }

    #[test]
    fn rows_that_keep_the_status_or_make_a_draft_are_no_event() {
        assert_eq!(event_for("create", None, Some(Draft)), None);
        assert_eq!(event_for("attach", None, None), None);
        assert_eq!(
            event_for("forward", Some(Processing), Some(Processing)),
            None
        );
        assert_eq!(event_for("overdue", Some(Processing), None), None);
    }

    #[test]
    fn every_status_a_dossier_can_reach_has_an_event() {
        for to in Status::ALL.into_iter().filter(|s| *s != Draft) {
            let from = if to == Submitted { Draft } else { Submitted };
            assert!(event_for("any", Some(from), Some(to)).is_some(), "{to:?}");
        }
    }

    #[test]
    fn event_types_read_back_and_unknown_ones_are_named() {
        for e in EventType::ALL {
            assert_eq!(EventType::parse_input(e.as_str()), Ok(*e));
        }
        let err = EventType::parse_input("dossier.paid").expect_err("unknown");
        assert_eq!(err.code, "unknown_event_type");
        assert!(err.message.contains("dossier.fee_paid"));
    }

    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() {
        // The example of the Standard Webhooks specification's libraries.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            sig.as_deref(),
            Ok("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(sign("whsec_not base64!", "id", 1, "{}"), Err(BadSecret));
    }

    #[test]
    fn generated_secrets_are_32_random_bytes() {
        let a = generate_secret();
        let b = generate_secret();
        assert_ne!(a, b);
        let raw = STANDARD
            .decode(a.strip_prefix(SECRET_PREFIX).expect("prefix"))
            .expect("base64");
        assert_eq!(raw.len(), 32);
        assert!(sign(&a, "id", 1, "{}").is_ok());
    }
}
