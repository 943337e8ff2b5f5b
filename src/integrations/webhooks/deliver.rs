//! Sending one delivery: the stored body POSTed with the Standard Webhooks
//! headers (`webhook-id` is the delivery's id, the same on every attempt
//! and replay), signed with the subscriber's secret at the time of the
//! attempt. A 2xx delivers it and queues the dossier's next event for that
//! subscriber; anything else, or no answer within 10 s, is retried with the
//! outbox's backoff. Every attempt is recorded.

use std::time::{Duration, Instant};

use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::secret_context;
use crate::{
    domain::webhook::{SubscriberState, sign},
    error::AppError,
    infra::Core,
    notify::{Job, JobFailure, jobs::JobOutcome, outbox},
    storage::webhooks::{self as store, Attempted, DeliveryRow, SubscriberRow},
};

/// How long a subscriber has to answer one attempt.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// What one POST got.
struct Answer {
    http_status: Option<i16>,
    error: Option<String>,
    delivered: bool,
    outcome: String,
}

/// Runs one attempt at delivery `delivery_id`.
pub(super) async fn deliver(core: &Core, delivery_id: Uuid) -> JobOutcome {
    let (delivery, subscriber) = load(core, delivery_id).await?;
    if delivery.delivered_at.is_some() {
        return Ok("already delivered".into());
    }
    if subscriber.state == SubscriberState::Paused {
        // Not an attempt: nothing was sent. Resuming makes it due again.
        return Err(JobFailure::retry(
            "the subscriber is paused; the delivery waits until it is resumed",
        ));
    }
    let secret = open_secret(core, &subscriber)?;
    let at = core.clock.now();
    let timestamp = at.timestamp();
    let webhook_id = delivery.id.to_string();
    let signature = sign(&secret, &webhook_id, timestamp, &delivery.payload)
        .map_err(|e| JobFailure::give_up(format!("the subscriber's secret cannot sign: {e}")))?;
    let started = Instant::now();
    let sent = core
        .http
        .post(&subscriber.url)
        .timeout(ATTEMPT_TIMEOUT)
        .header("webhook-id", &webhook_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(delivery.payload.clone())
        .send()
        .await;
    let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let answer = match sent {
        Ok(response) => {
            let status = response.status();
            Answer {
                http_status: i16::try_from(status.as_u16()).ok(),
                error: None,
                delivered: status.is_success(),
                outcome: format!("HTTP {}", status.as_u16()),
            }
        }
        Err(err) => {
            let why = transport_error(&err);
            Answer {
                http_status: None,
                error: Some(why.clone()),
                delivered: false,
                outcome: why,
            }
        }
    };
    let attempt = record(
        core,
        &delivery,
        &Attempted {
            at,
            http_status: answer.http_status,
            error: answer.error.as_deref(),
            duration_ms,
            delivered: answer.delivered,
            outcome: &answer.outcome,
        },
    )
    .await?;
    if answer.delivered {
        tracing::info!(
            delivery = %delivery.id, subscriber = %subscriber.id, attempt,
            event = %delivery.event_type, outcome = %answer.outcome, "webhook delivered"
        );
        Ok(format!("{}: delivered", answer.outcome))
    } else {
        tracing::warn!(
            delivery = %delivery.id, subscriber = %subscriber.id, attempt,
            event = %delivery.event_type, outcome = %answer.outcome, duration_ms,
            "webhook not delivered; it will be retried"
        );
        Err(JobFailure::retry(format!(
            "{}: not delivered",
            answer.outcome
        )))
    }
}

/// The delivery and its subscriber.
async fn load(core: &Core, id: Uuid) -> Result<(DeliveryRow, SubscriberRow), JobFailure> {
    let mut conn = core
        .db
        .get()
        .await
        .map_err(|e| JobFailure::retry(format!("database unavailable: {e}")))?;
    store::delivery(&mut conn, id)
        .await
        .map_err(|e| JobFailure::retry(format!("loading the delivery: {e}")))?
        .ok_or_else(|| JobFailure::give_up("the delivery no longer exists"))
}

/// The subscriber's secret in clear.
fn open_secret(core: &Core, subscriber: &SubscriberRow) -> Result<String, JobFailure> {
    core.settings
        .keyring
        .open(&subscriber.secret, &secret_context(subscriber.id))
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .ok_or_else(|| {
            tracing::error!(subscriber = %subscriber.id, "a webhook secret does not open");
            JobFailure::give_up("the subscriber's secret does not open")
        })
}

/// Records the attempt and, once delivered, queues the dossier's next
/// event for this subscriber, in one transaction; returns the attempt's
/// number. A failure here after a 2xx sends the delivery again, with the
/// same `webhook-id`.
async fn record(
    core: &Core,
    delivery: &DeliveryRow,
    attempt: &Attempted<'_>,
) -> Result<i32, JobFailure> {
    let mut conn = core
        .db
        .get()
        .await
        .map_err(|e| JobFailure::retry(format!("database unavailable: {e}")))?;
    conn.transaction::<_, AppError, _>(async |c| {
        let number = store::record_attempt(c, delivery.id, attempt).await?;
        if attempt.delivered
            && let Some(next) =
                store::next_pending(c, delivery.subscriber_id, delivery.dossier_id, delivery.seq)
                    .await?
        {
            outbox::enqueue(c, attempt.at, &Job::DeliverWebhook { delivery_id: next }).await?;
        }
        Ok(number)
    })
    .await
    .map_err(|e| JobFailure::retry(format!("recording the attempt failed: {e}")))
}

/// A transport failure in a few words (without the subscriber's URL).
fn transport_error(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "timed out".into()
    } else if err.is_connect() {
        "could not connect".into()
    } else if err.is_redirect() {
        "redirected".into()
    } else {
        let mut text = err.to_string();
        if let Some(url) = err.url() {
            text = text.replace(url.as_str(), "<url>");
        }
        text
    }
}
