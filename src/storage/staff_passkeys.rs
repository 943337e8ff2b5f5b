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
