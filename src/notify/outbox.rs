//! The transactional outbox: typed jobs queued inside the caller's transaction.
//!
//! A state change and the work it causes commit together or not at all; the
//! worker ([`super::worker`]) delivers the work afterwards, with retries.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    domain::{EmailAddress, retry::RetryPolicy},
    error::{AppError, AppResult},
    notify::templates::EmailTemplate,
    storage::{emails, jobs},
};

/// Work to be done after a commit. Adding a variant adds a job kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "args", rename_all = "snake_case")]
pub enum Job {
    /// Deliver a stored email.
    SendEmail {
        /// The row in `emails`.
        email_id: Uuid,
    },
    /// Deliver a stored SMS.
    SendSms {
        /// The row in `sms_messages`.
        sms_id: Uuid,
    },
    /// Delete registrations never verified within this many hours (scheduled).
    PurgeStaleRegistrations {
        /// Age in hours.
        older_than_hours: u32,
    },
    /// Tell a client that a browser session it joined has ended.
    BackchannelLogout {
        /// The client.
        client_id: String,
        /// The session id its ID tokens carried.
        sid: String,
        /// The account (its subject is computed at delivery).
        account_id: Uuid,
    },
    /// Draft apology letters for dossiers past their due date (scheduled).
    DraftApologies,
    /// Recompute the dashboard's figures (scheduled).
    RefreshStats,
    /// Forget which clients joined browser sessions that have certainly ended (scheduled).
    PurgeEndedSessions {
        /// Age in hours (sessions last at most this long).
        older_than_hours: u32,
    },
    /// Send what the national portal has not yet received of a dossier
    /// (its record and its progress, in order).
    SyncNationalPortal {
        /// The dossier.
        dossier_id: Uuid,
    },
    /// Deliver one event to one webhook subscriber.
    DeliverWebhook {
        /// The row in `webhook_deliveries`.
        delivery_id: Uuid,
    },
    /// Ask the payment platform about payments still pending, and expire
    /// those left too long (scheduled).
    ReconcilePayments,
}

impl Job {
    /// The stored kind name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SendEmail { .. } => "send_email",
            Self::SendSms { .. } => "send_sms",
            Self::PurgeStaleRegistrations { .. } => "purge_stale_registrations",
            Self::BackchannelLogout { .. } => "backchannel_logout",
            Self::PurgeEndedSessions { .. } => "purge_ended_sessions",
            Self::DraftApologies => "draft_apologies",
            Self::RefreshStats => "refresh_stats",
            Self::SyncNationalPortal { .. } => "sync_national_portal",
            Self::DeliverWebhook { .. } => "deliver_webhook",
            Self::ReconcilePayments => "reconcile_payments",
        }
    }

    /// The retry policy of this kind.
    pub fn policy(&self) -> RetryPolicy {
        match self {
            // About 10 hours of retries before a message is given up.
            Self::SendEmail { .. } => RetryPolicy {
                base: Duration::from_secs(15),
                cap: Duration::from_secs(3600),
                max_attempts: 15,
            },
            // A code expires in 10 minutes: retry briefly, then give up.
            Self::SendSms { .. } => RetryPolicy {
                base: Duration::from_secs(5),
                cap: Duration::from_secs(60),
                max_attempts: 6,
            },
            // About a day: the portal may be down for hours; order is kept
            // because each run sends everything not yet received.
            Self::SyncNationalPortal { .. } => RetryPolicy {
                base: Duration::from_secs(30),
                cap: Duration::from_secs(3600),
                max_attempts: 30,
            },
            // About ten hours, like an email.
            Self::DeliverWebhook { .. } => RetryPolicy {
                base: Duration::from_secs(10),
                cap: Duration::from_secs(3600),
                max_attempts: 15,
            },
            Self::PurgeStaleRegistrations { .. }
            | Self::PurgeEndedSessions { .. }
            | Self::DraftApologies
            | Self::RefreshStats
            | Self::ReconcilePayments => RetryPolicy {
                base: Duration::from_secs(60),
                cap: Duration::from_secs(600),
                max_attempts: 5,
            },
            // About two hours of retries: a client down for a while still learns of the logout.
            Self::BackchannelLogout { .. } => RetryPolicy {
                base: Duration::from_secs(10),
                cap: Duration::from_secs(1800),
                max_attempts: 12,
            },
        }
    }

    /// A key under which at most one job of this kind may be pending.
    pub fn dedup_key(&self) -> Option<String> {
        match self {
            Self::SendEmail { email_id } => Some(email_id.to_string()),
            Self::SendSms { sms_id } => Some(sms_id.to_string()),
            // One pending run is enough, however many workers schedule it.
            Self::PurgeStaleRegistrations { .. }
            | Self::PurgeEndedSessions { .. }
            | Self::DraftApologies
            | Self::RefreshStats
            | Self::ReconcilePayments => Some("scheduled".into()),
            // One pending run per dossier: it sends all that is new.
            Self::SyncNationalPortal { dossier_id } => Some(dossier_id.to_string()),
            Self::DeliverWebhook { delivery_id } => Some(delivery_id.to_string()),
            Self::BackchannelLogout { client_id, sid, .. } => Some(format!("{client_id}\n{sid}")),
        }
    }

    /// Splits the job into its stored kind and payload.
    pub fn to_stored(&self) -> (&'static str, serde_json::Value) {
        let args = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut map)) => map.remove("args"),
            _ => None,
        };
        (self.kind(), args.unwrap_or(serde_json::Value::Null))
    }

    /// Rebuilds a job from its stored kind and payload.
    pub fn from_stored(kind: &str, payload: &serde_json::Value) -> serde_json::Result<Self> {
        serde_json::from_value(serde_json::json!({ "kind": kind, "args": payload }))
    }
}

/// Queues `job` to run from `now` on. Call it inside the transaction of the
/// change that causes it. Returns the job id, or `None` if an identical job is pending.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    job: &Job,
) -> AppResult<Option<i64>> {
    let (kind, payload) = job.to_stored();
    let dedup = job.dedup_key();
    let id = jobs::insert(
        conn,
        &jobs::NewJob {
            kind,
            payload,
            dedup_key: dedup.as_deref(),
            max_attempts: job.policy().max_attempts,
            run_at: now,
            created_at: now,
        },
    )
    .await?;
    Ok(id)
}

/// Where a message goes and whom it concerns.
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    /// The recipient.
    pub to: &'a EmailAddress,
    /// The account it concerns, for its notifications list.
    pub account_id: Option<Uuid>,
    /// The domain of Message-IDs (the host of `PUBLIC_URL`).
    pub mail_domain: &'a str,
}

/// Renders `email`, stores it and queues its delivery, inside the caller's transaction.
pub async fn queue_email<T: EmailTemplate>(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    envelope: &Envelope<'_>,
    email: &T,
) -> AppResult<Uuid> {
    let rendered = email.render().map_err(AppError::from)?;
    let id = Uuid::now_v7();
    let message_id = format!("<{}@{}>", id.simple(), envelope.mail_domain);
    emails::insert(
        conn,
        &emails::NewEmail {
            id,
            message_id: &message_id,
            recipient: envelope.to.as_str(),
            account_id: envelope.account_id,
            template: T::NAME,
            subject: &rendered.subject,
            body_text: &rendered.text,
            body_html: &rendered.html,
            sensitive: T::SENSITIVE,
            created_at: now,
        },
    )
    .await?;
    enqueue(conn, now, &Job::SendEmail { email_id: id }).await?;
    Ok(id)
}

/// Stores an SMS and queues its delivery, inside the caller's transaction.
pub async fn queue_sms(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    to: &crate::domain::PhoneNumber,
    account_id: Option<Uuid>,
    template: &str,
    text: &str,
    sensitive: bool,
) -> AppResult<Uuid> {
    let id = Uuid::now_v7();
    crate::storage::sms::insert(
        conn,
        &crate::storage::sms::SmsRow {
            id,
            recipient: to.e164().to_owned(),
            account_id,
            template: template.to_owned(),
            body: Some(text.to_owned()),
            sensitive,
            status: crate::domain::outbox::DeliveryStatus::Queued,
            attempts: 0,
            last_response: None,
            created_at: now,
            sent_at: None,
        },
    )
    .await?;
    enqueue(conn, now, &Job::SendSms { sms_id: id }).await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_round_trip_through_their_stored_form() {
        let job = Job::SendEmail {
            email_id: Uuid::nil(),
        };
        let (kind, payload) = job.to_stored();
        assert_eq!(kind, "send_email");
        assert_eq!(payload["email_id"], Uuid::nil().to_string());
        assert_eq!(Job::from_stored(kind, &payload).expect("parses"), job);
        assert!(Job::from_stored("no_such_kind", &payload).is_err());
    }
}
