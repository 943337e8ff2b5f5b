//! The `businesses` and `business_authorizations` tables.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{accounts, business_authorizations, businesses};

/// A business row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = businesses)]
pub struct BusinessRow {
    /// Id.
    pub id: Uuid,
    /// Tax code (10 digits, or 10-3 for a branch).
    pub tax_code: String,
    /// Registered name.
    pub name: String,
    /// Head-office address.
    pub address: String,
    /// The legal representative's account.
    pub representative_id: Uuid,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Inserts a business; `Ok(false)` when the tax code already has an account.
pub async fn insert(conn: &mut AsyncPgConnection, row: &BusinessRow) -> QueryResult<bool> {
    diesel::insert_into(businesses::table)
        .values(row)
        .on_conflict(businesses::tax_code)
        .do_nothing()
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// Loads a business.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<BusinessRow> {
    businesses::table
        .find(id)
        .select(BusinessRow::as_select())
        .first(conn)
        .await
}

/// How an account may act for a business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capacity {
    /// The legal representative.
    Representative,
    /// Authorised by the representative, until the given time (if any).
    Authorized(Option<DateTime<Utc>>),
}

/// The businesses `account` may act for at `now`, with how, by name.
pub async fn acting_for(
    conn: &mut AsyncPgConnection,
    account: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Vec<(BusinessRow, Capacity)>> {
    let mut list: Vec<(BusinessRow, Capacity)> = businesses::table
        .filter(businesses::representative_id.eq(account))
        .select(BusinessRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(|b| (b, Capacity::Representative))
        .collect();
    let authorized: Vec<(BusinessRow, Option<DateTime<Utc>>)> = business_authorizations::table
        .inner_join(businesses::table)
        .filter(business_authorizations::account_id.eq(account))
        .filter(business_authorizations::revoked_at.is_null())
        .filter(
            business_authorizations::valid_until
                .is_null()
                .or(business_authorizations::valid_until.gt(now)),
        )
        .select((
            BusinessRow::as_select(),
            business_authorizations::valid_until,
        ))
        .load(conn)
        .await?;
    for (b, until) in authorized {
        if !list.iter().any(|(x, _)| x.id == b.id) {
            list.push((b, Capacity::Authorized(until)));
        }
    }
    list.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    Ok(list)
}

/// An authorisation row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = business_authorizations)]
pub struct AuthorizationRow {
    /// Id.
    pub id: Uuid,
    /// The business.
    pub business_id: Uuid,
    /// The authorised citizen.
    pub account_id: Uuid,
    /// The representative who granted it.
    pub granted_by: Uuid,
    /// Expiry.
    pub valid_until: Option<DateTime<Utc>>,
    /// When revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Grants an authorisation, replacing an active one for the same person.
pub async fn grant(conn: &mut AsyncPgConnection, row: &AuthorizationRow) -> QueryResult<()> {
    diesel::update(
        business_authorizations::table
            .filter(business_authorizations::business_id.eq(row.business_id))
            .filter(business_authorizations::account_id.eq(row.account_id))
            .filter(business_authorizations::revoked_at.is_null()),
    )
    .set(business_authorizations::revoked_at.eq(row.created_at))
    .execute(conn)
    .await?;
    diesel::insert_into(business_authorizations::table)
        .values(row)
        .execute(conn)
        .await
        .map(drop)
}

/// Revokes an authorisation of `business`; returns the revoked row, if it was active.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    business: Uuid,
    authorization: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<AuthorizationRow>> {
    diesel::update(
        business_authorizations::table
            .filter(business_authorizations::id.eq(authorization))
            .filter(business_authorizations::business_id.eq(business))
            .filter(business_authorizations::revoked_at.is_null()),
    )
    .set(business_authorizations::revoked_at.eq(now))
    .returning(AuthorizationRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// The active authorisations of a business, with the authorised person's name.
pub async fn authorizations(
    conn: &mut AsyncPgConnection,
    business: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Vec<(AuthorizationRow, String)>> {
    business_authorizations::table
        .inner_join(accounts::table.on(accounts::id.eq(business_authorizations::account_id)))
        .filter(business_authorizations::business_id.eq(business))
        .filter(business_authorizations::revoked_at.is_null())
        .filter(
            business_authorizations::valid_until
                .is_null()
                .or(business_authorizations::valid_until.gt(now)),
        )
        .order(business_authorizations::created_at)
        .select((AuthorizationRow::as_select(), accounts::full_name))
        .load(conn)
        .await
}
