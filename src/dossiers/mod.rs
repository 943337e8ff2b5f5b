//! E-dossiers: drafts, filing with a receipt code, intake and processing by
//! civil servants, supplements, decisions and results. Every change runs in
//! one transaction that locks the dossier, checks the action against the
//! state machine (domain::dossier), appends a hash-chained progress-log row
//! and queues the applicant's email: an action either happens whole or not
//! at all, and of two people acting at once one wins and the other gets 409.
//!
//! One module per thing owned: `views` (what is shown), `drafts` (the
//! applicant's drafts and reads), `idempotency` (replayed answers), `log`
//! (the hash chain), `actions` (the state machine applied), `queue`,
//! `forwarding`, `staff_reads`, `lookup` (the public look-up), `errors`
//! (one constructor per error code); and the features around them
//! (counter intake, the desk, emails, files, overdue apologies, results,
//! statistics, jobs).

pub mod actions;
pub mod counter;
pub mod desk;
pub mod drafts;
pub mod emails;
pub mod errors;
pub mod fees;
pub mod files;
pub mod forwarding;
mod idempotency;
pub mod jobs;
pub mod log;
pub mod lookup;
pub mod overdue;
pub mod queue;
pub mod results;
pub mod staff_reads;
pub mod stats;
pub mod views;

pub use actions::{By, act, due_if_accepted};
pub use drafts::{NewDraft, create_draft, events, get, list_mine, update_values};
pub use forwarding::forward;
pub use log::{verify_log, verify_logs};
pub use lookup::{LookupView, lookup};
pub use queue::queue;
pub use staff_reads::staff_get;
pub use views::{DossierView, EventView};
