//! The demo's OpenID clients: the mobile app (public, PKCE, DPoP required)
//! and one confidential integrator; a client seeded before is brought up
//! to date (scopes added since, its name and DPoP policy).

use sha2::{Digest, Sha256};

use super::SeedReport;
use crate::{
    domain::oauth::DpopPolicy,
    oidc::{
        Provider,
        clients::{NewClient, register},
    },
};

/// The demo clients; `secret` is the integrator's.
fn demo_clients(secret: &str) -> [NewClient; 2] {
    [
        NewClient {
            client_id: "dichvucong-app".into(),
            redirect_uris: vec![
                "vn.gov.hochiminhcity.dichvucong:/oauth2/callback".into(),
                "http://127.0.0.1:8765/callback".into(),
            ],
            public: true,
            scopes: [
                "openid",
                "profile",
                "email",
                "phone",
                "national_id",
                "business",
                "account",
                "dossiers",
                "vault",
                "offline_access",
            ]
            .map(str::to_owned)
            .to_vec(),
            client_name: Some("Ứng dụng Dịch vụ công TP.HCM".into()),
            // The app's tokens are bound to a key it holds (RFC 9449).
            dpop: Some("required".into()),
            ..NewClient::default()
        },
        NewClient {
            client_id: "mot-cua-quan-1".into(),
            redirect_uris: vec!["http://127.0.0.1:8766/callback".into()],
            post_logout_redirect_uris: vec!["http://127.0.0.1:8766/".into()],
            secret: Some(secret.to_owned()),
            scopes: ["openid", "profile", "email"].map(str::to_owned).to_vec(),
            client_name: Some("Phần mềm một cửa Quận 1".into()),
            ..NewClient::default()
        },
    ]
}

/// Brings a client seeded before up to date: the scopes added since (the
/// app's `vault`), its name and DPoP policy.
async fn update(state: &Provider, client: &NewClient) -> anyhow::Result<()> {
    let dpop = DpopPolicy::parse(client.dpop.as_deref().unwrap_or("optional"))
        .unwrap_or(DpopPolicy::Optional);
    let mut conn = state.db.get().await?;
    crate::storage::oidc::add_client_scopes(&mut conn, &client.client_id, &client.scopes).await?;
    crate::storage::oidc::set_client_presentation(
        &mut conn,
        &client.client_id,
        client.client_name.as_deref(),
        dpop,
    )
    .await?;
    state.client_cache.forget(&client.client_id);
    Ok(())
}

/// Registers (or updates) the demo clients.
pub(super) async fn seed_demo_clients(
    state: &Provider,
    report: &mut SeedReport,
) -> anyhow::Result<()> {
    let secret: String = Sha256::digest(b"eservices demo integrator secret")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let existing: Vec<String> = crate::oidc::clients::list(state)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    report.lines.push(String::new());
    report.lines.push("Demo OpenID clients:".into());
    for client in demo_clients(&secret) {
        if existing.contains(&client.client_id) {
            update(state, &client).await?;
        } else {
            register(state, client)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    report
        .lines
        .push("  dichvucong-app   public (PKCE, DPoP required), the mobile app".into());
    report
        .lines
        .push(format!("  mot-cua-quan-1   confidential, secret {secret}"));
    Ok(())
}
