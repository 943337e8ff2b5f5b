//! What an account holder sees about themself: profile, businesses, security events.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::infra::Core;
use crate::{
    domain::{AccountId, BusinessId},
    error::AppResult,
    storage::{accounts, businesses},
};

/// A business the person may act for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ActingFor)]
pub struct BusinessView {
    /// Id.
    #[schema(value_type = uuid::Uuid)]
    pub id: BusinessId,
    /// Tax code.
    pub tax_code: String,
    /// Name.
    pub name: String,
    /// `representative` or `authorized`.
    pub role: &'static str,
    /// End of an authorisation.
    pub valid_until: Option<DateTime<Utc>>,
}

/// The profile of `GET /api/v1/me`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Profile {
    /// Account id.
    #[schema(value_type = uuid::Uuid)]
    pub id: AccountId,
    /// National ID.
    pub national_id: String,
    /// Full name.
    pub full_name: String,
    /// Date of birth.
    pub date_of_birth: chrono::NaiveDate,
    /// `male` or `female`.
    pub sex: String,
    /// Email.
    pub email: Option<String>,
    /// Whether the email is verified.
    pub email_verified: bool,
    /// Phone (E.164).
    pub phone: Option<String>,
    /// Whether the phone was verified by SMS.
    pub phone_verified: bool,
    /// Assurance level (1 or 2).
    pub assurance_level: i16,
    /// Businesses the person may act for.
    pub businesses: Vec<BusinessView>,
    /// The business this session acts for, if any.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub acting_for: Option<BusinessId>,
}

/// Loads the profile of `account`.
pub async fn profile(
    state: &Core,
    account: AccountId,
    acting_for: Option<BusinessId>,
) -> AppResult<Profile> {
    let mut conn = state.db.get().await?;
    let row = accounts::find(&mut conn, account.as_uuid()).await?;
    let list = businesses::acting_for(&mut conn, account.as_uuid(), state.clock.now()).await?;
    Ok(Profile {
        id: account,
        national_id: row.national_id,
        full_name: row.full_name,
        date_of_birth: row.date_of_birth,
        sex: row.sex,
        email_verified: row.email_verified_at.is_some(),
        email: row.email,
        phone_verified: row.phone_verified_at.is_some(),
        phone: row.phone,
        assurance_level: row.assurance_level,
        businesses: list
            .into_iter()
            .map(|(b, capacity)| BusinessView {
                id: BusinessId::from(b.id),
                tax_code: b.tax_code,
                name: b.name,
                role: match capacity {
                    businesses::Capacity::Representative => "representative",
                    businesses::Capacity::Authorized(_) => "authorized",
                },
                valid_until: match capacity {
                    businesses::Capacity::Representative => None,
                    businesses::Capacity::Authorized(until) => until,
                },
            })
            .collect(),
        acting_for,
    })
}

/// A security event as its owner sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventView {
    /// Id (also the pagination cursor).
    pub id: uuid::Uuid,
    /// What happened.
    pub kind: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Client address.
    pub ip: Option<String>,
    /// Client software.
    pub user_agent: Option<String>,
    /// Details.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// The account's events, newest first, keyset-paginated by `before` (an event id).
pub async fn events(
    state: &Core,
    account: AccountId,
    before: Option<uuid::Uuid>,
    limit: i64,
) -> AppResult<Vec<EventView>> {
    let mut conn = state.db.get().await?;
    let cursor = match before {
        Some(id) => accounts::event_cursor(&mut conn, account.as_uuid(), id).await?,
        None => None,
    };
    Ok(
        accounts::events(&mut conn, account.as_uuid(), cursor, limit)
            .await?
            .into_iter()
            .map(|e| EventView {
                id: e.id,
                kind: e.kind,
                at: e.created_at,
                ip: e.ip,
                user_agent: e.user_agent,
                detail: e.detail,
            })
            .collect(),
    )
}
