//! The OpenID provider's tables: signing keys, registered clients, consents,
//! refresh tokens and the clients of browser sessions.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::domain::oauth::{AuthMethod, ClientProfile, DpopPolicy, IdTokenAlg, SubjectType};

use super::schema::{
    oidc_clients, oidc_consents, oidc_provider_secrets, oidc_refresh_tokens, oidc_session_clients,
    oidc_signing_keys,
};

/// A signing key.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = oidc_signing_keys)]
pub struct SigningKeyRow {
    /// Key id (in the JWT header and the JWKS).
    pub kid: String,
    /// `RS256` or `ES256`.
    pub alg: String,
    /// PKCS#8 PEM, sealed under the vault master key.
    pub private_key: String,
    /// The public JWK.
    pub public_jwk: serde_json::Value,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Signs from then on (published earlier).
    pub activates_at: DateTime<Utc>,
    /// Stopped signing then.
    pub retired_at: Option<DateTime<Utc>>,
    /// Unpublished then (every token it signed has expired).
    pub expires_at: Option<DateTime<Utc>>,
}

/// Stores a key.
pub async fn insert_key(conn: &mut AsyncPgConnection, row: &SigningKeyRow) -> QueryResult<()> {
    diesel::insert_into(oidc_signing_keys::table)
        .values(row)
        .execute(conn)
        .await
        .map(drop)
}

/// Keys to publish at `now`: not yet expired, newest first.
pub async fn published_keys(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> QueryResult<Vec<SigningKeyRow>> {
    oidc_signing_keys::table
        .filter(
            oidc_signing_keys::expires_at
                .is_null()
                .or(oidc_signing_keys::expires_at.gt(now)),
        )
        .order((
            oidc_signing_keys::activates_at.desc(),
            oidc_signing_keys::kid,
        ))
        .select(SigningKeyRow::as_select())
        .load(conn)
        .await
}

/// The key of `alg` that signs at `now`: the newest activated and not retired.
pub async fn signing_key(
    conn: &mut AsyncPgConnection,
    alg: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<SigningKeyRow>> {
    oidc_signing_keys::table
        .filter(oidc_signing_keys::alg.eq(alg))
        .filter(oidc_signing_keys::activates_at.le(now))
        .filter(
            oidc_signing_keys::retired_at
                .is_null()
                .or(oidc_signing_keys::retired_at.gt(now)),
        )
        .order(oidc_signing_keys::activates_at.desc())
        .select(SigningKeyRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Schedules the retirement of every key of `alg` not retired yet, except `keep`.
pub async fn retire_others(
    conn: &mut AsyncPgConnection,
    alg: &str,
    keep: &str,
    retired_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        oidc_signing_keys::table
            .filter(oidc_signing_keys::alg.eq(alg))
            .filter(oidc_signing_keys::kid.ne(keep))
            .filter(oidc_signing_keys::retired_at.is_null()),
    )
    .set((
        oidc_signing_keys::retired_at.eq(retired_at),
        oidc_signing_keys::expires_at.eq(expires_at),
    ))
    .execute(conn)
    .await
}

/// A registered client.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = oidc_clients)]
pub struct ClientRow {
    /// The client id.
    pub client_id: String,
    /// SHA-256 of the secret; `None` for public clients.
    pub secret_hash: Option<Vec<u8>>,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Exact post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes the client may ask for.
    pub scopes: Vec<String>,
    /// `pairwise` or `public`.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub subject_type: SubjectType,
    /// Registered.
    pub created_at: DateTime<Utc>,
    /// `client_secret`, `private_key_jwt` or `none`.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub auth_method: AuthMethod,
    /// The client's public keys (`private_key_jwt`).
    pub jwks: Option<serde_json::Value>,
    /// `RS256` or `ES256`: how its ID tokens are signed.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub id_token_alg: IdTokenAlg,
    /// Authorization requests only through PAR (RFC 9126).
    pub require_par: bool,
    /// The sector its pairwise subjects are computed for (its id when absent).
    pub sector_identifier: Option<String>,
    /// Where logout tokens are posted (back-channel logout).
    pub backchannel_logout_uri: Option<String>,
    /// The audience URI when the client is a resource server: access tokens
    /// asked for it (RFC 8707 `resource`) carry it, and it introspects only those.
    pub resource_audience: Option<String>,
    /// The organisation's name, shown on the consent page (RFC 7591 `client_name`).
    pub client_name: Option<String>,
    /// The organisation's logo (https).
    pub logo_uri: Option<String>,
    /// The organisation's privacy policy (https).
    pub policy_uri: Option<String>,
    /// Whether its tokens are DPoP-bound.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub dpop: DpopPolicy,
    /// The security profile it follows.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub profile: ClientProfile,
    /// Whether its authorization requests need PKCE (always, but for
    /// confidential clients an administrator exempted).
    pub pkce_required: bool,
}

/// Registers a client; `Ok(false)` if the id is taken.
pub async fn insert_client(conn: &mut AsyncPgConnection, row: &ClientRow) -> QueryResult<bool> {
    diesel::insert_into(oidc_clients::table)
        .values(row.clone())
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// Every client, by id.
pub async fn clients(conn: &mut AsyncPgConnection) -> QueryResult<Vec<ClientRow>> {
    oidc_clients::table
        .order(oidc_clients::client_id)
        .select(ClientRow::as_select())
        .load(conn)
        .await
}

/// Deletes a client; false if there was none.
pub async fn delete_client(conn: &mut AsyncPgConnection, client_id: &str) -> QueryResult<bool> {
    diesel::delete(oidc_clients::table.find(client_id))
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// A client by id.
pub async fn client(
    conn: &mut AsyncPgConnection,
    client_id: &str,
) -> QueryResult<Option<ClientRow>> {
    oidc_clients::table
        .find(client_id)
        .select(ClientRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Whether some client is registered as the resource server of `audience`.
pub async fn resource_audience_exists(
    conn: &mut AsyncPgConnection,
    audience: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        oidc_clients::table.filter(oidc_clients::resource_audience.eq(audience)),
    ))
    .get_result(conn)
    .await
}

/// Adds `scopes` a client does not have yet (the demo seed, run again).
pub async fn add_client_scopes(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    scopes: &[String],
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE oidc_clients SET scopes = scopes || ARRAY(SELECT s FROM unnest($2::text[]) s WHERE s <> ALL(scopes)) WHERE client_id = $1 AND NOT (scopes @> $2::text[])",
    )
    .bind::<diesel::sql_types::Text, _>(client_id)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(scopes)
    .execute(conn)
    .await
}

/// Sets how a client is presented and whether its tokens are DPoP-bound
/// (the demo seed brings clients seeded before these existed up to date).
pub async fn set_client_presentation(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    name: Option<&str>,
    dpop: DpopPolicy,
) -> QueryResult<usize> {
    diesel::update(oidc_clients::table.find(client_id))
        .set((
            oidc_clients::client_name.eq(name),
            oidc_clients::dpop.eq(dpop.as_str()),
        ))
        .execute(conn)
        .await
}

/// The scopes `account` already allowed `client`.
pub async fn consented_scopes(
    conn: &mut AsyncPgConnection,
    account: uuid::Uuid,
    client_id: &str,
) -> QueryResult<Option<Vec<String>>> {
    oidc_consents::table
        .find((account, client_id))
        .select(oidc_consents::scopes)
        .first(conn)
        .await
        .optional()
}

/// Records consent to `scopes` (replacing an earlier one).
pub async fn grant_consent(
    conn: &mut AsyncPgConnection,
    account: uuid::Uuid,
    client_id: &str,
    scopes: &[String],
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(oidc_consents::table)
        .values((
            oidc_consents::account_id.eq(account),
            oidc_consents::client_id.eq(client_id),
            oidc_consents::scopes.eq(scopes),
            oidc_consents::granted_at.eq(now),
        ))
        .on_conflict((oidc_consents::account_id, oidc_consents::client_id))
        .do_update()
        .set((
            oidc_consents::scopes.eq(scopes),
            oidc_consents::granted_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The clients an account has consented to, newest first.
pub async fn consents_of(
    conn: &mut AsyncPgConnection,
    account: uuid::Uuid,
) -> QueryResult<Vec<(String, Vec<String>, DateTime<Utc>)>> {
    oidc_consents::table
        .filter(oidc_consents::account_id.eq(account))
        .order(oidc_consents::granted_at.desc())
        .select((
            oidc_consents::client_id,
            oidc_consents::scopes,
            oidc_consents::granted_at,
        ))
        .load(conn)
        .await
}

/// Withdraws a consent; false if there was none.
pub async fn revoke_consent(
    conn: &mut AsyncPgConnection,
    account: uuid::Uuid,
    client_id: &str,
) -> QueryResult<bool> {
    diesel::delete(oidc_consents::table.find((account, client_id)))
        .execute(conn)
        .await
        .map(|n| n == 1)
}

/// A refresh token.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = oidc_refresh_tokens)]
pub struct RefreshTokenRow {
    /// Id.
    pub id: uuid::Uuid,
    /// The rotation family (one per original grant).
    pub family_id: uuid::Uuid,
    /// SHA-256 of the token.
    pub token_hash: Vec<u8>,
    /// The client.
    pub client_id: String,
    /// The account.
    pub account_id: uuid::Uuid,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// When the person authenticated.
    pub auth_time: DateTime<Utc>,
    /// Assurance level at authentication.
    pub level: i16,
    /// Authentication methods.
    pub amr: Vec<String>,
    /// Session id.
    pub sid: String,
    /// Issued.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: DateTime<Utc>,
    /// Rotated (exchanged for a successor).
    pub used_at: Option<DateTime<Utc>>,
    /// Revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The business the person acted for.
    pub acting_for: Option<uuid::Uuid>,
    /// The DPoP key (RFC 7638 thumbprint) a public client's token is bound to.
    pub dpop_jkt: Option<String>,
}

/// Stores a refresh token.
pub async fn insert_refresh(
    conn: &mut AsyncPgConnection,
    row: &RefreshTokenRow,
) -> QueryResult<()> {
    diesel::insert_into(oidc_refresh_tokens::table)
        .values(row)
        .execute(conn)
        .await
        .map(drop)
}

/// A refresh token by hash, locked for this transaction.
pub async fn refresh_for_update(
    conn: &mut AsyncPgConnection,
    hash: &[u8],
) -> QueryResult<Option<RefreshTokenRow>> {
    oidc_refresh_tokens::table
        .filter(oidc_refresh_tokens::token_hash.eq(hash))
        .select(RefreshTokenRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Marks a refresh token used (rotated).
pub async fn mark_refresh_used(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(oidc_refresh_tokens::table.find(id))
        .set(oidc_refresh_tokens::used_at.eq(now))
        .execute(conn)
        .await
        .map(drop)
}

/// Revokes a whole rotation family.
pub async fn revoke_family(
    conn: &mut AsyncPgConnection,
    family: uuid::Uuid,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        oidc_refresh_tokens::table
            .filter(oidc_refresh_tokens::family_id.eq(family))
            .filter(oidc_refresh_tokens::revoked_at.is_null()),
    )
    .set(oidc_refresh_tokens::revoked_at.eq(now))
    .execute(conn)
    .await
}

/// The first key of the refresh families' advisory locks ("RFAM").
const REFRESH_FAMILY_LOCK: i32 = 0x5246_414D;

/// Serialises the refresh grants of one family until this transaction ends
/// (a transaction-level advisory lock, in the two-key space the migration
/// lock does not use). Take it before locking any token of the family.
pub async fn lock_family(conn: &mut AsyncPgConnection, family: uuid::Uuid) -> QueryResult<()> {
    let bytes = family.as_bytes();
    let key = i32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
    diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
        .bind::<diesel::sql_types::Integer, _>(REFRESH_FAMILY_LOCK)
        .bind::<diesel::sql_types::Integer, _>(key)
        .execute(conn)
        .await
        .map(drop)
}

/// Revokes the live (unused, unrevoked) tokens of a family other than
/// `except`: an earlier successor, when a token is rotated again within the
/// grace window, so the family keeps a single live branch.
pub async fn revoke_live_successors(
    conn: &mut AsyncPgConnection,
    family: uuid::Uuid,
    except: uuid::Uuid,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        oidc_refresh_tokens::table
            .filter(oidc_refresh_tokens::family_id.eq(family))
            .filter(oidc_refresh_tokens::id.ne(except))
            .filter(oidc_refresh_tokens::used_at.is_null())
            .filter(oidc_refresh_tokens::revoked_at.is_null()),
    )
    .set(oidc_refresh_tokens::revoked_at.eq(now))
    .execute(conn)
    .await
}

/// When a family began: the creation of its first token.
pub async fn family_started_at(
    conn: &mut AsyncPgConnection,
    family: uuid::Uuid,
) -> QueryResult<Option<DateTime<Utc>>> {
    oidc_refresh_tokens::table
        .filter(oidc_refresh_tokens::family_id.eq(family))
        .select(diesel::dsl::min(oidc_refresh_tokens::created_at))
        .first(conn)
        .await
}

/// Revokes every refresh token of an account at a client (consent withdrawn).
pub async fn revoke_grant(
    conn: &mut AsyncPgConnection,
    account: uuid::Uuid,
    client_id: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        oidc_refresh_tokens::table
            .filter(oidc_refresh_tokens::account_id.eq(account))
            .filter(oidc_refresh_tokens::client_id.eq(client_id))
            .filter(oidc_refresh_tokens::revoked_at.is_null()),
    )
    .set(oidc_refresh_tokens::revoked_at.eq(now))
    .execute(conn)
    .await
}

/// Revokes every refresh-token family of an account, at every client: its
/// access must end (password reset or change, account locked, identity taken
/// over by the proven person). Call it in the transaction that made the change.
pub async fn revoke_account_refresh_tokens(
    conn: &mut AsyncPgConnection,
    account: uuid::Uuid,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        oidc_refresh_tokens::table
            .filter(oidc_refresh_tokens::account_id.eq(account))
            .filter(oidc_refresh_tokens::revoked_at.is_null()),
    )
    .set(oidc_refresh_tokens::revoked_at.eq(now))
    .execute(conn)
    .await
}

/// Forgets every consent an account gave (the person behind it changed:
/// the proven holder of the national ID replaced a claimant).
pub async fn forget_account_consents(
    conn: &mut AsyncPgConnection,
    account: uuid::Uuid,
) -> QueryResult<usize> {
    diesel::delete(oidc_consents::table.filter(oidc_consents::account_id.eq(account)))
        .execute(conn)
        .await
}

/// A refresh token by hash.
pub async fn refresh_by_hash(
    conn: &mut AsyncPgConnection,
    hash: &[u8],
) -> QueryResult<Option<RefreshTokenRow>> {
    oidc_refresh_tokens::table
        .filter(oidc_refresh_tokens::token_hash.eq(hash))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Records that `client` received tokens in the browser session `sid`.
pub async fn record_session_client(
    conn: &mut AsyncPgConnection,
    sid: &str,
    client_id: &str,
    account: uuid::Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(oidc_session_clients::table)
        .values((
            oidc_session_clients::sid.eq(sid),
            oidc_session_clients::client_id.eq(client_id),
            oidc_session_clients::account_id.eq(account),
            oidc_session_clients::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(drop)
}

/// Forgets the session `sid` and returns the clients that joined it, with
/// the account they saw.
pub async fn take_session_clients(
    conn: &mut AsyncPgConnection,
    sid: &str,
) -> QueryResult<Vec<(String, uuid::Uuid)>> {
    diesel::delete(oidc_session_clients::table.filter(oidc_session_clients::sid.eq(sid)))
        .returning((
            oidc_session_clients::client_id,
            oidc_session_clients::account_id,
        ))
        .get_results(conn)
        .await
}

/// Forgets sessions that began before `before` (they have ended by then).
pub async fn purge_session_clients(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(oidc_session_clients::table.filter(oidc_session_clients::created_at.lt(before)))
        .execute(conn)
        .await
}

/// A provider secret (sealed), creating it from `sealed` if there is none yet;
/// returns the one stored (concurrent creators agree on the first).
pub async fn provider_secret(
    conn: &mut AsyncPgConnection,
    name: &str,
    sealed: &str,
    now: DateTime<Utc>,
) -> QueryResult<String> {
    diesel::insert_into(oidc_provider_secrets::table)
        .values((
            oidc_provider_secrets::name.eq(name),
            oidc_provider_secrets::sealed.eq(sealed),
            oidc_provider_secrets::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    oidc_provider_secrets::table
        .find(name)
        .select(oidc_provider_secrets::sealed)
        .first(conn)
        .await
}
