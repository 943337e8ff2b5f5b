//! The UserInfo endpoint's claims, by granted scope.

use serde_json::{Map, Value, json};

use crate::{
    error::AppResult,
    oidc::{jwt::AccessClaims, token::subject_for},
    startup::AppState,
    storage::{accounts, oidc as store},
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
    let client = store::client(&mut conn, &token.client_id).await?;
    let scopes: Vec<&str> = token.scope.split_whitespace().collect();
    let mut out = Map::new();
    let sub = client
        .as_ref()
        .map_or_else(|| token.sub.clone(), |c| subject_for(c, account.id));
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
    // The national ID only for identity-verified people.
    if scopes.contains(&"national_id") && account.assurance_level >= 2 {
        out.insert("national_id".into(), account.national_id.clone().into());
    }
    out.insert("acr".into(), json!(token.acr));
    Ok(Value::Object(out))
}
