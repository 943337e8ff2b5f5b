//! The transactional outbox and email delivery against a real SMTP server.

use std::collections::HashSet;

use chrono::Duration;
use diesel_async::AsyncConnection;
use eservices::{
    domain::EmailAddress,
    error::AppError,
    notify::{
        EmailTemplate, Job, RenderedEmail, enqueue, outbox::Envelope, queue_email,
        templates::SmtpTestEmail,
    },
    storage::{emails, jobs},
};

use crate::helpers::TestApp;
use eservices::domain::outbox::{DeliveryStatus, JobState};

fn test_email(app: &TestApp) -> SmtpTestEmail {
    SmtpTestEmail {
        requested_by: "bộ kiểm thử".into(),
        public_url: app.address.clone(),
    }
}

/// A message carrying a secret, as sign-in and reset links will.
struct SecretLink;

impl EmailTemplate for SecretLink {
    const NAME: &'static str = "secret_link";
    const SENSITIVE: bool = true;
    fn render(&self) -> askama::Result<RenderedEmail> {
        Ok(RenderedEmail {
            subject: "Liên kết đặt lại mật khẩu".into(),
            text: "token=s3cr3t".into(),
            html: "<p>token=s3cr3t</p>".into(),
        })
    }
}

#[tokio::test]
async fn a_queued_email_is_delivered_once_as_multipart_vietnamese_mail() {
    let app = TestApp::spawn().await;
    let id = app
        .queue("nguyen.van.a@example.vn", &test_email(&app))
        .await;
    assert!(
        app.smtp.messages().is_empty(),
        "nothing is sent before a worker runs"
    );

    assert_eq!(app.run_jobs().await, 1);
    assert_eq!(
        app.run_jobs().await,
        0,
        "a delivered job does not run again"
    );

    let received = app.smtp.messages_to("nguyen.van.a@example.vn");
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail.subject(), "Thư kiểm tra cấu hình gửi email");
    assert!(mail.text().contains("bộ kiểm thử"));
    assert!(mail.html().contains("<strong>bộ kiểm thử</strong>"));
    assert!(
        mail.header("Content-Type")
            .unwrap_or_default()
            .contains("multipart/alternative")
    );
    assert!(
        mail.header("From")
            .unwrap_or_default()
            .contains("no-reply@dichvucong.test")
    );

    let mut conn = app.db().await;
    let row = emails::find(&mut conn, id).await.expect("row");
    assert_eq!(row.status, DeliveryStatus::Sent);
    assert_eq!(row.attempts, 1);
    assert_eq!(format!("<{}>", mail.message_id()), row.message_id);
    assert!(
        row.last_response
            .as_deref()
            .unwrap_or_default()
            .starts_with("250")
    );
    assert!(
        row.body_text.is_some(),
        "ordinary bodies are kept for the notifications list"
    );
}

#[tokio::test]
async fn sensitive_bodies_are_erased_once_delivered() {
    let app = TestApp::spawn().await;
    let id = app.queue("b@example.vn", &SecretLink).await;
    app.run_jobs().await;
    assert!(
        app.smtp.messages_to("b@example.vn")[0]
            .text()
            .contains("token=s3cr3t")
    );
    let mut conn = app.db().await;
    let row = emails::find(&mut conn, id).await.expect("row");
    assert_eq!(row.status, DeliveryStatus::Sent);
    assert_eq!((row.body_text, row.body_html), (None, None));
    assert_eq!(row.subject, "Liên kết đặt lại mật khẩu");
}

#[tokio::test]
async fn an_email_queued_in_a_rolled_back_transaction_is_never_sent() {
    let app = TestApp::spawn().await;
    let to = EmailAddress::parse("c@example.vn").expect("valid");
    let now = app.now();
    let domain = app.state.settings.mail_domain();
    let email = test_email(&app);
    let mut conn = app.db().await;
    let result = conn
        .transaction::<(), AppError, _>(async |c| {
            queue_email(
                c,
                now,
                &Envelope {
                    to: &to,
                    account_id: None,
                    mail_domain: &domain,
                },
                &email,
            )
            .await?;
            Err(AppError::conflict("state_changed_meanwhile"))
        })
        .await;
    assert!(result.is_err());
    drop(conn);
    assert_eq!(app.run_jobs().await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM emails").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM jobs").await, 0);
    assert!(app.smtp.messages().is_empty());
}

#[tokio::test]
async fn a_pending_job_is_not_queued_twice() {
    let app = TestApp::spawn().await;
    let job = Job::SendEmail {
        email_id: uuid::Uuid::new_v4(),
    };
    let mut conn = app.db().await;
    let first = enqueue(&mut conn, app.now(), &job).await.expect("enqueue");
    let second = enqueue(&mut conn, app.now(), &job).await.expect("enqueue");
    assert!(first.is_some());
    assert_eq!(second, None);
}

#[tokio::test]
async fn several_workers_deliver_each_message_exactly_once() {
    let app = TestApp::spawn().await;
    let total = 120;
    for i in 0..total {
        app.queue(&format!("user{i}@example.vn"), &test_email(&app))
            .await;
    }
    let workers: Vec<_> = (0..3).map(|_| app.state.worker()).collect();
    let ids: HashSet<_> = workers.iter().map(|w| w.id().to_owned()).collect();
    assert_eq!(ids.len(), 3, "each worker has its own id");
    let ran = futures_util::future::join_all(workers.iter().map(|w| w.drain())).await;
    let ran: usize = ran.into_iter().map(|r| r.expect("drain")).sum();
    assert_eq!(ran, total);

    let messages = app.smtp.messages();
    assert_eq!(messages.len(), total);
    let message_ids: HashSet<_> = messages.iter().map(|m| m.message_id()).collect();
    assert_eq!(message_ids.len(), total, "no message was sent twice");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM job_attempts WHERE outcome = 'succeeded'")
            .await,
        i64::try_from(total).expect("small")
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM jobs WHERE attempts <> 1")
            .await,
        0
    );
}

#[tokio::test]
async fn a_job_of_a_worker_that_died_is_taken_over_after_its_lease() {
    let app = TestApp::spawn().await;
    let id = app.queue("d@example.vn", &test_email(&app)).await;
    // A worker claims the job and dies without finishing it.
    let mut conn = app.db().await;
    let claimed = jobs::claim(
        &mut conn,
        "crashed-worker",
        app.now(),
        std::time::Duration::from_secs(300),
        10,
    )
    .await
    .expect("claim");
    assert_eq!(claimed.len(), 1);
    let job_id = claimed[0].id;
    assert_eq!(app.run_jobs().await, 0, "the lease still holds");

    app.clock.advance(Duration::minutes(6));
    assert_eq!(app.run_jobs().await, 1);
    assert_eq!(app.smtp.messages_to("d@example.vn").len(), 1);
    let attempts = jobs::attempts_of(&mut conn, job_id)
        .await
        .expect("attempts");
    let outcomes: Vec<_> = attempts
        .iter()
        .map(|a| (a.attempt, a.outcome.as_str(), a.worker.as_str()))
        .collect();
    assert_eq!(outcomes[0], (1, "abandoned", "crashed-worker"));
    assert_eq!((outcomes[1].0, outcomes[1].1), (2, "succeeded"));
    assert_eq!(
        emails::find(&mut conn, id).await.expect("row").status,
        DeliveryStatus::Sent
    );
}

#[tokio::test]
async fn a_stopping_worker_hands_back_what_it_claimed() {
    let app = TestApp::spawn().await;
    app.queue("e@example.vn", &test_email(&app)).await;
    let mut conn = app.db().await;
    let claimed = jobs::claim(
        &mut conn,
        "stopping",
        app.now(),
        std::time::Duration::from_secs(300),
        10,
    )
    .await
    .expect("claim");
    let released = jobs::release(&mut conn, "stopping", &[claimed[0].id])
        .await
        .expect("release");
    assert_eq!(released, 1);
    assert_eq!(
        jobs::state_of(&mut conn, claimed[0].id)
            .await
            .expect("state"),
        (JobState::Queued, 0)
    );
    assert_eq!(app.run_jobs().await, 1, "a released job runs at once");
}
