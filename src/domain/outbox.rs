//! The states of the outbox as stored: a job's, an attempt's outcome, and a
//! message's delivery status.

use crate::domain::text_enum::text_enum;

text_enum! {
    /// Where a job is (`jobs.state`).
    pub enum JobState {
        /// Waiting for its `run_at`.
        Queued = "queued",
        /// Claimed by a worker under a lease.
        Running = "running",
        /// Finished.
        Done = "done",
        /// Given up after its last attempt.
        Dead = "dead",
    }
}

text_enum! {
    /// How one attempt of a job ended (`job_attempts.outcome`).
    pub enum AttemptOutcome {
        /// It did its work.
        Succeeded = "succeeded",
        /// It failed (maybe to be retried).
        Failed = "failed",
        /// Its worker's lease ran out before it finished.
        Abandoned = "abandoned",
    }
}

text_enum! {
    /// An email's or an SMS's delivery (`emails.status`, `sms_messages.status`).
    pub enum DeliveryStatus {
        /// Not tried yet.
        Queued = "queued",
        /// Tried, will be tried again.
        Retrying = "retrying",
        /// Accepted by the server or gateway.
        Sent = "sent",
        /// Given up.
        Failed = "failed",
    }
}

impl DeliveryStatus {
    /// What the back office shows.
    pub fn label(self) -> &'static str {
        match self {
            Self::Queued | Self::Retrying => "Đang gửi",
            Self::Sent => "Đã gửi",
            Self::Failed => "Gửi không thành công",
        }
    }
}
