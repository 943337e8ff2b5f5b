//! The operator's commands (`eservices admin webhooks …`): register a
//! subscriber (its secret is shown once), list, pause and resume, and
//! replay deliveries with their original `webhook-id`.

use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::secret_context;
use crate::{
    domain::{
        Invalid,
        calendar::city_tz,
        webhook::{EventType, SubscriberState, generate_secret},
    },
    error::{AppError, AppResult, Code, FieldErrors},
    infra::Core,
    notify::{Job, outbox},
    storage::{
        catalog,
        webhooks::{self as store, SubscriberRow},
    },
};

/// What an administrator asks to register.
#[derive(Debug, Clone, Default)]
pub struct NewSubscriber {
    /// What the administrator calls it.
    pub name: String,
    /// Where events are posted (http or https).
    pub url: String,
    /// Service codes followed (none: all).
    pub services: Vec<String>,
    /// Agency codes followed (none: all).
    pub agencies: Vec<String>,
    /// Event types followed (none: all).
    pub events: Vec<String>,
    /// Whether the payload may name the applicant.
    pub personal_data: bool,
}

/// A registered subscriber and its secret, shown this once.
#[derive(Debug)]
pub struct Registered {
    /// The subscriber.
    pub subscriber: SubscriberRow,
    /// `whsec_…`: the subscriber verifies signatures with it.
    pub secret: String,
}

/// A subscriber as listed, with how many deliveries it still has to get.
#[derive(Debug)]
pub struct Listed {
    /// The subscriber.
    pub subscriber: SubscriberRow,
    /// Deliveries not yet delivered.
    pub pending: i64,
}

/// Registers a subscriber after checking what it follows exists.
pub async fn add(core: &Core, new: NewSubscriber) -> AppResult<Registered> {
    let mut conn = core.db.get().await?;
    let mut errors = FieldErrors::default();
    let name = new.name.trim().to_owned();
    if name.is_empty() {
        errors.push(
            "name",
            Invalid::new("required", "Cần đặt tên cho bên nhận sự kiện."),
        );
    }
    errors.take("url", check_url(&new.url));
    let services = unique(&new.services);
    for code in &services {
        if catalog::service(&mut conn, code).await?.is_none() {
            errors.push(
                "service",
                Invalid::new("unknown_service", format!("Không có thủ tục mã {code}.")),
            );
        }
    }
    let agencies = unique(&new.agencies);
    for code in &agencies {
        if catalog::agency(&mut conn, code).await?.is_none() {
            errors.push(
                "agency",
                Invalid::new("unknown_agency", format!("Không có cơ quan mã {code}.")),
            );
        }
    }
    let mut events = Vec::new();
    for raw in unique(&new.events) {
        if let Some(e) = errors.take("event", EventType::parse_input(&raw)) {
            events.push(e.as_str().to_owned());
        }
    }
    errors.into_result()?;
    let now = core.clock.now();
    let id = Uuid::now_v7();
    let secret = generate_secret();
    let row = SubscriberRow {
        id,
        name,
        url: new.url.trim().to_owned(),
        secret: core
            .settings
            .keyring
            .seal(secret.as_bytes(), &secret_context(id)),
        services,
        agencies,
        event_types: events,
        personal_data: new.personal_data,
        state: SubscriberState::Active,
        created_at: now,
        updated_at: now,
    };
    store::insert_subscriber(&mut conn, &row).await?;
    tracing::info!(subscriber = %id, "webhook subscriber registered");
    Ok(Registered {
        subscriber: row,
        secret,
    })
}

/// Every subscriber, oldest first.
pub async fn list(core: &Core) -> AppResult<Vec<Listed>> {
    let mut conn = core.db.get().await?;
    let pending = store::pending_counts(&mut conn).await?;
    Ok(store::subscribers(&mut conn)
        .await?
        .into_iter()
        .map(|subscriber| Listed {
            pending: pending.get(&subscriber.id).copied().unwrap_or(0),
            subscriber,
        })
        .collect())
}

/// Pauses a subscriber: its deliveries wait (new events keep being kept).
pub async fn pause(core: &Core, id: Uuid) -> AppResult<()> {
    let mut conn = core.db.get().await?;
    if !store::set_state(&mut conn, id, SubscriberState::Paused, core.clock.now()).await? {
        return Err(unknown_subscriber());
    }
    tracing::info!(subscriber = %id, "webhook subscriber paused");
    Ok(())
}

/// Resumes a subscriber: what waited is sent now, each dossier's events in
/// order. Returns how many deliveries go out first (the rest follow them).
pub async fn resume(core: &Core, id: Uuid) -> AppResult<usize> {
    let now = core.clock.now();
    let mut conn = core.db.get().await?;
    let heads = conn
        .transaction::<_, AppError, _>(async |c| {
            if !store::set_state(c, id, SubscriberState::Active, now).await? {
                return Err(unknown_subscriber());
            }
            let heads = store::pending_heads(c, id).await?;
            send_now(c, &heads, now).await?;
            Ok(heads.len())
        })
        .await?;
    tracing::info!(subscriber = %id, deliveries = heads, "webhook subscriber resumed");
    Ok(heads)
}

/// Sends one delivery again, with its `webhook-id`.
pub async fn replay_delivery(core: &Core, id: Uuid) -> AppResult<()> {
    let now = core.clock.now();
    let mut conn = core.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        if store::reopen(c, id).await?.is_none() {
            return Err(AppError::from(Code::NotFound).with_detail("Không có lần gửi sự kiện này."));
        }
        send_now(c, &[id], now).await
    })
    .await?;
    tracing::info!(delivery = %id, "webhook delivery replayed");
    Ok(())
}

/// Sends again every delivery of the subscriber queued since the start of
/// `since` (city time), each dossier's in order; returns how many.
pub async fn replay_since(core: &Core, subscriber: Uuid, since: NaiveDate) -> AppResult<usize> {
    let now = core.clock.now();
    let from = start_of(since);
    let mut conn = core.db.get().await?;
    let count = conn
        .transaction::<_, AppError, _>(async |c| {
            if store::subscriber(c, subscriber).await?.is_none() {
                return Err(unknown_subscriber());
            }
            let count = store::reopen_since(c, subscriber, from).await?;
            let heads = store::pending_heads(c, subscriber).await?;
            send_now(c, &heads, now).await?;
            Ok(count)
        })
        .await?;
    tracing::info!(%subscriber, deliveries = count, "webhook deliveries replayed");
    Ok(count)
}

/// Queues these deliveries now, or makes their waiting job due now.
async fn send_now(
    conn: &mut AsyncPgConnection,
    deliveries: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut waiting = Vec::new();
    for &delivery_id in deliveries {
        let job = Job::DeliverWebhook { delivery_id };
        if outbox::enqueue(conn, now, &job).await?.is_none() {
            waiting.push(delivery_id);
        }
    }
    let kind = Job::DeliverWebhook {
        delivery_id: Uuid::nil(),
    }
    .kind();
    store::bring_forward(conn, kind, &waiting, now).await?;
    Ok(())
}

/// Midnight of `day` in the city.
fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN)
        .and_local_timezone(city_tz())
        .single()
        .map_or_else(
            || day.and_time(chrono::NaiveTime::MIN).and_utc(),
            |t| t.to_utc(),
        )
}

fn unknown_subscriber() -> AppError {
    AppError::from(Code::NotFound).with_detail("Không có bên nhận sự kiện này.")
}

/// The values trimmed, without blanks or repeats, in their order.
fn unique(values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        if !out.iter().any(|o| o == v) {
            out.push(v.to_owned());
        }
    }
    out
}

/// An absolute http(s) URL with a host.
fn check_url(raw: &str) -> Result<(), Invalid> {
    let bad = || {
        Invalid::new(
            "invalid_url",
            "Địa chỉ nhận phải là một URL http:// hoặc https:// đầy đủ.",
        )
    };
    let url = url::Url::parse(raw.trim()).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Invalid::new(
            "invalid_url",
            "Địa chỉ nhận không được chứa tên đăng nhập hay mật khẩu.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_http_urls_are_accepted() {
        assert!(check_url("https://he-thong.hcm.gov.vn/hooks").is_ok());
        assert!(check_url("http://127.0.0.1:8080/a").is_ok());
        for bad in [
            "ftp://x.vn/a",
            "/hooks",
            "https://user:pw@x.vn/",
            "khong phai url",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_day_starts_at_midnight_in_the_city() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 5).expect("date");
        assert_eq!(start_of(day).to_rfc3339(), "2026-12-04T17:00:00+00:00");
    }

    #[test]
    fn repeated_and_blank_values_are_dropped() {
        let given = ["a", " a ", "", "b"].map(str::to_owned);
        assert_eq!(unique(&given), ["a", "b"]);
    }
}
