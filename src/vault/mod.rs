//! The once-only data vault. So far: the envelope encryption every secret at
//! rest goes through (the master key from `VAULT_MASTER_KEY`).

pub mod crypto;
