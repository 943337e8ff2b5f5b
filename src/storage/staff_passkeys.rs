//! An agency's passkey policy for its civil servants.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::agencies;

/// Whether the agency requires passkeys of its civil servants (`false` for
/// an unknown agency).
pub async fn required(conn: &mut AsyncPgConnection, agency: &str) -> QueryResult<bool> {
    Ok(agencies::table
        .find(agency)
        .select(agencies::staff_passkeys_required)
        .first(conn)
        .await
        .optional()?
        .unwrap_or(false))
}

/// Sets the policy, locking the agency's row; returns what it was before,
/// or `None` for an unknown agency.
pub async fn set_required(
    conn: &mut AsyncPgConnection,
    agency: &str,
    required: bool,
) -> QueryResult<Option<bool>> {
    let before: Option<bool> = agencies::table
        .find(agency)
        .select(agencies::staff_passkeys_required)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    if before.is_some() {
        diesel::update(agencies::table.find(agency))
            .set(agencies::staff_passkeys_required.eq(required))
            .execute(conn)
            .await?;
    }
    Ok(before)
}

/// How many passkeys each civil servant of the agency has (those with none
/// are absent).
pub async fn counts_in_agency(
    conn: &mut AsyncPgConnection,
    agency: &str,
) -> QueryResult<std::collections::HashMap<uuid::Uuid, i64>> {
    use super::schema::{passkey_owners, passkeys, staff};
    let rows: Vec<(uuid::Uuid, i64)> = passkeys::table
        .inner_join(passkey_owners::table)
        .inner_join(staff::table.on(passkey_owners::staff_id.eq(staff::id.nullable())))
        .filter(staff::agency_code.eq(agency))
        .group_by(staff::id)
        .select((staff::id, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    Ok(rows.into_iter().collect())
}
