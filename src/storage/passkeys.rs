//! Passkeys and their owners' WebAuthn user handles.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{passkey_owners, passkeys};

/// Whose passkeys: a citizen's account or a civil servant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A citizen's (or business representative's) account.
    Account(Uuid),
    /// A civil servant.
    Staff(Uuid),
}

/// A stored passkey.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = passkeys)]
pub struct PasskeyRow {
    /// Id (public, in the API).
    pub id: Uuid,
    /// The owner's user handle.
    pub user_handle: Uuid,
    /// The authenticator's credential id.
    pub credential_id: Vec<u8>,
    /// The name its owner gave it.
    pub name: String,
    /// The verified credential (public key, flags), as the library keeps it.
    pub credential: serde_json::Value,
    /// The signature counter last seen.
    pub sign_count: i64,
    /// Backup eligible (a synced passkey).
    pub synced: bool,
    /// Registered.
    pub created_at: DateTime<Utc>,
    /// Last used to sign in.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The owner's user handle, created on first use (concurrent first uses
/// agree on one).
pub async fn handle_for(
    conn: &mut AsyncPgConnection,
    owner: Owner,
    now: DateTime<Utc>,
) -> QueryResult<Uuid> {
    if let Some(existing) = find_handle(conn, owner).await? {
        return Ok(existing);
    }
    let (account_id, staff_id) = match owner {
        Owner::Account(id) => (Some(id), None),
        Owner::Staff(id) => (None, Some(id)),
    };
    diesel::insert_into(passkey_owners::table)
        .values((
            passkey_owners::user_handle.eq(Uuid::new_v4()),
            passkey_owners::account_id.eq(account_id),
            passkey_owners::staff_id.eq(staff_id),
            passkey_owners::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    find_handle(conn, owner)
        .await?
        .ok_or(diesel::result::Error::NotFound)
}

/// The owner's user handle, if they ever registered a passkey.
pub async fn find_handle(conn: &mut AsyncPgConnection, owner: Owner) -> QueryResult<Option<Uuid>> {
    let query = passkey_owners::table.select(passkey_owners::user_handle);
    match owner {
        Owner::Account(id) => {
            query
                .filter(passkey_owners::account_id.eq(id))
                .first(conn)
                .await
        }
        Owner::Staff(id) => {
            query
                .filter(passkey_owners::staff_id.eq(id))
                .first(conn)
                .await
        }
    }
    .optional()
}

/// Who a user handle names.
pub async fn owner_of(conn: &mut AsyncPgConnection, handle: Uuid) -> QueryResult<Option<Owner>> {
    let row: Option<(Option<Uuid>, Option<Uuid>)> = passkey_owners::table
        .find(handle)
        .select((passkey_owners::account_id, passkey_owners::staff_id))
        .first(conn)
        .await
        .optional()?;
    Ok(match row {
        Some((Some(account), _)) => Some(Owner::Account(account)),
        Some((None, Some(staff))) => Some(Owner::Staff(staff)),
        _ => None,
    })
}

/// The owner's passkeys, newest first.
pub async fn list(conn: &mut AsyncPgConnection, owner: Owner) -> QueryResult<Vec<PasskeyRow>> {
    let Some(handle) = find_handle(conn, owner).await? else {
        return Ok(Vec::new());
    };
    passkeys::table
        .filter(passkeys::user_handle.eq(handle))
        .order(passkeys::created_at.desc())
        .select(PasskeyRow::as_select())
        .load(conn)
        .await
}

/// How many passkeys the owner has.
pub async fn count(conn: &mut AsyncPgConnection, owner: Owner) -> QueryResult<i64> {
    let Some(handle) = find_handle(conn, owner).await? else {
        return Ok(0);
    };
    passkeys::table
        .filter(passkeys::user_handle.eq(handle))
        .count()
        .get_result(conn)
        .await
}

/// Stores a new passkey; `false` if its credential id is already registered
/// (to anyone).
pub async fn insert(conn: &mut AsyncPgConnection, row: &PasskeyRow) -> QueryResult<bool> {
    let n = diesel::insert_into(passkeys::table)
        .values(row)
        .on_conflict(passkeys::credential_id)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// The passkey of a credential id, whoever owns it.
pub async fn find_by_credential(
    conn: &mut AsyncPgConnection,
    credential_id: &[u8],
) -> QueryResult<Option<PasskeyRow>> {
    passkeys::table
        .filter(passkeys::credential_id.eq(credential_id))
        .select(PasskeyRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Records a use: the new credential state and counter, only if the counter
/// moved forward (or both are zero: an authenticator without a counter).
/// `false` when another use got there first with this or a higher count: a
/// replay or a clone.
pub async fn record_use(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    credential: &serde_json::Value,
    sign_count: i64,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let advanced = passkeys::sign_count.lt(sign_count).or(passkeys::sign_count
        .eq(0)
        .and(sign_count.into_sql::<diesel::sql_types::Int8>().eq(0)));
    let n = diesel::update(passkeys::table.find(id).filter(advanced))
        .set((
            passkeys::credential.eq(credential),
            passkeys::sign_count.eq(sign_count),
            passkeys::last_used_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// Renames one of the owner's passkeys; the row, or `None` if not theirs.
pub async fn rename(
    conn: &mut AsyncPgConnection,
    owner: Owner,
    id: Uuid,
    name: &str,
) -> QueryResult<Option<PasskeyRow>> {
    let Some(handle) = find_handle(conn, owner).await? else {
        return Ok(None);
    };
    diesel::update(
        passkeys::table
            .find(id)
            .filter(passkeys::user_handle.eq(handle)),
    )
    .set(passkeys::name.eq(name))
    .returning(PasskeyRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Removes one of the owner's passkeys; the row, or `None` if not theirs.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    owner: Owner,
    id: Uuid,
) -> QueryResult<Option<PasskeyRow>> {
    let Some(handle) = find_handle(conn, owner).await? else {
        return Ok(None);
    };
    diesel::delete(
        passkeys::table
            .find(id)
            .filter(passkeys::user_handle.eq(handle)),
    )
    .returning(PasskeyRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Removes every passkey of the owner (a takeover cleared the account).
pub async fn delete_all(conn: &mut AsyncPgConnection, owner: Owner) -> QueryResult<usize> {
    let Some(handle) = find_handle(conn, owner).await? else {
        return Ok(0);
    };
    diesel::delete(passkeys::table.filter(passkeys::user_handle.eq(handle)))
        .execute(conn)
        .await
}
