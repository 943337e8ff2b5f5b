//! `eservices admin client …`: register, list and delete OpenID clients.

use eservices::{http::AppState, oidc, storage::oidc::ClientRow};

use super::{
    args::{ClientCommand, CreateClient},
    describe_invalid,
};

/// Runs one `admin client` subcommand.
#[allow(clippy::print_stdout)]
pub async fn run(state: &AppState, command: ClientCommand) -> anyhow::Result<()> {
    match command {
        ClientCommand::Create(create) => register(state, *create).await?,
        ClientCommand::List => {
            for c in oidc::clients::list(state).await.map_err(describe_invalid)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    c.client_id,
                    client_kind(&c),
                    c.subject_type,
                    c.scopes.join(" "),
                    c.redirect_uris.join(" ")
                );
            }
        }
        ClientCommand::Delete { client_id } => {
            oidc::clients::delete(&state.oidc, &client_id)
                .await
                .map_err(describe_invalid)?;
            println!("deleted client {client_id}");
        }
    }
    Ok(())
}

/// The JWK Set in `path`, if one was given.
fn read_jwks(path: Option<std::path::PathBuf>) -> anyhow::Result<Option<serde_json::Value>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let jwks = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not JSON: {e}", path.display()))?;
    Ok(Some(jwks))
}

#[allow(clippy::print_stdout)]
async fn register(state: &AppState, command: CreateClient) -> anyhow::Result<()> {
    let CreateClient {
        client_id,
        redirect_uris,
        secret,
        public,
        scope,
        pairwise: _,
        public_sub,
        post_logout_redirect_uris,
        jwks,
        id_token_alg,
        require_par,
        sector_identifier,
        backchannel_logout_uri,
        resource_server,
        client_name,
        logo_uri,
        policy_uri,
        dpop,
        profile,
        pkce_optional,
    } = command;
    let new = oidc::clients::NewClient {
        client_id,
        redirect_uris,
        post_logout_redirect_uris,
        secret,
        public,
        scopes: scope
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        public_subject: public_sub,
        jwks: read_jwks(jwks)?,
        id_token_alg,
        require_par,
        sector_identifier,
        backchannel_logout_uri,
        resource_audience: resource_server,
        client_name,
        logo_uri,
        policy_uri,
        dpop,
        profile,
        pkce_optional,
    };
    let registered = oidc::clients::register(state, new)
        .await
        .map_err(describe_invalid)?;
    let c = &registered.client;
    println!(
        "registered client {} ({}, {} subjects, scopes: {})",
        c.client_id,
        client_kind(c),
        c.subject_type,
        c.scopes.join(" ")
    );
    println!("profile {}, DPoP {}", c.profile, c.dpop);
    if let Some(audience) = &c.resource_audience {
        println!("resource server of audience {audience}");
    }
    if let Some(secret) = registered.secret {
        println!("client secret (shown once): {secret}");
    }
    Ok(())
}

/// How a client authenticates, as the admin commands print it.
fn client_kind(client: &ClientRow) -> &'static str {
    use eservices::domain::oauth::AuthMethod;
    match client.auth_method {
        AuthMethod::ClientSecret => "confidential",
        AuthMethod::PrivateKeyJwt => "confidential/private_key_jwt",
        AuthMethod::None => "public",
    }
}
