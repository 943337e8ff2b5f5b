//! Documents: staged results, issued papers, the dossiers' references to
//! them, and the public check of one.

use super::*;

/// Inserts a document.
pub async fn insert_document(conn: &mut AsyncPgConnection, row: &DocumentRow) -> QueryResult<()> {
    diesel::insert_into(vault_documents::table)
        .values(row.clone())
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
        .filter(vault_documents::status.eq(DocumentStatus::Issued.as_str()))
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
        .filter(vault_documents::status.eq(DocumentStatus::Staged.as_str()))
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
            .filter(vault_documents::status.eq(DocumentStatus::Staged.as_str())),
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
            vault_documents::status.eq(DocumentStatus::Issued.as_str()),
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
        .filter(vault_documents::status.eq(DocumentStatus::Issued.as_str()))
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

/// The result issued for a dossier.
pub async fn issued_for(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
) -> QueryResult<Option<DocumentRow>> {
    vault_documents::table
        .filter(vault_documents::source_dossier_id.eq(dossier))
        .filter(vault_documents::status.eq(DocumentStatus::Issued.as_str()))
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
    use crate::storage::schema::agencies;
    vault_documents::table
        .left_join(agency_signing_keys::table)
        .left_join(agencies::table)
        .filter(vault_documents::id.eq(id))
        .filter(vault_documents::status.eq(DocumentStatus::Issued.as_str()))
        .select((
            DocumentRow::as_select(),
            Option::<SigningKeyRow>::as_select(),
            agencies::name.nullable(),
        ))
        .first(conn)
        .await
        .optional()
}
