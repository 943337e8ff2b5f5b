//! Records: current ones, superseding, deleting.

use super::*;

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
