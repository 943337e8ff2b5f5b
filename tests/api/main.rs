//! The one integration-test binary: every test spawns the real application
//! on a free port with its own database, Redis key prefix and SMTP server.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stdout)]

mod account_page;
mod accounts;
mod agency_admin;
mod backoffice;
mod browser;
mod browser_passkeys;
mod businesses;
mod catalog;
mod cli;
mod conformance;
mod dossiers;
mod dpop;
mod errors;
mod faults;
mod harness;
mod health;
mod helpers;
mod national_portal;
mod oidc;
mod oidc_advanced;
mod oidc_flow;
mod oidc_independent;
mod outbox;
mod passkeys;
mod payments;
mod staff;
mod staff_passkeys;
mod strong_sign_in;
mod trust_account;
mod trust_business;
mod trust_claims;
mod trust_hardening;
mod trust_identity;
mod trust_tokens;
mod vault;
mod vneid;
mod webhooks;
