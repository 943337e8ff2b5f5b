//! Values sealed under the master key, found and re-sealed by its rotation.

use super::*;

/// A column holding values sealed under the master key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    /// `vault_records.data_key` (context `vault.record:<id>`).
    RecordKeys,
    /// `vault_documents.data_key` (context `vault.document:<id>`).
    DocumentKeys,
    /// `agency_signing_keys.private_key` (context `vault.signing_key:<id>`).
    AgencySigningKeys,
    /// `oidc_signing_keys.private_key` (context `oidc.signing_key:<kid>`).
    OidcSigningKeys,
    /// `oidc_provider_secrets.sealed` (context: its name).
    ProviderSecrets,
    /// `staff.totp_secret` (context `staff.totp:<id>`).
    StaffTotp,
    /// `webhook_subscribers.secret` (context `webhook.secret:<id>`).
    WebhookSecrets,
}

impl SealedColumn {
    /// Every column.
    pub const ALL: [Self; 7] = [
        Self::RecordKeys,
        Self::DocumentKeys,
        Self::AgencySigningKeys,
        Self::OidcSigningKeys,
        Self::ProviderSecrets,
        Self::StaffTotp,
        Self::WebhookSecrets,
    ];

    /// `(table, id column, id cast, sealed column)`.
    fn sql(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Self::RecordKeys => ("vault_records", "id", "::uuid", "data_key"),
            Self::DocumentKeys => ("vault_documents", "id", "::uuid", "data_key"),
            Self::AgencySigningKeys => ("agency_signing_keys", "id", "::uuid", "private_key"),
            Self::OidcSigningKeys => ("oidc_signing_keys", "kid", "", "private_key"),
            Self::ProviderSecrets => ("oidc_provider_secrets", "name", "", "sealed"),
            Self::StaffTotp => ("staff", "id", "::uuid", "totp_secret"),
            Self::WebhookSecrets => ("webhook_subscribers", "id", "::uuid", "secret"),
        }
    }

    /// A name for reports.
    pub fn name(self) -> &'static str {
        let (table, _, _, column) = self.sql();
        match self {
            Self::RecordKeys | Self::DocumentKeys | Self::WebhookSecrets => table,
            _ => column,
        }
    }

    /// The sealing context of the value of row `id`.
    pub fn context(self, id: &str) -> String {
        match self {
            Self::RecordKeys => format!("vault.record:{id}"),
            Self::DocumentKeys => format!("vault.document:{id}"),
            Self::AgencySigningKeys => format!("vault.signing_key:{id}"),
            Self::OidcSigningKeys => format!("oidc.signing_key:{id}"),
            Self::ProviderSecrets => id.to_owned(),
            Self::StaffTotp => format!("staff.totp:{id}"),
            Self::WebhookSecrets => format!("webhook.secret:{id}"),
        }
    }
}

#[derive(QueryableByName)]
struct SealedValue {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    sealed: String,
}

/// Up to `limit` `(id, sealed)` of `column` not sealed under `active`.
pub async fn sealed_not_under(
    conn: &mut AsyncPgConnection,
    column: SealedColumn,
    active: &str,
    limit: i64,
) -> QueryResult<Vec<(String, String)>> {
    let (table, id, _, sealed) = column.sql();
    diesel::sql_query(format!(
        "SELECT {id}::text AS id, {sealed} AS sealed FROM {table} \
         WHERE {sealed} IS NOT NULL AND {sealed} <> '' AND {sealed} NOT LIKE $1 LIMIT $2"
    ))
    .bind::<diesel::sql_types::Text, _>(format!("v1.{active}.%"))
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load::<SealedValue>(conn)
    .await
    .map(|rows| rows.into_iter().map(|r| (r.id, r.sealed)).collect())
}

/// Replaces a sealed value, if it is still `old`.
pub async fn reseal(
    conn: &mut AsyncPgConnection,
    column: SealedColumn,
    id: &str,
    old: &str,
    new: &str,
) -> QueryResult<()> {
    let (table, id_column, cast, sealed) = column.sql();
    diesel::sql_query(format!(
        "UPDATE {table} SET {sealed} = $3 WHERE {id_column} = $1{cast} AND {sealed} = $2"
    ))
    .bind::<diesel::sql_types::Text, _>(id)
    .bind::<diesel::sql_types::Text, _>(old)
    .bind::<diesel::sql_types::Text, _>(new)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Master-key ids any sealed value in the database uses.
pub async fn key_ids_in_use(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Kid {
        #[diesel(sql_type = diesel::sql_types::Text)]
        kid: String,
    }
    let parts: Vec<String> = SealedColumn::ALL
        .iter()
        .map(|c| {
            let (table, _, _, sealed) = c.sql();
            format!(
                "SELECT DISTINCT split_part({sealed}, '.', 2) AS kid FROM {table} \
                 WHERE {sealed} IS NOT NULL AND {sealed} <> ''"
            )
        })
        .collect();
    diesel::sql_query(parts.join(" UNION "))
        .load::<Kid>(conn)
        .await
        .map(|rows| rows.into_iter().map(|r| r.kid).collect())
}
