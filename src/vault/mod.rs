//! The once-only data vault: each person's and business's verified data and
//! the results the city issued them, encrypted at rest, reused to prefill new
//! dossiers, and every read by someone else logged for the owner to see.
//!
//! - `crypto`: the master keyring and per-item data keys (envelope encryption);
//! - `records`: typed data (stored, or held by the identity core) and its views;
//! - `documents`: result files, staged by a civil servant and issued signed on
//!   approval; reading them back checks their SHA-256;
//! - `signing`: the agencies' ECDSA P-256 keys;
//! - `prefill`: a new draft's values and documents from the vault;
//! - `access`: the access log;
//! - `export`: everything of an owner as one archive;
//! - `keys`: the master-key check at start and rotation.

pub mod access;
pub mod documents;
pub mod export;
pub mod keys;
pub mod prefill;
pub mod records;
pub mod signing;

use uuid::Uuid;

/// The associated data binding an item's payload to its owner too (the
/// owner-bound format of `crate::crypto::keyring::DataKey::encrypt_bound`): `context` (the
/// item's) and the owner columns of its row.
pub(crate) fn owner_bound(context: &str, account: Option<Uuid>, business: Option<Uuid>) -> String {
    match (account, business) {
        (Some(a), None) => format!("{context};owner=account:{a}"),
        (None, Some(b)) => format!("{context};owner=business:{b}"),
        (Some(a), Some(b)) => format!("{context};owner=account:{a},business:{b}"),
        (None, None) => format!("{context};owner=none"),
    }
}

/// The associated data binding a record's data key (and its payload of the
/// first format) to it.
pub(crate) fn record_context(id: Uuid) -> String {
    format!("vault.record:{id}")
}

/// The associated data binding a document's data key (and its file of the
/// first format) to it.
pub(crate) fn document_context(id: Uuid) -> String {
    format!("vault.document:{id}")
}

/// Where a document's encrypted bytes live in the object store.
pub(crate) fn object_path(id: Uuid) -> object_store::path::Path {
    object_store::path::Path::from(format!("vault/{id}"))
}
