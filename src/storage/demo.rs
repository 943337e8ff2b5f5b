//! What `seed --demo` checks before it writes: whether the database holds
//! accounts other than the demonstration ones.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{accounts, staff};

/// Citizens' accounts whose national ID is not one of `demo_ids`, and civil
/// servants whose username is not one of `demo_usernames`.
pub async fn accounts_other_than(
    conn: &mut AsyncPgConnection,
    demo_ids: &[&str],
    demo_usernames: &[String],
) -> QueryResult<(i64, i64)> {
    let citizens = accounts::table
        .filter(accounts::national_id.ne_all(demo_ids))
        .count()
        .get_result::<i64>(conn)
        .await?;
    let civil_servants = staff::table
        .filter(staff::username.ne_all(demo_usernames))
        .count()
        .get_result::<i64>(conn)
        .await?;
    Ok((citizens, civil_servants))
}
