//! The UserInfo endpoint's claims, by granted scope, and the same rule
//! applied to the API's `/me` for bearer callers.

use serde_json::{Map, Value, json};

use crate::oidc::Provider;
use crate::{
    error::AppResult,
    identity::profile::Profile,
    oidc::{
        clients,
        jwt::{ACR_LEVEL_2, AccessClaims},
        subject,
    },
    storage::{
        accounts,
        businesses::{self, Capacity},
    },
};

/// Which of a person's claims a token discloses: its scopes and, for the
/// national ID, an identity-verified sign-in. One rule for UserInfo and for
/// bearer callers of `/api/v1/me`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disclosure {
    /// Name, date of birth, sex (`profile`).
    pub profile: bool,
    /// Email (`email`).
    pub email: bool,
    /// Phone (`phone`).
    pub phone: bool,
    /// Address (`address`).
    pub address: bool,
    /// The national ID (`national_id`, and a level-2 `acr`).
    pub national_id: bool,
    /// Businesses and the one acted for (`business`).
    pub business: bool,
}

impl Disclosure {
    /// What `scopes` disclose for a token of assurance `acr`.
    pub fn of(scopes: &[&str], acr: &str) -> Self {
        let has = |s: &str| scopes.contains(&s);
        Self {
            profile: has("profile"),
            email: has("email"),
            phone: has("phone"),
            address: has("address"),
            national_id: has("national_id") && acr == ACR_LEVEL_2,
            business: has("business"),
        }
    }

    /// A bearer caller's `/api/v1/me`: the profile with only what this
    /// disclosure allows, the subject the client knows instead of the
    /// account id, and businesses by tax code (no internal ids).
    pub fn profile(self, profile: Profile, sub: &str) -> Value {
        let acting_for = profile.acting_for;
        let businesses: Vec<Value> = profile
            .businesses
            .iter()
            .map(|b| {
                json!({
                    "tax_code": b.tax_code, "name": b.name, "role": b.role,
                    "valid_until": b.valid_until,
                })
            })
            .collect();
        let acting = acting_for
            .and_then(|id| profile.businesses.iter().find(|b| b.id == id))
            .map(|b| json!({ "tax_code": b.tax_code, "name": b.name }));
        let mut out = Map::new();
        out.insert("sub".into(), sub.into());
        if self.national_id {
            out.insert("national_id".into(), profile.national_id.into());
        }
        if self.profile {
            out.insert("full_name".into(), profile.full_name.into());
            out.insert(
                "date_of_birth".into(),
                profile.date_of_birth.to_string().into(),
            );
            out.insert("sex".into(), profile.sex.into());
        }
        if self.email {
            out.insert("email".into(), json!(profile.email));
            out.insert("email_verified".into(), profile.email_verified.into());
        }
        if self.phone {
            out.insert("phone".into(), json!(profile.phone));
            out.insert("phone_verified".into(), profile.phone_verified.into());
        }
        out.insert("assurance_level".into(), profile.assurance_level.into());
        if self.business {
            out.insert("businesses".into(), Value::Array(businesses));
            out.insert("acting_for".into(), acting.unwrap_or(Value::Null));
        }
        Value::Object(out)
    }
}

/// The claims the access token's scopes allow.
pub async fn claims(state: &Provider, token: &AccessClaims) -> AppResult<Value> {
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
    let disclose = Disclosure::of(&scopes, &token.acr);
    let mut out = Map::new();
    let sub = match &client {
        Some(c) => subject::subject(state, c, account.id).await?,
        None => token.sub.clone(),
    };
    out.insert("sub".into(), sub.into());
    if disclose.profile {
        out.insert("name".into(), account.full_name.clone().into());
        out.insert("birthdate".into(), account.date_of_birth.to_string().into());
        out.insert("gender".into(), account.sex.clone().into());
    }
    if disclose.email
        && let Some(email) = &account.email
    {
        out.insert("email".into(), email.clone().into());
        out.insert(
            "email_verified".into(),
            account.email_verified_at.is_some().into(),
        );
    }
    if disclose.phone
        && let Some(phone) = &account.phone
    {
        out.insert("phone_number".into(), phone.clone().into());
        out.insert(
            "phone_number_verified".into(),
            account.phone_verified_at.is_some().into(),
        );
    }
    if disclose.address
        && let Some(address) = accounts::address_of(&mut conn, account.id).await?
    {
        out.insert("address".into(), address);
    }
    // The national ID only when this sign-in was at level 2 (identity verified).
    if disclose.national_id {
        out.insert("national_id".into(), account.national_id.clone().into());
    }
    if disclose.business {
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
