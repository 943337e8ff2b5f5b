//! The vault's tables: records, documents, the dossiers' references to them,
//! agencies' signing keys, the access log and the master-key canaries.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{
    agency_signing_keys, dossier_vault_documents, identity_verifications, master_key_checks,
    vault_access_log, vault_documents, vault_records,
};
use crate::domain::vault::{DocumentStatus, Owner};

/// An agency's signing key.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = agency_signing_keys)]
pub struct SigningKeyRow {
    /// Key id.
    pub id: Uuid,
    /// The agency.
    pub agency_code: String,
    /// `ES256`.
    pub algorithm: String,
    /// Uncompressed SEC1 point.
    pub public_key: Vec<u8>,
    /// Sealed PKCS#8.
    pub private_key: String,
    /// Made.
    pub created_at: DateTime<Utc>,
    /// Retired (it still verifies what it signed).
    pub retired_at: Option<DateTime<Utc>>,
}

/// A stored record.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = vault_records)]
pub struct RecordRow {
    /// Id.
    pub id: Uuid,
    /// The person.
    pub account_id: Option<Uuid>,
    /// The business.
    pub business_id: Option<Uuid>,
    /// Record type.
    pub record_type: String,
    /// Sealed data key.
    pub data_key: String,
    /// Encrypted JSON.
    pub payload: Vec<u8>,
    /// Provenance.
    pub provenance: String,
    /// The agency that established it.
    pub source_agency_code: Option<String>,
    /// The dossier it came from.
    pub source_dossier_id: Option<Uuid>,
    /// Verified by the state.
    pub verified: bool,
    /// Holds since.
    pub issued_at: DateTime<Utc>,
    /// Holds until.
    pub valid_until: Option<DateTime<Utc>>,
    /// Stored.
    pub created_at: DateTime<Utc>,
    /// Replaced by a newer one.
    pub superseded_at: Option<DateTime<Utc>>,
    /// Deleted by its owner.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A stored document.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = vault_documents)]
pub struct DocumentRow {
    /// Id.
    pub id: Uuid,
    /// The person.
    pub account_id: Option<Uuid>,
    /// The business.
    pub business_id: Option<Uuid>,
    /// Document type code.
    pub document_type: String,
    /// Required-document codes it also stands for.
    pub satisfies: Vec<String>,
    /// What it is, in Vietnamese.
    pub title: String,
    /// File name.
    pub file_name: String,
    /// Media type.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the plaintext.
    pub sha256: Vec<u8>,
    /// Sealed data key.
    pub data_key: String,
    /// Staged or issued.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: DocumentStatus,
    /// Issuing agency.
    pub issuer_agency_code: Option<String>,
    /// The dossier it decided.
    pub source_dossier_id: Option<Uuid>,
    /// That dossier's receipt code.
    pub receipt_code: Option<String>,
    /// Issued.
    pub issued_at: Option<DateTime<Utc>>,
    /// Valid until.
    pub valid_until: Option<DateTime<Utc>>,
    /// The signing key.
    pub signing_key_id: Option<Uuid>,
    /// ECDSA P-256 signature (fixed, r || s).
    pub signature: Option<Vec<u8>>,
    /// Stored.
    pub created_at: DateTime<Utc>,
}

/// An access-log row to write.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = vault_access_log)]
pub struct NewAccess {
    /// The person whose data was read.
    pub account_id: Option<Uuid>,
    /// The business whose data was read.
    pub business_id: Option<Uuid>,
    /// When.
    pub at: DateTime<Utc>,
    /// `staff` or `client`.
    pub reader_kind: String,
    /// The civil servant.
    pub staff_id: Option<Uuid>,
    /// Their agency.
    pub agency_code: Option<String>,
    /// The integrator.
    pub client_id: Option<String>,
    /// The scope it used.
    pub scope: Option<String>,
    /// The dossier that justified it.
    pub dossier_id: Option<Uuid>,
    /// Vault keys or `document:<id>`.
    pub items: Vec<String>,
    /// Why, in Vietnamese.
    pub purpose: String,
}

/// An access-log row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = vault_access_log)]
pub struct AccessRow {
    /// Position.
    pub id: i64,
    /// The person.
    pub account_id: Option<Uuid>,
    /// The business.
    pub business_id: Option<Uuid>,
    /// When.
    pub at: DateTime<Utc>,
    /// `staff` or `client`.
    pub reader_kind: String,
    /// The civil servant.
    pub staff_id: Option<Uuid>,
    /// Their agency.
    pub agency_code: Option<String>,
    /// The integrator.
    pub client_id: Option<String>,
    /// The scope.
    pub scope: Option<String>,
    /// The dossier.
    pub dossier_id: Option<Uuid>,
    /// What was read.
    pub items: Vec<String>,
    /// Why.
    pub purpose: String,
}

/// A `WHERE` on a table's (account_id, business_id) pair: the owner's rows.
type OwnedBy<T> = Box<
    dyn BoxableExpression<
            T,
            diesel::pg::Pg,
            SqlType = diesel::sql_types::Nullable<diesel::sql_types::Bool>,
        >,
>;

macro_rules! owned_by {
    ($name:ident, $table:ident) => {
        fn $name(owner: Owner) -> OwnedBy<$table::table> {
            match owner {
                Owner::Account(a) => Box::new($table::account_id.eq(a.as_uuid())),
                Owner::Business(b) => Box::new($table::business_id.eq(b.as_uuid())),
            }
        }
    };
}
owned_by!(records_of, vault_records);
owned_by!(documents_of, vault_documents);
owned_by!(accesses_of, vault_access_log);

mod access;
mod documents;
mod keys;
mod records;
mod sealed;

pub use access::*;
pub use documents::*;
pub use keys::*;
pub use records::*;
pub use sealed::*;
