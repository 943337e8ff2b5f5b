//! The `accounts`, `identity_verifications`, `federated_identities` and
//! `auth_events` tables.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{accounts, auth_events, federated_identities, identity_verifications};

/// A citizen account row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
pub struct AccountRow {
    /// Id.
    pub id: Uuid,
    /// 12-digit national ID.
    pub national_id: String,
    /// Full name (NFC).
    pub full_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// `male` or `female`.
    pub sex: String,
    /// Email address, verified or not.
    pub email: Option<String>,
    /// When the email was verified.
    pub email_verified_at: Option<DateTime<Utc>>,
    /// Mobile phone, E.164.
    pub phone: Option<String>,
    /// argon2id PHC string.
    pub password_hash: Option<String>,
    /// When the password was last set.
    pub password_changed_at: Option<DateTime<Utc>>,
    /// 1 or 2.
    pub assurance_level: i16,
    /// `pending`, `active` or `disabled`.
    pub status: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// When the phone was verified by SMS.
    pub phone_verified_at: Option<DateTime<Utc>>,
}

/// Inserts an account; `Ok(false)` when the national ID already has one.
pub async fn insert(conn: &mut AsyncPgConnection, row: &AccountRow) -> QueryResult<bool> {
    diesel::insert_into(accounts::table)
        .values(row)
        .on_conflict(accounts::national_id)
        .do_nothing()
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// Loads an account.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<AccountRow> {
    accounts::table
        .find(id)
        .select(AccountRow::as_select())
        .first(conn)
        .await
}

/// Loads and locks an account for an update in this transaction.
pub async fn find_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<AccountRow> {
    accounts::table
        .find(id)
        .select(AccountRow::as_select())
        .for_update()
        .first(conn)
        .await
}

/// The account of a national ID.
pub async fn find_by_national_id(
    conn: &mut AsyncPgConnection,
    national_id: &str,
) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .filter(accounts::national_id.eq(national_id))
        .select(AccountRow::as_select())
        .first(conn)
        .await
        .optional()
}

diesel::define_sql_function!(
    /// SQL `lower()`, matching the case-insensitive unique index on emails.
    fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>
);

/// The account whose verified email is `email` (case-insensitive).
pub async fn find_by_verified_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .filter(lower(accounts::email).eq(email.to_lowercase()))
        .filter(accounts::email_verified_at.is_not_null())
        .select(AccountRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The newest pending (unverified) registration with `email`.
pub async fn find_pending_by_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .filter(lower(accounts::email).eq(email.to_lowercase()))
        .filter(accounts::status.eq("pending"))
        .order(accounts::created_at.desc())
        .select(AccountRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Whether an account other than `id` has verified `email` (addresses are
/// unique, case-insensitively, once verified).
pub async fn verified_elsewhere(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    email: &str,
) -> QueryResult<bool> {
    accounts::table
        .filter(lower(accounts::email).eq(email.to_lowercase()))
        .filter(accounts::email_verified_at.is_not_null())
        .filter(accounts::id.ne(id))
        .select(accounts::id)
        .first::<Uuid>(conn)
        .await
        .optional()
        .map(|found| found.is_some())
}

/// Marks the email verified and the account active, unless another account
/// verified the same address first (`Ok(false)`).
pub async fn mark_email_verified(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    email: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    if verified_elsewhere(conn, id, email).await? {
        return Ok(false);
    }
    diesel::update(accounts::table.find(id))
        .set((
            accounts::email.eq(email),
            accounts::email_verified_at.eq(now),
            accounts::status.eq(diesel::dsl::sql::<diesel::sql_types::Text>(
                "CASE WHEN status = 'pending' THEN 'active' ELSE status END",
            )),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// Replaces the password hash.
pub async fn set_password_hash(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    hash: &str,
    changed: bool,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let query = diesel::update(accounts::table.find(id));
    if changed {
        query
            .set((
                accounts::password_hash.eq(hash),
                accounts::password_changed_at.eq(now),
                accounts::updated_at.eq(now),
            ))
            .execute(conn)
            .await
            .map(drop)
    } else {
        // A parameter upgrade of the same password: not a change the owner made.
        query
            .set(accounts::password_hash.eq(hash))
            .execute(conn)
            .await
            .map(drop)
    }
}

/// Raises an account to level 2. Its status is left as it is: a proof never
/// activates a registration nobody has used (see `domain::proofing`).
pub async fn raise_to_level_2(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(accounts::table.find(id))
        .set((
            accounts::assurance_level.eq(2),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Deletes an unused registration (`pending`) so the proven person can have
/// the national ID; `Ok(false)` when it is not pending.
pub async fn delete_pending(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    diesel::delete(
        accounts::table
            .find(id)
            .filter(accounts::status.eq("pending")),
    )
    .execute(conn)
    .await
    .map(|n| n == 1)
}

/// Clears everything a claimant put on an unproven account: password, email,
/// phone (and their verifications), known devices, its address and unused
/// email links; the account becomes active for the proven person, who sets
/// their own credentials. `password_changed_at` moves to `now` so anything
/// begun before (refresh-token families) is stale.
pub async fn clear_claimant_credentials(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    use super::schema::{account_addresses, account_devices, email_tokens, phone_verifications};
    diesel::update(accounts::table.find(id))
        .set((
            accounts::password_hash.eq(None::<String>),
            accounts::password_changed_at.eq(Some(now)),
            accounts::email.eq(None::<String>),
            accounts::email_verified_at.eq(None::<DateTime<Utc>>),
            accounts::phone.eq(None::<String>),
            accounts::phone_verified_at.eq(None::<DateTime<Utc>>),
            accounts::status.eq("active"),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    diesel::delete(account_devices::table.filter(account_devices::account_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(phone_verifications::table.filter(phone_verifications::account_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(account_addresses::table.filter(account_addresses::account_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(
        email_tokens::table
            .filter(email_tokens::account_id.eq(id))
            .filter(email_tokens::used_at.is_null()),
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Gives an account an email address that is not verified yet (the proven
/// person's, typed by a receiver at the counter; its link verifies it).
pub async fn set_unverified_email(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    email: &str,
    phone: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(accounts::table.find(id))
        .set((
            accounts::email.eq(Some(email)),
            accounts::email_verified_at.eq(None::<DateTime<Utc>>),
            accounts::phone.eq(phone),
            accounts::phone_verified_at.eq(None::<DateTime<Utc>>),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Replaces name, date of birth and sex with values from a verified source.
pub async fn update_identity(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    full_name: &str,
    date_of_birth: NaiveDate,
    sex: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(accounts::table.find(id))
        .set((
            accounts::full_name.eq(full_name),
            accounts::date_of_birth.eq(date_of_birth),
            accounts::sex.eq(sex),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Deletes registrations whose email was never verified, created before `before`.
pub async fn delete_stale_pending(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(
        accounts::table
            .filter(accounts::status.eq("pending"))
            .filter(accounts::created_at.lt(before)),
    )
    .execute(conn)
    .await
}

/// A proof of identity.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = identity_verifications)]
pub struct NewVerification<'a> {
    /// Id.
    pub id: Uuid,
    /// The account.
    pub account_id: Uuid,
    /// `vneid` or `counter`.
    pub method: &'a str,
    /// The receiver who checked the card.
    pub verified_by: Option<Uuid>,
    /// Their agency.
    pub agency_code: Option<&'a str>,
    /// What was seen.
    pub evidence: Option<&'a str>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Records a proof of identity.
pub async fn insert_verification(
    conn: &mut AsyncPgConnection,
    row: &NewVerification<'_>,
) -> QueryResult<()> {
    diesel::insert_into(identity_verifications::table)
        .values(row)
        .execute(conn)
        .await
        .map(drop)
}

/// The account linked to an upstream identity.
pub async fn find_federated(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    subject: &str,
) -> QueryResult<Option<Uuid>> {
    federated_identities::table
        .find((issuer, subject))
        .select(federated_identities::account_id)
        .first(conn)
        .await
        .optional()
}

/// Links an upstream identity to an account (or refreshes its last use).
pub async fn link_federated(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    subject: &str,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(federated_identities::table)
        .values((
            federated_identities::issuer.eq(issuer),
            federated_identities::subject.eq(subject),
            federated_identities::account_id.eq(account_id),
            federated_identities::created_at.eq(now),
            federated_identities::last_used_at.eq(now),
        ))
        .on_conflict((federated_identities::issuer, federated_identities::subject))
        .do_update()
        .set(federated_identities::last_used_at.eq(now))
        .execute(conn)
        .await
        .map(drop)
}

/// An audit event.
#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = auth_events)]
pub struct AuthEventRow {
    /// Id.
    pub id: Uuid,
    /// The account concerned.
    pub account_id: Uuid,
    /// What happened (`sign_in_succeeded`, `sign_in_failed`, …).
    pub kind: String,
    /// Client address.
    pub ip: Option<String>,
    /// Client software.
    pub user_agent: Option<String>,
    /// Details.
    pub detail: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Records an audit event.
pub async fn insert_event(conn: &mut AsyncPgConnection, row: &AuthEventRow) -> QueryResult<()> {
    diesel::insert_into(auth_events::table)
        .values(row)
        .execute(conn)
        .await
        .map(drop)
}

/// An account's events, newest first, before the keyset cursor if given.
pub async fn events(
    conn: &mut AsyncPgConnection,
    account_id: Uuid,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<AuthEventRow>> {
    let mut query = auth_events::table
        .filter(auth_events::account_id.eq(account_id))
        .into_boxed();
    if let Some((at, id)) = before {
        query = query.filter(
            auth_events::created_at
                .lt(at)
                .or(auth_events::created_at.eq(at).and(auth_events::id.lt(id))),
        );
    }
    query
        .order((auth_events::created_at.desc(), auth_events::id.desc()))
        .limit(limit)
        .select(AuthEventRow::as_select())
        .load(conn)
        .await
}

/// The keyset position of one of the account's events.
pub async fn event_cursor(
    conn: &mut AsyncPgConnection,
    account_id: Uuid,
    event_id: Uuid,
) -> QueryResult<Option<(DateTime<Utc>, Uuid)>> {
    auth_events::table
        .filter(auth_events::account_id.eq(account_id))
        .filter(auth_events::id.eq(event_id))
        .select((auth_events::created_at, auth_events::id))
        .first(conn)
        .await
        .optional()
}

/// What a sign-in's device was to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct DeviceSeen {
    /// The device had not been seen before.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub new_device: bool,
    /// Devices the account had before this one.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub prior_devices: i64,
}

/// Records a sign-in from a device (a hash of its client software).
pub async fn record_device(
    conn: &mut AsyncPgConnection,
    account_id: Uuid,
    device_hash: &[u8],
    now: DateTime<Utc>,
) -> QueryResult<DeviceSeen> {
    diesel::sql_query(
        "WITH prior AS (SELECT count(*) AS n FROM account_devices WHERE account_id = $1), \
              seen AS (INSERT INTO account_devices (account_id, device_hash, first_seen_at, last_seen_at) \
                       VALUES ($1, $2, $3, $3) \
                       ON CONFLICT (account_id, device_hash) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at \
                       RETURNING (xmax = 0) AS inserted) \
         SELECT seen.inserted AS new_device, prior.n AS prior_devices FROM seen, prior",
    )
    .bind::<diesel::sql_types::Uuid, _>(account_id)
    .bind::<diesel::sql_types::Bytea, _>(device_hash)
    .bind::<diesel::sql_types::Timestamptz, _>(now)
    .get_result(conn)
    .await
}

/// Sets a verified phone number.
pub async fn set_verified_phone(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    phone: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(accounts::table.find(id))
        .set((
            accounts::phone.eq(phone),
            accounts::phone_verified_at.eq(now),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Records the address an identity provider vouched for (replacing an older one).
pub async fn set_address(
    conn: &mut AsyncPgConnection,
    account: Uuid,
    address: &serde_json::Value,
    source: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    use super::schema::account_addresses as a;
    diesel::insert_into(a::table)
        .values((
            a::account_id.eq(account),
            a::address.eq(address),
            a::source.eq(source),
            a::verified_at.eq(now),
        ))
        .on_conflict(a::account_id)
        .do_update()
        .set((
            a::address.eq(address),
            a::source.eq(source),
            a::verified_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The vouched-for address of an account, if any.
pub async fn address_of(
    conn: &mut AsyncPgConnection,
    account: Uuid,
) -> QueryResult<Option<serde_json::Value>> {
    use super::schema::account_addresses as a;
    a::table
        .find(account)
        .select(a::address)
        .first(conn)
        .await
        .optional()
}

/// `(id, full name, national ID)` of these accounts.
pub async fn names(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<(Uuid, String, String)>> {
    accounts::table
        .filter(accounts::id.eq_any(ids))
        .select((accounts::id, accounts::full_name, accounts::national_id))
        .load(conn)
        .await
}

/// Up to `limit` accounts whose name contains `fragment` (case-insensitive).
pub async fn ids_by_name(
    conn: &mut AsyncPgConnection,
    fragment: &str,
    limit: i64,
) -> QueryResult<Vec<Uuid>> {
    let escaped = fragment
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    accounts::table
        .filter(accounts::full_name.ilike(format!("%{escaped}%")))
        .select(accounts::id)
        .limit(limit)
        .load(conn)
        .await
}
