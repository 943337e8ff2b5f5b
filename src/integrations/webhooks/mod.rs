//! Events for city systems: registered subscribers hear of the dossiers of
//! the services or agencies they follow, signed as Standard Webhooks are.
//!
//! Each status change that is an event (`domain::webhook::event_for`)
//! becomes one delivery per subscriber following it, stored with its exact
//! body in the transaction that logs the change. A dossier's events reach
//! a subscriber in order: a delivery is queued only when the dossier's
//! earlier ones have arrived, and each success queues the next one
//! (`deliver`). `admin` holds the operator's commands.

pub mod admin;
mod deliver;
mod payload;

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::LoggedEvent;
use crate::{
    domain::webhook::event_for,
    error::AppResult,
    infra::Core,
    notify::{Job, JobRegistry, outbox},
    storage::webhooks::{self as store, DeliveryRow},
};

/// The sealing context of a subscriber's secret.
pub(crate) fn secret_context(subscriber: Uuid) -> String {
    format!("webhook.secret:{subscriber}")
}

/// Queues one delivery per subscriber that follows the event (inside the
/// caller's transaction); a paused subscriber's wait for its resumption.
pub async fn queue(conn: &mut AsyncPgConnection, event: &LoggedEvent<'_>) -> AppResult<()> {
    let Some(kind) = event_for(event.action, event.from, event.to) else {
        return Ok(());
    };
    let Some(facts) = store::dossier_facts(conn, event.dossier_id).await? else {
        return Ok(());
    };
    let followers = store::followers(conn, &facts.service_code, &facts.agency_code, kind).await?;
    for (subscriber, personal_data) in followers {
        let delivery = DeliveryRow {
            id: Uuid::now_v7(),
            subscriber_id: subscriber,
            dossier_id: event.dossier_id,
            seq: event.seq,
            event_type: kind,
            payload: payload::body(kind, event, &facts, personal_data),
            created_at: event.at,
            delivered_at: None,
            attempts: 0,
            last_outcome: None,
        };
        if !store::insert_delivery(conn, &delivery).await? {
            continue;
        }
        // Behind an earlier event still on its way, it is queued when that
        // one arrives.
        if !store::waits_behind(conn, subscriber, event.dossier_id, event.seq).await? {
            outbox::enqueue(
                conn,
                event.at,
                &Job::DeliverWebhook {
                    delivery_id: delivery.id,
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// Registers the delivery job.
pub fn register(registry: &mut JobRegistry, core: &Core) {
    let core = core.clone();
    registry.handle(
        Job::DeliverWebhook {
            delivery_id: Uuid::nil(),
        }
        .kind(),
        move |job| {
            let core = core.clone();
            Box::pin(async move {
                let Job::DeliverWebhook { delivery_id } = job else {
                    return Err(crate::notify::jobs::unexpected(&job));
                };
                deliver::deliver(&core, delivery_id).await
            })
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::vault::SealedColumn;

    #[test]
    fn a_master_key_rotation_reseals_secrets_under_the_context_they_open_with() {
        let id = Uuid::now_v7();
        assert_eq!(
            SealedColumn::WebhookSecrets.context(&id.to_string()),
            secret_context(id)
        );
        assert!(SealedColumn::ALL.contains(&SealedColumn::WebhookSecrets));
    }
}
