//! The body of an event, in the Standard Webhooks shape
//! `{type, timestamp, data}`: what happened to which dossier, and the
//! applicant's name only for a subscriber allowed personal data.

use chrono::SecondsFormat;
use serde_json::{Value, json};

use super::LoggedEvent;
use crate::{domain::webhook::EventType, storage::webhooks::DossierFacts};

/// The body sent (and signed) for `event` to a subscriber.
pub(super) fn body(
    kind: EventType,
    event: &LoggedEvent<'_>,
    facts: &DossierFacts,
    personal_data: bool,
) -> String {
    let at = event.at.to_rfc3339_opts(SecondsFormat::Micros, true);
    let mut data = json!({
        "dossier_id": event.dossier_id,
        "receipt_code": facts.receipt_code,
        "service_code": facts.service_code,
        "agency_code": facts.agency_code,
        "status": event.to.map(|s| s.as_str()),
        "status_code": event.to.map(|s| s.national_code()),
        "previous_status": event.from.map(|s| s.as_str()),
        "sequence": event.seq,
        "changed_at": at,
    });
    if personal_data && let Value::Object(map) = &mut data {
        map.insert(
            "applicant_name".into(),
            Value::String(facts.applicant_name.clone()),
        );
    }
    json!({ "type": kind.as_str(), "timestamp": at, "data": data }).to_string()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::domain::dossier::Status;

    fn facts() -> DossierFacts {
        DossierFacts {
            receipt_code: Some("000.21.11.H29-261205-0001".into()),
            service_code: "HGCS-001".into(),
            agency_code: "000.21.11.H29".into(),
            applicant_name: "Nguyễn Văn An".into(),
        }
    }

    fn event() -> LoggedEvent<'static> {
        LoggedEvent {
            dossier_id: Uuid::nil(),
            seq: 3,
            at: Utc
                .with_ymd_and_hms(2026, 12, 5, 2, 3, 4)
                .single()
                .expect("time"),
            action: "accept",
            from: Some(Status::Submitted),
            to: Some(Status::Accepted),
            visible: true,
        }
    }

    #[test]
    fn the_body_says_what_happened_without_the_applicant_by_default() {
        let body: Value =
            serde_json::from_str(&body(EventType::Accepted, &event(), &facts(), false))
                .expect("json");
        assert_eq!(body["type"], "dossier.accepted");
        assert_eq!(body["timestamp"], "2026-12-05T02:03:04.000000Z");
        assert_eq!(body["data"]["status"], "accepted");
        assert_eq!(body["data"]["status_code"], 2);
        assert_eq!(body["data"]["previous_status"], "submitted");
        assert_eq!(body["data"]["receipt_code"], "000.21.11.H29-261205-0001");
        assert_eq!(body["data"]["sequence"], 3);
        assert!(body["data"].get("applicant_name").is_none());
    }

    #[test]
    fn the_applicant_is_named_only_when_allowed() {
        let body: Value =
            serde_json::from_str(&body(EventType::Accepted, &event(), &facts(), true))
                .expect("json");
        assert_eq!(body["data"]["applicant_name"], "Nguyễn Văn An");
    }
}
