//! Runs outbox jobs: claims due jobs with `FOR UPDATE SKIP LOCKED` (any
//! number of worker processes), runs them concurrently, records every attempt,
//! retries with backoff, and marks a job dead after its last attempt.
//!
//! A job is claimed under a lease; a worker that dies mid-job loses the lease
//! and the job is claimed again (the lost attempt is recorded as abandoned).
//! On shutdown a worker stops claiming, lets running jobs finish within a
//! grace period, and hands back whatever did not finish.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use futures_util::StreamExt;
use lettre::message::Mailbox;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    clock::SharedClock,
    domain::outbox::{AttemptOutcome, DeliveryStatus, JobState},
    infra::Core,
    metrics::Metrics,
    notify::{
        Job, Mailer,
        jobs::{JobFailure as Failure, JobRegistry},
        sms::SmsSender,
    },
    storage::{DbPool, emails, jobs},
};

/// How long a claimed job belongs to its worker before others may take it over.
const LEASE: Duration = Duration::from_secs(300);
/// How long running jobs may take to finish once shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
/// How often a worker queues the scheduled maintenance jobs (deduplicated, so
/// many workers queue each one once).
const MAINTENANCE_EVERY: Duration = Duration::from_secs(600);
/// What a worker needs.
#[derive(Clone)]
pub struct Worker {
    id: String,
    db: DbPool,
    clock: SharedClock,
    mailer: Mailer,
    sms: SmsSender,
    from: Mailbox,
    metrics: Option<Arc<Metrics>>,
    concurrency: usize,
    poll_interval: Duration,
    /// The features' jobs.
    registry: Arc<JobRegistry>,
}

/// How messages leave: the email and SMS transports.
#[derive(Clone, Debug)]
pub struct Senders {
    /// Email.
    pub mailer: Mailer,
    /// SMS.
    pub sms: SmsSender,
}

/// The settings of a worker.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Jobs run at once.
    pub concurrency: usize,
    /// Pause between looks when idle.
    pub poll_interval: Duration,
}

impl Worker {
    /// A worker with a fresh id (host name, process id and a random part)
    /// on `core`'s pool, clock and metrics, running the jobs of `registry`.
    pub fn new(
        core: &Core,
        senders: Senders,
        registry: Arc<JobRegistry>,
        options: &WorkerOptions,
    ) -> Self {
        let host = hostname();
        let id = format!(
            "{host}:{}:{}",
            std::process::id(),
            &Uuid::new_v4().simple().to_string()[..8]
        );
        Self {
            id,
            db: core.db.clone(),
            clock: core.clock.clone(),
            mailer: senders.mailer,
            sms: senders.sms,
            from: core.settings.mail.from.clone(),
            metrics: Some(core.metrics.clone()),
            concurrency: options.concurrency.max(1),
            poll_interval: options.poll_interval,
            registry,
        }
    }

    /// This worker's id, as recorded in `jobs.locked_by` and `job_attempts.worker`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(worker = %self.id, concurrency = self.concurrency, "worker started");
        let mut last_maintenance: Option<std::time::Instant> = None;
        while !shutdown.is_cancelled() {
            if last_maintenance.is_none_or(|at| at.elapsed() >= MAINTENANCE_EVERY) {
                if let Err(err) = self.schedule_maintenance().await {
                    tracing::warn!(worker = %self.id, error = format!("{err:#}"), "scheduling maintenance failed");
                }
                last_maintenance = Some(std::time::Instant::now());
            }
            let idle = match self.run_batch(&shutdown).await {
                Ok(0) => true,
                Ok(_) => false,
                Err(err) => {
                    tracing::warn!(worker = %self.id, error = format!("{err:#}"), "claiming jobs failed");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(self.poll_interval) => {}
                }
            }
        }
        tracing::info!(worker = %self.id, "worker stopped");
    }

    /// Queues the scheduled maintenance jobs (at most one pending of each).
    pub async fn schedule_maintenance(&self) -> anyhow::Result<()> {
        let mut conn = self.db.get().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        for job in self.registry.scheduled() {
            crate::notify::enqueue(&mut conn, self.clock.now(), job)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        Ok(())
    }

    /// Runs due jobs until none is due; returns how many ran. For tests and
    /// `eservices admin jobs run`.
    pub async fn drain(&self) -> anyhow::Result<usize> {
        let never = CancellationToken::new();
        let mut total = 0;
        loop {
            let n = self.run_batch(&never).await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Claims one batch and runs it; returns its size.
    async fn run_batch(&self, shutdown: &CancellationToken) -> anyhow::Result<usize> {
        let claimed = {
            let mut conn = self.db.get().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let limit = i64::try_from(self.concurrency).unwrap_or(16);
            jobs::claim(&mut conn, &self.id, self.clock.now(), LEASE, limit).await?
        };
        let count = claimed.len();
        if count == 0 {
            return Ok(0);
        }
        let pending: Arc<Mutex<HashSet<i64>>> =
            Arc::new(Mutex::new(claimed.iter().map(|j| j.id).collect()));
        let work =
            futures_util::stream::iter(claimed).for_each_concurrent(self.concurrency, |job| {
                let pending = pending.clone();
                async move {
                    let id = job.id;
                    self.run_one(job).await;
                    pending
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&id);
                }
            });
        let grace_over = async {
            shutdown.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        tokio::select! {
            () = work => {}
            () = grace_over => {
                let ids: Vec<i64> = pending.lock().unwrap_or_else(|p| p.into_inner()).iter().copied().collect();
                self.release(&ids).await;
            }
        }
        Ok(count)
    }

    async fn release(&self, ids: &[i64]) {
        if ids.is_empty() {
            return;
        }
        match self.db.get().await {
            Ok(mut conn) => match jobs::release(&mut conn, &self.id, ids).await {
                Ok(n) => {
                    tracing::info!(worker = %self.id, released = n, "released unfinished jobs")
                }
                Err(err) => {
                    tracing::warn!(worker = %self.id, error = %err, "releasing jobs failed; their lease will expire")
                }
            },
            Err(err) => {
                tracing::warn!(worker = %self.id, error = %err, "releasing jobs failed; their lease will expire")
            }
        }
    }

    async fn run_one(&self, claimed: jobs::ClaimedJob) {
        let started = self.clock.now();
        let job = Job::from_stored(&claimed.kind, &claimed.payload);
        let outcome = if claimed.attempt > claimed.max_attempts {
            Err(Failure {
                detail: "no attempts left after an abandoned attempt".into(),
                retryable: false,
            })
        } else {
            match &job {
                Ok(job) => self.perform(job).await,
                Err(err) => Err(Failure {
                    detail: format!("unreadable job: {err}"),
                    retryable: false,
                }),
            }
        };
        let finished = self.clock.now();
        if let Err(err) = self
            .finish(&claimed, job.ok(), started, finished, outcome)
            .await
        {
            tracing::warn!(
                worker = %self.id, job_id = claimed.id, error = format!("{err:#}"),
                "recording a job outcome failed; the job will run again after its lease"
            );
        }
    }

    async fn perform(&self, job: &Job) -> Result<String, Failure> {
        match job {
            Job::SendEmail { email_id } => self.send_email(*email_id).await,
            Job::SendSms { sms_id } => self.send_sms(*sms_id).await,
            other => match self.registry.handler(other.kind()) {
                Some(handler) => handler(other.clone()).await,
                None => Err(Failure::give_up(format!(
                    "no handler for jobs of kind {}",
                    other.kind()
                ))),
            },
        }
    }

    async fn send_email(&self, email_id: Uuid) -> Result<String, Failure> {
        let email = {
            let mut conn = self.db.get().await.map_err(|e| Failure {
                detail: format!("database unavailable: {e}"),
                retryable: true,
            })?;
            emails::find(&mut conn, email_id)
                .await
                .map_err(|e| Failure {
                    retryable: !matches!(e, diesel::result::Error::NotFound),
                    detail: format!("loading the email: {e}"),
                })?
        };
        if email.status == DeliveryStatus::Sent {
            return Ok("already sent".into());
        }
        Ok(self.mailer.deliver(&self.from, &email).await?)
    }

    async fn send_sms(&self, sms_id: Uuid) -> Result<String, Failure> {
        let sms = {
            let mut conn = self.db.get().await.map_err(|e| Failure {
                detail: format!("database unavailable: {e}"),
                retryable: true,
            })?;
            crate::storage::sms::find(&mut conn, sms_id)
                .await
                .map_err(|e| Failure {
                    retryable: !matches!(e, diesel::result::Error::NotFound),
                    detail: format!("loading the SMS: {e}"),
                })?
        };
        if sms.status == DeliveryStatus::Sent {
            return Ok("already sent".into());
        }
        Ok(self.sms.deliver(&sms).await?)
    }

    /// Records the attempt and the job's new state in one transaction, with
    /// the job kind's own bookkeeping (an email's delivery status).
    async fn finish(
        &self,
        claimed: &jobs::ClaimedJob,
        job: Option<Job>,
        started: DateTime<Utc>,
        finished: DateTime<Utc>,
        outcome: Result<String, Failure>,
    ) -> anyhow::Result<()> {
        let mut conn = self.db.get().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let worker = self.id.clone();
        let claimed = claimed.clone();
        let (result_label, kind) = (
            if outcome.is_ok() {
                AttemptOutcome::Succeeded.as_str()
            } else {
                AttemptOutcome::Failed.as_str()
            },
            claimed.kind.clone(),
        );
        let dead = conn
            .transaction::<_, diesel::result::Error, _>(async |c| {
                if let (Some(prev), Some(at)) = (&claimed.abandoned_by, claimed.abandoned_at) {
                    jobs::record_attempt(
                        c,
                        &jobs::AttemptRow {
                            job_id: claimed.id,
                            attempt: claimed.attempt - 1,
                            worker: prev.clone(),
                            started_at: at,
                            finished_at: at,
                            outcome: AttemptOutcome::Abandoned,
                            detail: "the worker's lease ran out before it finished".into(),
                        },
                    )
                    .await?;
                }
                let (outcome_name, detail) = match &outcome {
                    Ok(detail) => (AttemptOutcome::Succeeded, detail.clone()),
                    Err(f) => (AttemptOutcome::Failed, f.detail.clone()),
                };
                jobs::record_attempt(
                    c,
                    &jobs::AttemptRow {
                        job_id: claimed.id,
                        attempt: claimed.attempt,
                        worker: worker.clone(),
                        started_at: started,
                        finished_at: finished,
                        outcome: outcome_name,
                        detail,
                    },
                )
                .await?;
                let dead = match &outcome {
                    Ok(detail) => {
                        if jobs::mark_done(c, claimed.id, &worker, finished).await?
                            && let Some(Job::SendEmail { email_id }) = &job
                        {
                            emails::mark_sent(c, *email_id, finished, detail).await?;
                        }
                        if let Some(Job::SendSms { sms_id }) = &job {
                            crate::storage::sms::mark_sent(c, *sms_id, finished, detail).await?;
                        }
                        false
                    }
                    Err(failure) => {
                        let retry_at = if failure.retryable {
                            job.as_ref()
                                .and_then(|j| j.policy().delay_after(claimed.attempt, claimed.id))
                                .and_then(|d| chrono::Duration::from_std(d).ok())
                                .map(|d| finished + d)
                        } else {
                            None
                        };
                        if jobs::mark_failed(
                            c,
                            claimed.id,
                            &worker,
                            finished,
                            &failure.detail,
                            retry_at,
                        )
                        .await?
                            && let Some(Job::SendEmail { email_id }) = &job
                        {
                            emails::mark_attempt_failed(
                                c,
                                *email_id,
                                &failure.detail,
                                retry_at.is_none(),
                            )
                            .await?;
                        }
                        if let Some(Job::SendSms { sms_id }) = &job {
                            crate::storage::sms::mark_attempt_failed(
                                c,
                                *sms_id,
                                &failure.detail,
                                retry_at.is_none(),
                            )
                            .await?;
                        }
                        retry_at.is_none()
                    }
                };
                Ok(dead)
            })
            .await?;
        let label = if dead {
            JobState::Dead.as_str()
        } else {
            result_label
        };
        if let Some(m) = &self.metrics {
            m.jobs_finished
                .with_label_values(&[kind.as_str(), label])
                .inc();
        }
        if dead {
            tracing::warn!(worker = %self.id, job_id = claimed.id, kind = %kind, "job is dead after its last attempt");
        }
        Ok(())
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into())
}
