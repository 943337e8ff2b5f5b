//! Everything that leaves the system as a message: the transactional outbox
//! (typed jobs queued in the caller's transaction), the worker that runs them
//! with retries, the lettre transport, and the email templates.

pub mod jobs;
pub mod mailer;
pub mod notifications;
pub mod outbox;
pub mod sms;
pub mod templates;
pub mod worker;

pub use jobs::{JobFailure, JobRegistry};
pub use mailer::Mailer;
pub use outbox::{Job, enqueue, queue_email};
pub use templates::{EmailTemplate, RenderedEmail};
pub use worker::{Senders, Worker};
