//! The UserInfo endpoint's claims, by granted scope.

use serde_json::{Map, Value, json};

use crate::{
    error::AppResult,
    oidc::{
        clients,
        jwt::{ACR_LEVEL_2, AccessClaims},
        subject,
    },
    startup::AppState,
    storage::{
        accounts,
        businesses::{self, Capacity},
    },
};

/// The claims the access token's scopes allow.
pub async fn claims(state: &AppState, token: &AccessClaims) -> AppResult<Value> {
    let Some(account_id) = token.account_id else {
        return Err(
            crate::error::AppError::new(crate::error::ErrorKind::Forbidden, "no_person")
                .with_detail("Mã truy cập này không đại diện cho công dân nào."),
        );
    };
    let mut conn = state.db.get().await?;
    let account = accounts::find(&mut conn, account_id).await?;
    let client = clients::find(state, &token.client_id).await?;
    let scopes: Vec<&str> = token.scope.split_whitespace().collect();
    let mut out = Map::new();
    let sub = match &client {
        Some(c) => subject::subject(state, c, account.id).await?,
        None => token.sub.clone(),
    };
    out.insert("sub".into(), sub.into());
    if scopes.contains(&"profile") {
        out.insert("name".into(), account.full_name.clone().into());
        out.insert("birthdate".into(), account.date_of_birth.to_string().into());
        out.insert("gender".into(), account.sex.clone().into());
    }
    if scopes.contains(&"email")
        && let Some(email) = &account.email
    {
        out.insert("email".into(), email.clone().into());
        out.insert(
            "email_verified".into(),
            account.email_verified_at.is_some().into(),
        );
    }
    if scopes.contains(&"phone")
        && let Some(phone) = &account.phone
    {
        out.insert("phone_number".into(), phone.clone().into());
        out.insert(
            "phone_number_verified".into(),
            account.phone_verified_at.is_some().into(),
        );
    }
    if scopes.contains(&"address")
        && let Some(address) = accounts::address_of(&mut conn, account.id).await?
    {
        out.insert("address".into(), address);
    }
    // The national ID only when this sign-in was at level 2 (identity verified).
    if scopes.contains(&"national_id") && token.acr == ACR_LEVEL_2 {
        out.insert("national_id".into(), account.national_id.clone().into());
    }
    if scopes.contains(&"business") {
        let list = businesses::acting_for(&mut conn, account.id, state.clock.now()).await?;
        let acting = token
            .acting_for
            .and_then(|id| list.iter().find(|(b, _)| b.id == id));
        if let Some((b, _)) = acting {
            out.insert(
                "acting_for".into(),
                json!({ "tax_code": b.tax_code, "name": b.name }),
            );
        }
        let entries: Vec<Value> = list
            .iter()
            .map(|(b, capacity)| match capacity {
                Capacity::Representative => json!({
                    "tax_code": b.tax_code, "name": b.name, "capacity": "representative",
                }),
                Capacity::Authorized(until) => json!({
                    "tax_code": b.tax_code, "name": b.name, "capacity": "authorized",
                    "valid_until": until.map(|u| u.to_rfc3339()),
                }),
            })
            .collect();
        out.insert("business".into(), Value::Array(entries));
    }
    drop(conn);
    if let Some(vault) = crate::vault::records::for_client(
        state,
        crate::domain::AccountId::from(account.id),
        &token.client_id,
        &scopes,
    )
    .await?
    {
        out.insert("vault".into(), vault);
    }
    out.insert("acr".into(), json!(token.acr));
    Ok(Value::Object(out))
}
