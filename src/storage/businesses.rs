//! The `businesses` and `business_authorizations` tables.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{accounts, business_authorizations, businesses};
use crate::domain::business::RegistrationStatus;

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
    /// `pending`, `confirmed` or `rejected` (`domain::business::RegistrationStatus`).
    pub status: String,
    /// The one-stop desk where the citizen will show the papers.
    pub desk_agency_code: Option<String>,
    /// When a receiver decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// The receiver who decided.
    pub decided_by: Option<Uuid>,
    /// Their agency.
    pub decided_agency_code: Option<String>,
    /// What the receiver checked, or why they refused.
    pub decision_evidence: Option<String>,
}

/// Inserts a business; `Ok(false)` when a pending or confirmed registration
/// already holds the tax code (nothing changes for it).
pub async fn insert(conn: &mut AsyncPgConnection, row: &BusinessRow) -> QueryResult<bool> {
    diesel::insert_into(businesses::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// Loads a business and locks its row.
pub async fn find_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<BusinessRow> {
    businesses::table
        .find(id)
        .select(BusinessRow::as_select())
        .for_update()
        .first(conn)
        .await
}

/// Pending registrations a receiver of `agency` handles (those naming its
/// desk, or no desk), oldest first, with the claimant's name.
pub async fn pending_for_desk(
    conn: &mut AsyncPgConnection,
    agency: &str,
    limit: i64,
) -> QueryResult<Vec<(BusinessRow, String)>> {
    businesses::table
        .inner_join(accounts::table.on(accounts::id.eq(businesses::representative_id)))
        .filter(businesses::status.eq(RegistrationStatus::Pending.as_str()))
        .filter(
            businesses::desk_agency_code
                .eq(agency)
                .or(businesses::desk_agency_code.is_null()),
        )
        .order((businesses::created_at, businesses::id))
        .limit(limit)
        .select((BusinessRow::as_select(), accounts::full_name))
        .load(conn)
        .await
}

/// What a receiver decided about a pending registration.
#[derive(Debug, Clone)]
pub struct Decided<'a> {
    /// The new status (`confirmed` or `rejected`).
    pub status: RegistrationStatus,
    /// When.
    pub at: DateTime<Utc>,
    /// The receiver.
    pub by: Uuid,
    /// Their agency.
    pub agency_code: &'a str,
    /// What they checked or why they refused.
    pub evidence: &'a str,
}

/// Records the decision on a registration that is still pending; `Ok(false)`
/// if it was not.
pub async fn decide(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    decided: &Decided<'_>,
) -> QueryResult<bool> {
    diesel::update(
        businesses::table
            .find(id)
            .filter(businesses::status.eq(RegistrationStatus::Pending.as_str())),
    )
    .set((
        businesses::status.eq(decided.status.as_str()),
        businesses::decided_at.eq(decided.at),
        businesses::decided_by.eq(decided.by),
        businesses::decided_agency_code.eq(decided.agency_code),
        businesses::decision_evidence.eq(decided.evidence),
    ))
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

/// The businesses `account` may act for at `now`, with how, by name. Only
/// confirmed registrations count: a pending or rejected claim gives nothing.
pub async fn acting_for(
    conn: &mut AsyncPgConnection,
    account: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Vec<(BusinessRow, Capacity)>> {
    let mut list: Vec<(BusinessRow, Capacity)> = businesses::table
        .filter(businesses::representative_id.eq(account))
        .filter(businesses::status.eq(RegistrationStatus::Confirmed.as_str()))
        .select(BusinessRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(|b| (b, Capacity::Representative))
        .collect();
    let authorized: Vec<(BusinessRow, Option<DateTime<Utc>>)> = business_authorizations::table
        .inner_join(businesses::table)
        .filter(business_authorizations::account_id.eq(account))
        .filter(businesses::status.eq(RegistrationStatus::Confirmed.as_str()))
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
