//! The owner's access log and how their identity was verified.

use super::*;

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
