//! Ho Chi Minh City citizen e-services: one verified account per citizen and
//! business, the city's OpenID provider, e-dossiers, and the once-only vault.
//!
//! `main.rs` is only the command line; everything else is here so the
//! integration tests drive the same code.

pub mod admin;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod dossiers;
pub mod error;
pub mod http;
pub mod identity;
pub mod infra;
pub mod integrations;
pub mod kv;
pub mod metrics;
pub mod notify;
pub mod oidc;
pub mod payments;
pub mod seed;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod vault;
