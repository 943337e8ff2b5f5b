//! The client_credentials grant (RFC 6749 §4.4): a confidential client's
//! token for itself, for a registered resource server, with none of the
//! scopes that concern a person.

use super::TokenResponse;
use crate::oidc::Provider;
use crate::{
    crypto::tokens,
    oidc::{
        audience,
        error::OAuthError,
        jwt::{self, ACCESS_TOKEN_TTL, AccessClaims},
    },
    storage::oidc::ClientRow,
};

/// Scopes that concern a person, meaningless for client credentials.
const PERSON_SCOPES: [&str; 8] = [
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "national_id",
    "business",
    "offline_access",
];

/// Whether a client may hold `scope` for itself (no person's data, no vault).
pub fn system_scope(scope: &str) -> bool {
    !PERSON_SCOPES.contains(&scope) && scope != "vault" && !scope.starts_with("vault:")
}

/// The scopes of the token: the client's system scopes, or the requested
/// subset of them. `Err` names the first scope not available.
pub fn system_scopes(
    registered: &[String],
    requested: Option<&str>,
) -> Result<Vec<String>, String> {
    let allowed: Vec<&String> = registered.iter().filter(|s| system_scope(s)).collect();
    let Some(requested) = requested else {
        return Ok(allowed.into_iter().cloned().collect());
    };
    let requested: Vec<String> = requested.split_whitespace().map(str::to_owned).collect();
    match requested.iter().find(|s| !allowed.contains(s)) {
        Some(bad) => Err(bad.clone()),
        None => Ok(requested),
    }
}

/// Issues a system-to-system access token (no person) to a confidential client.
pub async fn issue(
    state: &Provider,
    client: &ClientRow,
    scope: Option<&str>,
    resource: Option<&str>,
    jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    if !client.auth_method.is_confidential() {
        return Err(OAuthError::new(
            "unauthorized_client",
            "public clients cannot use client_credentials",
        ));
    }
    let scopes = system_scopes(&client.scopes, scope).map_err(|bad| {
        OAuthError::new(
            "invalid_scope",
            format!("scope {bad} is not available to client credentials"),
        )
    })?;
    let aud = audience::resolve(state, resource).await?.ok_or_else(|| {
        audience::invalid_target("no resource server is registered for this resource")
    })?;
    let now = state.clock.now();
    let claims = AccessClaims {
        iss: state.settings.issuer(),
        sub: client.client_id.clone(),
        aud,
        client_id: client.client_id.clone(),
        scope: scopes.join(" "),
        acr: "urn:vn:hcm:eservices:client".into(),
        auth_time: None,
        amr: None,
        ctx: None,
        account_id: None,
        acting_for: None,
        cnf: jwt::Confirmation::of(jkt),
        jti: tokens::generate(),
        iat: now.timestamp(),
        exp: (now + ACCESS_TOKEN_TTL).timestamp(),
    };
    let access_token = jwt::sign(state, jwt::ACCESS_TOKEN_ALG, "at+jwt", &claims).await?;
    Ok(TokenResponse::bearer(access_token, &scopes).bound(jkt))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn person_and_vault_scopes_are_never_given_to_a_client() {
        let registered =
            scopes("openid profile dossiers vault vault:health_insurance offline_access");
        assert_eq!(system_scopes(&registered, None), Ok(scopes("dossiers")));
    }

    #[test]
    fn a_requested_person_scope_is_named_in_the_refusal() {
        let registered = scopes("openid dossiers");
        assert_eq!(
            system_scopes(&registered, Some("dossiers openid")),
            Err("openid".to_owned())
        );
        assert_eq!(
            system_scopes(&registered, Some("dossiers")),
            Ok(scopes("dossiers"))
        );
    }
}
