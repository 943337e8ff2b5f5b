//! Cryptographic building blocks every feature shares: random tokens and
//! their stored hashes, and sealing at rest under the master keyring.
//! Imports nothing of the crate.

pub mod keyring;
pub mod tokens;
