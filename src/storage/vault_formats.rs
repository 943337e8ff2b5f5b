//! Vault record payloads still in the first format (the record id alone as
//! associated data, no owner), found and replaced for their upgrade to the
//! owner-bound format.

use diesel::{dsl::sql, prelude::*, sql_types::Bool};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{schema::vault_records, vault::RecordRow};

/// Up to `limit` records after `after` (by id) whose payload does not start
/// with `prefix` (erased payloads are skipped).
pub async fn records_without_prefix(
    conn: &mut AsyncPgConnection,
    prefix: &[u8],
    after: Uuid,
    limit: i64,
) -> QueryResult<Vec<RecordRow>> {
    let prefix_len = i32::try_from(prefix.len()).unwrap_or(i32::MAX);
    vault_records::table
        .filter(vault_records::id.gt(after))
        .filter(sql::<Bool>("length(payload) > 0"))
        .filter(
            sql::<Bool>("substring(payload from 1 for ")
                .bind::<diesel::sql_types::Integer, _>(prefix_len)
                .sql(") <> ")
                .bind::<diesel::sql_types::Binary, _>(prefix.to_vec()),
        )
        .order(vault_records::id)
        .limit(limit)
        .select(RecordRow::as_select())
        .load(conn)
        .await
}

/// Replaces a record's payload if it is still `old`; whether it did.
pub async fn replace_payload(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    old: &[u8],
    new: &[u8],
) -> QueryResult<bool> {
    diesel::update(
        vault_records::table
            .filter(vault_records::id.eq(id))
            .filter(vault_records::payload.eq(old)),
    )
    .set(vault_records::payload.eq(new))
    .execute(conn)
    .await
    .map(|n| n == 1)
}
