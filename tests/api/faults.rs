//! Faults: SMTP, Redis and PostgreSQL going away and coming back.

use std::time::Duration;

use chrono::Duration as ChronoDuration;
use diesel_async::RunQueryDsl;
use eservices::{
    notify::templates::SmtpTestEmail,
    storage::{emails, jobs},
};

use crate::helpers::{TestApp, TestOptions, wait_until};
use eservices::domain::outbox::{DeliveryStatus, JobState};

fn email(app: &TestApp) -> SmtpTestEmail {
    SmtpTestEmail {
        requested_by: "kiểm thử sự cố".into(),
        public_url: app.address.clone(),
    }
}

#[tokio::test]
async fn mail_queued_while_smtp_is_down_is_delivered_once_it_is_back() {
    let mut app = TestApp::spawn().await;
    app.smtp.stop();
    let id = app.queue("f@example.vn", &email(&app)).await;

    assert_eq!(app.run_jobs().await, 1);
    let mut conn = app.db().await;
    let row = emails::find(&mut conn, id).await.expect("row");
    assert_eq!(row.status, DeliveryStatus::Retrying);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM job_attempts WHERE outcome = 'failed'")
            .await,
        1
    );
    assert_eq!(app.run_jobs().await, 0, "the retry waits for its backoff");

    app.smtp.restart();
    assert_eq!(app.run_jobs().await, 0, "still backing off");
    app.clock.advance(ChronoDuration::seconds(20));
    assert_eq!(app.run_jobs().await, 1);
    assert_eq!(app.run_jobs().await, 0);

    let received = app.smtp.messages_to("f@example.vn");
    assert_eq!(received.len(), 1, "delivered exactly once");
    let row = emails::find(&mut conn, id).await.expect("row");
    assert_eq!(row.status, DeliveryStatus::Sent);
    assert_eq!(row.attempts, 2);
    assert_eq!(format!("<{}>", received[0].message_id()), row.message_id);
}

#[tokio::test]
async fn a_job_is_dead_after_its_last_attempt_and_can_be_retried_by_an_operator() {
    let mut app = TestApp::spawn().await;
    app.smtp.stop();
    let id = app.queue("g@example.vn", &email(&app)).await;
    let max = eservices::notify::Job::SendEmail { email_id: id }
        .policy()
        .max_attempts;
    for _ in 0..max {
        assert_eq!(app.run_jobs().await, 1);
        app.clock.advance(ChronoDuration::hours(2));
    }
    assert_eq!(app.run_jobs().await, 0, "a dead job is not tried again");
    let mut conn = app.db().await;
    let row = emails::find(&mut conn, id).await.expect("row");
    assert_eq!(row.status, DeliveryStatus::Failed);
    assert!(
        row.last_response
            .as_deref()
            .unwrap_or_default()
            .contains("onnect"),
        "{:?}",
        row.last_response
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM job_attempts WHERE outcome = 'failed'")
            .await,
        i64::from(max)
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM jobs WHERE state = 'dead'")
            .await,
        1
    );

    app.smtp.restart();
    let requeued = eservices::admin::retry_dead(&app.state, Some("send_email"))
        .await
        .expect("retry");
    assert_eq!(requeued, 1);
    assert_eq!(app.run_jobs().await, 1);
    assert_eq!(app.smtp.messages_to("g@example.vn").len(), 1);
    assert_eq!(
        emails::find(&mut conn, id).await.expect("row").status,
        DeliveryStatus::Sent
    );
    let (state, _) = jobs::state_of(&mut conn, 1).await.expect("state");
    assert_eq!(state, JobState::Done);
}

async fn ready(app: &TestApp) -> (u16, serde_json::Value) {
    let res = app.get("/readyz").await;
    let status = res.status().as_u16();
    (status, res.json().await.expect("json"))
}

#[tokio::test]
async fn losing_redis_makes_the_app_unready_until_redis_is_back() {
    let mut app = TestApp::spawn_with(TestOptions {
        own_redis: true,
        ..TestOptions::default()
    })
    .await;
    assert_eq!(ready(&app).await.0, 200);

    app.redis.as_mut().expect("own redis").stop();
    let (status, body) = ready(&app).await;
    assert_eq!(status, 503);
    assert_eq!(body["checks"]["redis"], "unavailable");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "the process keeps running"
    );

    app.redis.as_mut().expect("own redis").restart();
    wait_until(
        "readiness after Redis restart",
        Duration::from_secs(20),
        || async { ready(&app).await.0 == 200 },
    )
    .await;
}

#[tokio::test]
async fn losing_postgres_makes_the_app_unready_and_it_recovers_without_restart() {
    let app = crate::trust_hardening::app_with_metrics().await;
    // Hold pooled connections so the outage breaks live ones, as a restart does.
    assert_eq!(ready(&app).await.0, 200);
    app.queue("h@example.vn", &email(&app)).await;

    let mut admin = app.admin_db().await;
    let db = &app.db_name;
    diesel::sql_query(format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false"))
        .execute(&mut admin)
        .await
        .expect("block connections");
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"
    ))
    .execute(&mut admin)
    .await
    .expect("terminate backends");

    let (status, body) = ready(&app).await;
    assert_eq!(status, 503);
    assert_eq!(body["checks"]["database"], "unavailable");
    let res = crate::trust_hardening::scrape(&app).await;
    assert_eq!(
        res.status(),
        200,
        "metrics stay up while the database is down"
    );

    diesel::sql_query(format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true"))
        .execute(&mut admin)
        .await
        .expect("allow connections");
    wait_until(
        "readiness after the database is back",
        Duration::from_secs(20),
        || async { ready(&app).await.0 == 200 },
    )
    .await;
    // Work queued before the outage is still there and gets done.
    assert_eq!(app.run_jobs().await, 1);
    assert_eq!(app.smtp.messages_to("h@example.vn").len(), 1);
}
