//! `eservices admin webhooks …`: register, list, pause, resume and replay
//! webhook subscribers' deliveries.

use eservices::{
    http::AppState,
    integrations::webhooks::admin::{self, NewSubscriber},
};

use super::{args::WebhooksCommand, describe_invalid};

/// Runs one `admin webhooks` subcommand.
#[allow(clippy::print_stdout)]
pub async fn run(state: &AppState, command: WebhooksCommand) -> anyhow::Result<()> {
    match command {
        WebhooksCommand::Add {
            name,
            url,
            services,
            agencies,
            events,
            personal_data,
        } => {
            let new = NewSubscriber {
                name,
                url,
                services,
                agencies,
                events,
                personal_data,
            };
            let registered = admin::add(state, new).await.map_err(describe_invalid)?;
            let s = &registered.subscriber;
            println!("registered webhook subscriber {} ({})", s.id, s.name);
            println!("signing secret (shown once): {}", registered.secret);
        }
        WebhooksCommand::List => {
            for listed in admin::list(state).await.map_err(describe_invalid)? {
                let s = &listed.subscriber;
                let all = |v: &[String]| {
                    if v.is_empty() {
                        "*".to_owned()
                    } else {
                        v.join(",")
                    }
                };
                println!(
                    "{}\t{}\t{}\t{}\tservices={}\tagencies={}\tevents={}\tpersonal_data={}\tpending={}",
                    s.id,
                    s.state,
                    s.name,
                    s.url,
                    all(&s.services),
                    all(&s.agencies),
                    all(&s.event_types),
                    if s.personal_data { "yes" } else { "no" },
                    listed.pending
                );
            }
        }
        WebhooksCommand::Pause { id } => {
            admin::pause(state, id).await.map_err(describe_invalid)?;
            println!("paused webhook subscriber {id}; its deliveries wait");
        }
        WebhooksCommand::Resume { id } => {
            let n = admin::resume(state, id).await.map_err(describe_invalid)?;
            println!(
                "resumed webhook subscriber {id}; {n} dossiers' waiting events are being sent"
            );
        }
        WebhooksCommand::Replay {
            delivery,
            subscriber,
            since,
        } => match (delivery, subscriber, since) {
            (Some(id), _, _) => {
                admin::replay_delivery(state, id)
                    .await
                    .map_err(describe_invalid)?;
                println!("delivery {id} queued again");
            }
            (None, Some(subscriber), Some(since)) => {
                let n = admin::replay_since(state, subscriber, since)
                    .await
                    .map_err(describe_invalid)?;
                println!("{n} deliveries since {since} queued again");
            }
            _ => anyhow::bail!("give --delivery ID, or --subscriber ID with --since yyyy-mm-dd"),
        },
    }
    Ok(())
}
