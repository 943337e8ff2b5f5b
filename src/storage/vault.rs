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
use crate::domain::vault::Owner;

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
    /// `staged` or `issued`.
    pub status: String,
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

// ---- master-key canaries ----

/// Every `(key id, canary)`.
pub async fn key_checks(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, String)>> {
    master_key_checks::table
        .select((master_key_checks::key_id, master_key_checks::canary))
        .load(conn)
        .await
}

/// Records a canary for a key id (once).
pub async fn insert_key_check(
    conn: &mut AsyncPgConnection,
    key_id: &str,
    canary: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(master_key_checks::table)
        .values((
            master_key_checks::key_id.eq(key_id),
            master_key_checks::canary.eq(canary),
            master_key_checks::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|_| ())
}

/// Forgets a key id nothing is sealed under any more.
pub async fn delete_key_check(conn: &mut AsyncPgConnection, key_id: &str) -> QueryResult<()> {
    diesel::delete(master_key_checks::table.find(key_id))
        .execute(conn)
        .await
        .map(|_| ())
}

// ---- signing keys ----

/// The agency's current signing key.
pub async fn active_signing_key(
    conn: &mut AsyncPgConnection,
    agency: &str,
) -> QueryResult<Option<SigningKeyRow>> {
    agency_signing_keys::table
        .filter(agency_signing_keys::agency_code.eq(agency))
        .filter(agency_signing_keys::retired_at.is_null())
        .select(SigningKeyRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Stores a new current key unless the agency got one meanwhile.
pub async fn insert_signing_key(
    conn: &mut AsyncPgConnection,
    row: &SigningKeyRow,
) -> QueryResult<bool> {
    diesel::sql_query(
        "INSERT INTO agency_signing_keys (id, agency_code, algorithm, public_key, private_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (agency_code) WHERE retired_at IS NULL DO NOTHING",
    )
    .bind::<diesel::sql_types::Uuid, _>(row.id)
    .bind::<diesel::sql_types::Text, _>(&row.agency_code)
    .bind::<diesel::sql_types::Text, _>(&row.algorithm)
    .bind::<diesel::sql_types::Bytea, _>(&row.public_key)
    .bind::<diesel::sql_types::Text, _>(&row.private_key)
    .bind::<diesel::sql_types::Timestamptz, _>(row.created_at)
    .execute(conn)
    .await
    .map(|n| n == 1)
}

/// A key by id (current or retired).
pub async fn signing_key(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<SigningKeyRow>> {
    agency_signing_keys::table
        .find(id)
        .select(SigningKeyRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Retires the agency's current key; whether there was one.
pub async fn retire_signing_key(
    conn: &mut AsyncPgConnection,
    agency: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(
        agency_signing_keys::table
            .filter(agency_signing_keys::agency_code.eq(agency))
            .filter(agency_signing_keys::retired_at.is_null()),
    )
    .set(agency_signing_keys::retired_at.eq(now))
    .execute(conn)
    .await
    .map(|n| n > 0)
}

// ---- records ----

/// The owner's current records (of `types`, or all when empty).
pub async fn current_records(
    conn: &mut AsyncPgConnection,
    owner: Owner,
    types: &[String],
) -> QueryResult<Vec<RecordRow>> {
    let mut query = vault_records::table
        .filter(vault_records::superseded_at.is_null())
        .filter(vault_records::deleted_at.is_null())
        .select(RecordRow::as_select())
        .order(vault_records::created_at.asc())
        .filter(records_of(owner))
        .into_boxed();
    if !types.is_empty() {
        query = query.filter(vault_records::record_type.eq_any(types));
    }
    query.load(conn).await
}

/// Marks the owner's current records of this type and provenance superseded.
pub async fn supersede_records(
    conn: &mut AsyncPgConnection,
    owner: Owner,
    record_type: &str,
    provenance: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        vault_records::table
            .filter(records_of(owner))
            .filter(vault_records::record_type.eq(record_type))
            .filter(vault_records::provenance.eq(provenance))
            .filter(vault_records::superseded_at.is_null())
            .filter(vault_records::deleted_at.is_null()),
    )
    .set(vault_records::superseded_at.eq(now))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Inserts a record.
pub async fn insert_record(conn: &mut AsyncPgConnection, row: &RecordRow) -> QueryResult<()> {
    diesel::insert_into(vault_records::table)
        .values(row)
        .execute(conn)
        .await
        .map(|_| ())
}

/// A record by id, for update.
pub async fn record_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<RecordRow>> {
    vault_records::table
        .find(id)
        .select(RecordRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Marks a record deleted and erases its content (the data key with it).
pub async fn delete_record(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(vault_records::table.find(id))
        .set((
            vault_records::deleted_at.eq(now),
            vault_records::data_key.eq(""),
            vault_records::payload.eq(Vec::<u8>::new()),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

// ---- documents ----

/// Inserts a document.
pub async fn insert_document(conn: &mut AsyncPgConnection, row: &DocumentRow) -> QueryResult<()> {
    diesel::insert_into(vault_documents::table)
        .values(row)
        .execute(conn)
        .await
        .map(|_| ())
}

/// A document by id.
pub async fn document(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<DocumentRow>> {
    vault_documents::table
        .find(id)
        .select(DocumentRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The owner's issued documents, newest first.
pub async fn owner_documents(
    conn: &mut AsyncPgConnection,
    owner: Owner,
) -> QueryResult<Vec<DocumentRow>> {
    let query = vault_documents::table
        .filter(vault_documents::status.eq("issued"))
        .select(DocumentRow::as_select())
        .order(vault_documents::created_at.desc())
        .into_boxed();
    query.filter(documents_of(owner)).load(conn).await
}

/// The result staged for a dossier.
pub async fn staged_for(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
) -> QueryResult<Option<DocumentRow>> {
    vault_documents::table
        .filter(vault_documents::source_dossier_id.eq(dossier))
        .filter(vault_documents::status.eq("staged"))
        .select(DocumentRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Removes the result staged for a dossier; its id, if there was one.
pub async fn delete_staged(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
) -> QueryResult<Option<Uuid>> {
    diesel::delete(
        vault_documents::table
            .filter(vault_documents::source_dossier_id.eq(dossier))
            .filter(vault_documents::status.eq("staged")),
    )
    .returning(vault_documents::id)
    .get_result(conn)
    .await
    .optional()
}

/// Issues a staged document: signed, dated.
#[allow(clippy::too_many_arguments)]
pub async fn issue_document(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    issuer: &str,
    key: Uuid,
    signature: &[u8],
    issued_at: DateTime<Utc>,
    valid_until: Option<DateTime<Utc>>,
    receipt_code: Option<&str>,
) -> QueryResult<()> {
    diesel::update(vault_documents::table.find(id))
        .set((
            vault_documents::status.eq("issued"),
            vault_documents::issuer_agency_code.eq(issuer),
            vault_documents::valid_until.eq(valid_until),
            vault_documents::signing_key_id.eq(key),
            vault_documents::signature.eq(signature),
            vault_documents::issued_at.eq(issued_at),
            vault_documents::receipt_code.eq(receipt_code),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// The owner's issued, unexpired documents that are, or stand for, one of `types`.
pub async fn documents_of_types(
    conn: &mut AsyncPgConnection,
    owner: Owner,
    types: &[String],
    now: DateTime<Utc>,
) -> QueryResult<Vec<DocumentRow>> {
    let query = vault_documents::table
        .filter(vault_documents::status.eq("issued"))
        .filter(
            vault_documents::valid_until
                .is_null()
                .or(vault_documents::valid_until.gt(now)),
        )
        .filter(
            vault_documents::document_type
                .eq_any(types)
                .or(vault_documents::satisfies.overlaps_with(types)),
        )
        .select(DocumentRow::as_select())
        .order(vault_documents::issued_at.desc())
        .into_boxed();
    query.filter(documents_of(owner)).load(conn).await
}

// ---- references from dossiers ----

/// Attaches vault documents to a dossier by reference.
pub async fn insert_refs(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    refs: &[(Uuid, String)],
    now: DateTime<Utc>,
) -> QueryResult<()> {
    if refs.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = refs
        .iter()
        .map(|(doc, required)| {
            (
                dossier_vault_documents::dossier_id.eq(dossier),
                dossier_vault_documents::document_id.eq(*doc),
                dossier_vault_documents::required_type.eq(required.clone()),
                dossier_vault_documents::attached_at.eq(now),
            )
        })
        .collect();
    diesel::insert_into(dossier_vault_documents::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|_| ())
}

/// The vault documents a dossier refers to, with the requirement each fulfils.
pub async fn refs(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
) -> QueryResult<Vec<(String, DocumentRow)>> {
    dossier_vault_documents::table
        .inner_join(vault_documents::table)
        .filter(dossier_vault_documents::dossier_id.eq(dossier))
        .order(dossier_vault_documents::required_type.asc())
        .select((
            dossier_vault_documents::required_type,
            DocumentRow::as_select(),
        ))
        .load(conn)
        .await
}

// ---- access log ----

/// Appends to the access log.
pub async fn log_access(conn: &mut AsyncPgConnection, row: &NewAccess) -> QueryResult<()> {
    diesel::insert_into(vault_access_log::table)
        .values(row)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The owner's access log, newest first (keyset on the row id).
pub async fn access_log(
    conn: &mut AsyncPgConnection,
    owner: Owner,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<AccessRow>> {
    let mut query = vault_access_log::table
        .select(AccessRow::as_select())
        .order(vault_access_log::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(b) = before {
        query = query.filter(vault_access_log::id.lt(b));
    }
    query.filter(accesses_of(owner)).load(conn).await
}

/// How the account's identity was last verified (`vneid`, `counter`).
pub async fn identity_method(
    conn: &mut AsyncPgConnection,
    account: Uuid,
) -> QueryResult<Option<(String, DateTime<Utc>)>> {
    identity_verifications::table
        .filter(identity_verifications::account_id.eq(account))
        .order(identity_verifications::created_at.desc())
        .select((
            identity_verifications::method,
            identity_verifications::created_at,
        ))
        .first(conn)
        .await
        .optional()
}

// ---- values sealed under the master key, for its rotation ----

/// A column holding values sealed under the master key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    /// `vault_records.data_key` (context `vault.record:<id>`).
    RecordKeys,
    /// `vault_documents.data_key` (context `vault.document:<id>`).
    DocumentKeys,
    /// `agency_signing_keys.private_key` (context `vault.signing_key:<id>`).
    AgencySigningKeys,
    /// `oidc_signing_keys.private_key` (context `oidc.signing_key:<kid>`).
    OidcSigningKeys,
    /// `oidc_provider_secrets.sealed` (context: its name).
    ProviderSecrets,
    /// `staff.totp_secret` (context `staff.totp:<id>`).
    StaffTotp,
}

impl SealedColumn {
    /// Every column.
    pub const ALL: [Self; 6] = [
        Self::RecordKeys,
        Self::DocumentKeys,
        Self::AgencySigningKeys,
        Self::OidcSigningKeys,
        Self::ProviderSecrets,
        Self::StaffTotp,
    ];

    /// `(table, id column, id cast, sealed column)`.
    fn sql(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Self::RecordKeys => ("vault_records", "id", "::uuid", "data_key"),
            Self::DocumentKeys => ("vault_documents", "id", "::uuid", "data_key"),
            Self::AgencySigningKeys => ("agency_signing_keys", "id", "::uuid", "private_key"),
            Self::OidcSigningKeys => ("oidc_signing_keys", "kid", "", "private_key"),
            Self::ProviderSecrets => ("oidc_provider_secrets", "name", "", "sealed"),
            Self::StaffTotp => ("staff", "id", "::uuid", "totp_secret"),
        }
    }

    /// A name for reports.
    pub fn name(self) -> &'static str {
        let (table, _, _, column) = self.sql();
        match self {
            Self::RecordKeys | Self::DocumentKeys => table,
            _ => column,
        }
    }

    /// The sealing context of the value of row `id`.
    pub fn context(self, id: &str) -> String {
        match self {
            Self::RecordKeys => format!("vault.record:{id}"),
            Self::DocumentKeys => format!("vault.document:{id}"),
            Self::AgencySigningKeys => format!("vault.signing_key:{id}"),
            Self::OidcSigningKeys => format!("oidc.signing_key:{id}"),
            Self::ProviderSecrets => id.to_owned(),
            Self::StaffTotp => format!("staff.totp:{id}"),
        }
    }
}

#[derive(QueryableByName)]
struct SealedValue {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    sealed: String,
}

/// Up to `limit` `(id, sealed)` of `column` not sealed under `active`.
pub async fn sealed_not_under(
    conn: &mut AsyncPgConnection,
    column: SealedColumn,
    active: &str,
    limit: i64,
) -> QueryResult<Vec<(String, String)>> {
    let (table, id, _, sealed) = column.sql();
    diesel::sql_query(format!(
        "SELECT {id}::text AS id, {sealed} AS sealed FROM {table} \
         WHERE {sealed} IS NOT NULL AND {sealed} <> '' AND {sealed} NOT LIKE $1 LIMIT $2"
    ))
    .bind::<diesel::sql_types::Text, _>(format!("v1.{active}.%"))
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load::<SealedValue>(conn)
    .await
    .map(|rows| rows.into_iter().map(|r| (r.id, r.sealed)).collect())
}

/// Replaces a sealed value, if it is still `old`.
pub async fn reseal(
    conn: &mut AsyncPgConnection,
    column: SealedColumn,
    id: &str,
    old: &str,
    new: &str,
) -> QueryResult<()> {
    let (table, id_column, cast, sealed) = column.sql();
    diesel::sql_query(format!(
        "UPDATE {table} SET {sealed} = $3 WHERE {id_column} = $1{cast} AND {sealed} = $2"
    ))
    .bind::<diesel::sql_types::Text, _>(id)
    .bind::<diesel::sql_types::Text, _>(old)
    .bind::<diesel::sql_types::Text, _>(new)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Master-key ids any sealed value in the database uses.
pub async fn key_ids_in_use(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Kid {
        #[diesel(sql_type = diesel::sql_types::Text)]
        kid: String,
    }
    let parts: Vec<String> = SealedColumn::ALL
        .iter()
        .map(|c| {
            let (table, _, _, sealed) = c.sql();
            format!(
                "SELECT DISTINCT split_part({sealed}, '.', 2) AS kid FROM {table} \
                 WHERE {sealed} IS NOT NULL AND {sealed} <> ''"
            )
        })
        .collect();
    diesel::sql_query(parts.join(" UNION "))
        .load::<Kid>(conn)
        .await
        .map(|rows| rows.into_iter().map(|r| r.kid).collect())
}

/// The result issued for a dossier.
pub async fn issued_for(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
) -> QueryResult<Option<DocumentRow>> {
    vault_documents::table
        .filter(vault_documents::source_dossier_id.eq(dossier))
        .filter(vault_documents::status.eq("issued"))
        .select(DocumentRow::as_select())
        .order(vault_documents::issued_at.desc())
        .first(conn)
        .await
        .optional()
}

/// An issued document with the key that signed it and its issuer's name,
/// in one read (the public check).
pub async fn verification(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<(DocumentRow, Option<SigningKeyRow>, Option<String>)>> {
    use super::schema::agencies;
    vault_documents::table
        .left_join(agency_signing_keys::table)
        .left_join(agencies::table)
        .filter(vault_documents::id.eq(id))
        .filter(vault_documents::status.eq("issued"))
        .select((
            DocumentRow::as_select(),
            Option::<SigningKeyRow>::as_select(),
            agencies::name.nullable(),
        ))
        .first(conn)
        .await
        .optional()
}
