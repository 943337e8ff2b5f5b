//! Sign-in with the national identity provider (VNeID), as an OpenID Connect
//! relying party: discovery, authorization code flow with PKCE (S256), state
//! and nonce, ID token validation (signature, issuer, audience, expiry, nonce).
//!
//! The verified claims (national ID, name, date of birth, sex; claim names
//! configurable) map to one citizen through `identity::proofing`: a first
//! sign-in creates the account at level 2; a proven account is linked; an
//! unproven account holding the national ID (anyone can type a stranger's ID
//! into the registration form) is replaced, never raised with the claimant's
//! credentials.

use std::{collections::HashMap, time::Duration};

use chrono::NaiveDate;
use diesel_async::AsyncConnection;
use openidconnect::{
    AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse,
    core::{
        CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
        CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken,
        CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
    },
};
use redis::AsyncCommands;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;
use unicode_normalization::UnicodeNormalization;

use crate::infra::Core;
use crate::{
    config::VneidSettings,
    domain::{
        national_id::{NationalId, Sex},
        person_name::PersonName,
        proofing::{Binding, Recognised},
    },
    error::{AppError, AppResult, ErrorKind},
    identity::{
        ClientInfo, emails,
        proofing::{self, Proof, ProofMethod, ProvenIdentity},
    },
    kv::Kv,
    notify::{outbox::Envelope, queue_email},
    storage::accounts::{self, AccountRow},
};

/// How long a started sign-in may take to come back.
const STATE_TTL: Duration = Duration::from_secs(600);
/// How long discovery results are reused.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);

/// Every claim beyond the standard ones, by name (the claim names are configurable).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VneidClaims {
    /// Claim name → value.
    #[serde(flatten)]
    pub claims: HashMap<String, serde_json::Value>,
}

impl AdditionalClaims for VneidClaims {}

type VneidTokenResponse = StandardTokenResponse<
    IdTokenFields<
        VneidClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

type VneidClient = Client<
    VneidClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    VneidTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What is kept between the redirect to VNeID and its answer.
#[derive(Debug, Serialize, Deserialize)]
struct PendingSignIn {
    nonce: String,
    pkce_verifier: String,
    return_to: String,
}

/// The relying party: configuration, an HTTP client, cached discovery.
pub struct Vneid {
    settings: VneidSettings,
    redirect_uri: RedirectUrl,
    http: openidconnect::reqwest::Client,
    metadata: RwLock<Option<(std::time::Instant, CoreProviderMetadata)>>,
}

impl std::fmt::Debug for Vneid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vneid")
            .field("issuer", &self.settings.issuer.as_str())
            .finish()
    }
}

fn upstream_unavailable(err: impl std::fmt::Display) -> AppError {
    AppError::unavailable("vneid_unavailable")
        .with_detail(
            "Không kết nối được với hệ thống định danh điện tử VNeID; vui lòng thử lại sau.",
        )
        .with_source(anyhow::anyhow!("{err}"))
}

fn sign_in_failed(code: &'static str, err: impl std::fmt::Display) -> AppError {
    AppError::bad_request(code)
        .with_detail("Đăng nhập bằng VNeID không thành công. Vui lòng thử lại.")
        .with_source(anyhow::anyhow!("{err}"))
}

impl Vneid {
    /// A relying party whose callback is `{public_url}/login/vneid/callback`.
    pub fn new(settings: VneidSettings, public_url: &str) -> anyhow::Result<Self> {
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would open the client to SSRF.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            redirect_uri: RedirectUrl::new(format!("{public_url}/login/vneid/callback"))?,
            settings,
            http,
            metadata: RwLock::new(None),
        })
    }

    async fn client(&self) -> AppResult<VneidClient> {
        let cached = self
            .metadata
            .read()
            .await
            .as_ref()
            .filter(|(at, _)| at.elapsed() < DISCOVERY_TTL)
            .map(|(_, m)| m.clone());
        let metadata = match cached {
            Some(m) => m,
            None => {
                let issuer = IssuerUrl::new(
                    self.settings
                        .issuer
                        .as_str()
                        .trim_end_matches('/')
                        .to_owned(),
                )
                .map_err(upstream_unavailable)?;
                let m = CoreProviderMetadata::discover_async(issuer, &self.http)
                    .await
                    .map_err(upstream_unavailable)?;
                *self.metadata.write().await = Some((std::time::Instant::now(), m.clone()));
                m
            }
        };
        Ok(Client::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(
                self.settings.client_secret.expose_secret().to_owned(),
            )),
        )
        .set_redirect_uri(self.redirect_uri.clone()))
    }

    fn state_key(kv: &Kv, state: &str) -> String {
        kv.key(&format!(
            "vneid_state:{}",
            crate::crypto::tokens::hash_hex(state)
        ))
    }

    /// Starts a sign-in: returns the URL to send the browser to and the
    /// `state`, which the caller also binds to the browser (a cookie).
    pub async fn start(&self, kv: &Kv, return_to: &str) -> AppResult<(String, String)> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in self.settings.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let pending = PendingSignIn {
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            return_to: return_to.to_owned(),
        };
        let body = serde_json::to_string(&pending).map_err(AppError::internal)?;
        let mut conn = kv.conn().await?;
        let _: () = conn
            .set_ex(
                Self::state_key(kv, state.secret()),
                body,
                STATE_TTL.as_secs(),
            )
            .await?;
        Ok((url.to_string(), state.secret().clone()))
    }

    /// Forgets a started sign-in (after an error answer from VNeID).
    pub async fn discard(&self, kv: &Kv, state: &str) -> AppResult<()> {
        let mut conn = kv.conn().await?;
        let _: () = conn.del(Self::state_key(kv, state)).await?;
        Ok(())
    }

    /// Finishes a sign-in: checks the state (once), exchanges the code with the
    /// PKCE verifier, validates the ID token and returns its verified identity
    /// and where to go next.
    pub async fn finish(
        &self,
        kv: &Kv,
        state: &str,
        code: &str,
    ) -> AppResult<(VerifiedIdentity, String)> {
        let mut conn = kv.conn().await?;
        let raw: Option<String> = redis::cmd("GETDEL")
            .arg(Self::state_key(kv, state))
            .query_async(&mut conn)
            .await?;
        let pending: PendingSignIn = raw
            .and_then(|r| serde_json::from_str(&r).ok())
            .ok_or_else(|| sign_in_failed("vneid_invalid_state", "unknown or expired state"))?;
        let client = self.client().await?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(upstream_unavailable)?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| sign_in_failed("vneid_token_exchange_failed", e))?;
        let id_token = response.id_token().ok_or_else(|| {
            sign_in_failed("vneid_no_id_token", "no ID token in the token response")
        })?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(pending.nonce))
            .map_err(|e| sign_in_failed("vneid_invalid_id_token", e))?;
        let extra = &claims.additional_claims().claims;
        let standard = |name: &str| -> Option<String> {
            match name {
                "name" => claims
                    .name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.to_string()),
                "birthdate" => claims.birthdate().map(|b| b.to_string()),
                "gender" => claims.gender().map(|g| g.as_str().to_owned()),
                _ => None,
            }
            .or_else(|| extra.get(name).and_then(|v| v.as_str()).map(str::to_owned))
        };
        let mut identity = VerifiedIdentity::from_claims(
            claims.issuer().as_str(),
            claims.subject().as_str(),
            standard(&self.settings.claim_national_id),
            standard(&self.settings.claim_name),
            standard(&self.settings.claim_birthdate),
            standard(&self.settings.claim_gender),
        )?;
        identity.address = claims
            .address()
            .and_then(|a| serde_json::to_value(a).ok())
            .and_then(|v| address_claim(&v));
        Ok((identity, pending.return_to))
    }
}

/// The identity VNeID vouched for.
#[derive(Debug, Clone)]
pub struct VerifiedIdentity {
    /// The provider.
    pub issuer: String,
    /// The person's subject at the provider.
    pub subject: String,
    /// National ID.
    pub national_id: NationalId,
    /// Full name.
    pub full_name: PersonName,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Sex.
    pub sex: Sex,
    /// The address, when the provider gave one (OpenID `address` structure).
    pub address: Option<serde_json::Value>,
}

/// The members of an OpenID `address` claim we keep: strings of sane length
/// only; `None` when nothing usable is left.
pub fn address_claim(raw: &serde_json::Value) -> Option<serde_json::Value> {
    const MEMBERS: [&str; 6] = [
        "formatted",
        "street_address",
        "locality",
        "region",
        "postal_code",
        "country",
    ];
    let mut kept = serde_json::Map::new();
    for name in MEMBERS {
        if let Some(value) = raw.get(name).and_then(serde_json::Value::as_str) {
            let value: String = value.nfc().collect();
            let value = value.trim();
            if !value.is_empty()
                && value.chars().count() <= 500
                && !value.chars().any(|c| c.is_control() && c != '\n')
            {
                kept.insert(name.to_owned(), value.into());
            }
        }
    }
    (!kept.is_empty()).then_some(serde_json::Value::Object(kept))
}

impl VerifiedIdentity {
    /// Parses the claims; a missing or malformed one fails the sign-in.
    pub fn from_claims(
        issuer: &str,
        subject: &str,
        national_id: Option<String>,
        name: Option<String>,
        birthdate: Option<String>,
        gender: Option<String>,
    ) -> AppResult<Self> {
        let missing = |what: &str| {
            sign_in_failed(
                "vneid_missing_claim",
                format!("claim {what} missing or invalid"),
            )
        };
        let national_id = NationalId::parse(national_id.as_deref().unwrap_or_default())
            .map_err(|_| missing("national_id"))?;
        let full_name =
            PersonName::parse(name.as_deref().unwrap_or_default()).map_err(|_| missing("name"))?;
        let date_of_birth =
            NaiveDate::parse_from_str(birthdate.as_deref().unwrap_or_default(), "%Y-%m-%d")
                .map_err(|_| missing("birthdate"))?;
        let sex =
            Sex::parse(gender.as_deref().unwrap_or_default()).map_err(|_| missing("gender"))?;
        national_id
            .check_birth(date_of_birth, sex)
            .map_err(|e| sign_in_failed("vneid_inconsistent_claims", e))?;
        Ok(Self {
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
            national_id,
            full_name,
            date_of_birth,
            sex,
            address: None,
        })
    }
}

/// The account a verified identity belongs to (see `identity::proofing`:
/// created, or the holder of the national ID raised, or a claimant's
/// unproven account replaced) and whether access opened before must end.
/// One transaction; the national ID's uniqueness settles races.
pub async fn account_for(
    state: &Core,
    identity: &VerifiedIdentity,
    client: &ClientInfo,
) -> AppResult<(AccountRow, bool)> {
    let now = state.clock.now();
    let domain = state.settings.mail_domain();
    let proof = Proof {
        national_id: identity.national_id.clone(),
        identity: Some(ProvenIdentity {
            national_id: identity.national_id.clone(),
            full_name: identity.full_name.clone(),
            date_of_birth: identity.date_of_birth,
            sex: identity.sex,
        }),
        method: ProofMethod::Vneid {
            issuer: identity.issuer.clone(),
        },
        // Nobody can ask the person whether the account's details are theirs.
        recognised: Recognised::No,
        expected_account: None,
    };
    let mut conn = state.db.get().await?;
    let bound = conn
        .transaction::<_, AppError, _>(async |c| {
            // A VNeID identity already linked to another account is a conflict
            // for the support desk, whatever the national ID says.
            if let Some(linked) =
                accounts::find_federated(c, &identity.issuer, &identity.subject).await?
                && let Some(holder) = proofing::holder(c, &identity.national_id).await?
                && linked != holder.id
            {
                return Err(AppError::new(ErrorKind::Conflict, "vneid_identity_conflict").with_detail(
                    "Tài khoản VNeID này đã liên kết với một tài khoản khác. Vui lòng liên hệ bộ phận hỗ trợ.",
                ));
            }
            let bound = proofing::bind(c, &proof, client, now).await?;
            let id = bound.account.id;
            accounts::link_federated(c, &identity.issuer, &identity.subject, id, now).await?;
            if let Some(address) = &identity.address {
                accounts::set_address(c, id, address, "vneid", now).await?;
            }
            let method = "đăng nhập bằng tài khoản định danh điện tử VNeID";
            if let Some(old) = &bound.replaced_email {
                queue_email(
                    c,
                    now,
                    &Envelope { to: old, account_id: None, mail_domain: &domain },
                    &emails::IdentityReclaimed {
                        national_id_tail: crate::domain::proofing::mask_national_id(identity.national_id.as_str()),
                        method: method.into(),
                        at: emails::vietnam_time(now),
                    },
                )
                .await?;
            }
            if bound.binding == Binding::Raise
                && let Some(email) = crate::identity::verified_email(&bound.account)
            {
                queue_email(
                    c,
                    now,
                    &Envelope { to: &email, account_id: Some(id), mail_domain: &domain },
                    &emails::LevelRaised {
                        full_name: identity.full_name.as_str().to_owned(),
                        method: method.into(),
                        at: emails::vietnam_time(now),
                    },
                )
                .await?;
            }
            Ok(bound)
        })
        .await?;
    let ends = bound.end_sessions;
    Ok((bound.account, ends))
}
