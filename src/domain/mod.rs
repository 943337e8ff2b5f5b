//! Pure domain types and rules: no actix, no diesel, no I/O, time passed in.

pub mod email_address;
pub mod retry;

pub use email_address::EmailAddress;
