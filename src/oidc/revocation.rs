//! Token revocation (RFC 7009) and introspection (RFC 7662).

use diesel_async::AsyncConnection;
use serde_json::{Value, json};

use crate::oidc::Provider;
use crate::{
    crypto::tokens,
    oidc::{error::OAuthError, jwt},
    storage::oidc::{self as store, ClientRow},
};

/// Revokes a token the client holds: a refresh token ends its family, an
/// access token is refused until it would have expired. Unknown tokens are
/// ignored (the answer is the same, RFC 7009 §2.2).
pub async fn revoke(state: &Provider, client: &ClientRow, token: &str) -> Result<(), OAuthError> {
    let now = state.clock.now();
    let mut conn = state.db.get().await.map_err(crate::error::AppError::from)?;
    if let Some(row) = store::refresh_by_hash(&mut conn, &tokens::hash(token)).await? {
        if row.client_id == client.client_id {
            conn.transaction::<_, OAuthError, _>(async |c| {
                if store::revoke_family(c, row.family_id, now).await? > 0 {
                    audit_revocation(c, row.account_id, client, "refresh_token", now).await?;
                }
                Ok(())
            })
            .await?;
        }
        return Ok(());
    }
    if let Ok(claims) = jwt::verify_access_token(state, token, now).await
        && claims.client_id == client.client_id
    {
        jwt::revoke_access_token(state, &claims, now).await?;
        if let Some(account) = claims.account_id {
            audit_revocation(&mut conn, account, client, "access_token", now).await?;
        }
    }
    Ok(())
}

async fn audit_revocation(
    conn: &mut diesel_async::AsyncPgConnection,
    account: uuid::Uuid,
    client: &ClientRow,
    kind: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), OAuthError> {
    crate::identity::audit::record(
        conn,
        crate::domain::AccountId::from(account),
        "oidc_token_revoked",
        &crate::identity::ClientInfo::default(),
        json!({ "client_id": client.client_id, "token_type": kind }),
        now,
    )
    .await?;
    Ok(())
}

/// What a resource server learns about a token (RFC 7662). Only a client
/// registered as a resource server learns anything, and only about access
/// tokens whose audience is its own; every other token (another resource
/// server's, a refresh token, garbage) is `{"active": false}`. The answer
/// names the subject as the token's client sees it, never an internal id.
pub async fn introspect(
    state: &Provider,
    client: &ClientRow,
    token: &str,
) -> Result<Value, OAuthError> {
    let now = state.clock.now();
    if !crate::oidc::client_auth::is_confidential(client) {
        return Err(OAuthError::new(
            "unauthorized_client",
            "introspection needs a confidential client",
        ));
    }
    let inactive = json!({ "active": false });
    let Some(audience) = client.resource_audience.as_deref() else {
        return Ok(inactive);
    };
    match jwt::verify_access_token(state, token, now).await {
        Ok(claims) if claims.aud == audience => Ok(introspected(claims)),
        _ => Ok(inactive),
    }
}

/// What introspection says of an active token.
fn introspected(claims: jwt::AccessClaims) -> Value {
    let mut body = json!({
            "active": true,
            // RFC 9449 §6.2: a bound token says so, with its key.
            "token_type": if claims.cnf.is_some() { "DPoP" } else { "Bearer" },
            "scope": claims.scope,
            "client_id": claims.client_id,
            "sub": claims.sub,
            "aud": claims.aud,
            "iss": claims.iss,
            "exp": claims.exp,
            "iat": claims.iat,
            "acr": claims.acr,
            "jti": claims.jti,
    });
    if let Some(cnf) = claims.cnf {
        body["cnf"] = json!(cnf);
    }
    body
}
