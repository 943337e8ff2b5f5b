//! Which code runs which kind of job. `notify` runs the outbox but knows no
//! feature: each feature registers the handlers of its own jobs (one job
//! kind per file, next to the feature) and the jobs it wants queued on a
//! schedule; the composition root hands the filled registry to the worker.

use std::{collections::HashMap, sync::Arc};

use futures_util::future::BoxFuture;

use crate::notify::{Job, mailer::DeliveryError};

/// A failed attempt, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFailure {
    /// What went wrong (recorded with the attempt; no personal data).
    pub detail: String,
    /// False when retrying cannot help.
    pub retryable: bool,
}

impl JobFailure {
    /// A failure worth retrying (a database or a peer was unavailable).
    pub fn retry(detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            retryable: true,
        }
    }

    /// A failure retrying cannot mend.
    pub fn give_up(detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            retryable: false,
        }
    }
}

impl From<DeliveryError> for JobFailure {
    fn from(e: DeliveryError) -> Self {
        Self {
            detail: e.detail,
            retryable: e.retryable,
        }
    }
}

/// What one attempt of a job answers: a line for the record, or why it failed.
pub type JobOutcome = Result<String, JobFailure>;

/// Runs one kind of job.
pub type Handler = Arc<dyn Fn(Job) -> BoxFuture<'static, JobOutcome> + Send + Sync>;

/// The handlers of the features' jobs, by kind, and the jobs to queue on a
/// schedule. Emails and SMS are the outbox's own and need no handler.
#[derive(Default, Clone)]
pub struct JobRegistry {
    handlers: HashMap<&'static str, Handler>,
    scheduled: Vec<Job>,
}

impl JobRegistry {
    /// Registers `handler` for the jobs of `kind` (a later registration of
    /// the same kind replaces the earlier one).
    pub fn handle<F>(&mut self, kind: &'static str, handler: F) -> &mut Self
    where
        F: Fn(Job) -> BoxFuture<'static, JobOutcome> + Send + Sync + 'static,
    {
        self.handlers.insert(kind, Arc::new(handler));
        self
    }

    /// Queues `job` at every maintenance round (at most one pending at a time).
    pub fn schedule(&mut self, job: Job) -> &mut Self {
        self.scheduled.push(job);
        self
    }

    /// The handler of `kind`.
    pub fn handler(&self, kind: &str) -> Option<&Handler> {
        self.handlers.get(kind)
    }

    /// The jobs queued on a schedule.
    pub fn scheduled(&self) -> &[Job] {
        &self.scheduled
    }
}

/// The payload a handler expects was not the one it was given.
pub fn unexpected(job: &Job) -> JobFailure {
    JobFailure::give_up(format!("a handler got a job of kind {}", job.kind()))
}
