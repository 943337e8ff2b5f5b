//! Master-key canaries and agencies' signing keys.

use super::*;

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
