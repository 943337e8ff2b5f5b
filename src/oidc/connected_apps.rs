//! The applications a citizen has let sign them in, and withdrawing that.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::infra::Core;
use crate::{
    domain::AccountId,
    error::{AppError, AppResult},
    identity::{ClientInfo, audit},
    storage::oidc as store,
};

/// A connected application.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectedApp {
    /// The client.
    pub client_id: String,
    /// What it may know.
    pub scopes: Vec<String>,
    /// When consent was given (last).
    pub granted_at: DateTime<Utc>,
}

/// The account's connected applications.
pub async fn list(state: &Core, account: AccountId) -> AppResult<Vec<ConnectedApp>> {
    let mut conn = state.db.get().await?;
    Ok(store::consents_of(&mut conn, account.as_uuid())
        .await?
        .into_iter()
        .map(|(client_id, scopes, granted_at)| ConnectedApp {
            client_id,
            scopes,
            granted_at,
        })
        .collect())
}

/// Withdraws the consent given to `client_id`: the next sign-in asks again.
pub async fn revoke(
    state: &Core,
    account: AccountId,
    client_id: &str,
    client: &ClientInfo,
) -> AppResult<()> {
    let mut conn = state.db.get().await?;
    // The app's refresh tokens end with the consent.
    store::revoke_grant(&mut conn, account.as_uuid(), client_id, state.clock.now()).await?;
    if !store::revoke_consent(&mut conn, account.as_uuid(), client_id).await? {
        return Err(AppError::not_found("connected_app_not_found")
            .with_detail("Không có ứng dụng kết nối này."));
    }
    audit::record(
        &mut conn,
        account,
        "consent_revoked",
        client,
        serde_json::json!({ "client_id": client_id }),
        state.clock.now(),
    )
    .await
}
