//! Validation of a client registration: exact redirect URIs (https, http on
//! loopback only, or a private-use scheme for native apps; never a
//! fragment), known scopes, exactly one authentication method, a supported
//! ID token algorithm, sector and resource-server options that fit the
//! client. Every problem is reported at once, by field.

use url::Url;

use super::{AuthMethod, ClientProfile, DpopPolicy, IdTokenAlg, SubjectType};
use crate::domain::Invalid;

/// Scopes a client may be given (besides the vault's record scopes).
pub const KNOWN_SCOPES: [&str; 11] = [
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "national_id",
    "business",
    "account",
    "dossiers",
    "vault",
    "offline_access",
];

pub use crate::domain::vault::VAULT_SCOPES;

/// Whether a client may be registered with `scope`.
pub fn is_known_scope(scope: &str) -> bool {
    KNOWN_SCOPES.contains(&scope) || VAULT_SCOPES.contains(&scope)
}

/// A client to register.
#[derive(Debug, Default)]
pub struct NewClient {
    /// The id.
    pub client_id: String,
    /// Redirect URIs (exact match).
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs (exact match).
    pub post_logout_redirect_uris: Vec<String>,
    /// `Some(secret)` for a confidential client with a given secret; `None` with
    /// `public` false generates one.
    pub secret: Option<String>,
    /// A public client (no secret).
    pub public: bool,
    /// Allowed scopes (default `openid profile`).
    pub scopes: Vec<String>,
    /// Public subject identifiers instead of pairwise ones (trusted clients only).
    pub public_subject: bool,
    /// The client's public keys (a JWK Set): it authenticates with
    /// `private_key_jwt` instead of a secret.
    pub jwks: Option<serde_json::Value>,
    /// `RS256` (default) or `ES256` for its ID tokens.
    pub id_token_alg: Option<String>,
    /// Accept authorization requests only through PAR.
    pub require_par: bool,
    /// Pairwise subjects per this sector (shared by the clients of one organisation).
    pub sector_identifier: Option<String>,
    /// Where to post logout tokens when a session it joined ends.
    pub backchannel_logout_uri: Option<String>,
    /// Registers the client as the resource server of this audience URI
    /// (tokens asked for it with RFC 8707 `resource`; the only ones it may introspect).
    pub resource_audience: Option<String>,
    /// The organisation's name on the consent page.
    pub client_name: Option<String>,
    /// The organisation's logo (https).
    pub logo_uri: Option<String>,
    /// The organisation's privacy policy (https).
    pub policy_uri: Option<String>,
    /// `off`, `optional` (default) or `required`: DPoP-bound tokens (RFC 9449).
    pub dpop: Option<String>,
    /// `standard` (default) or `fapi2` (FAPI 2.0 Security Profile).
    pub profile: Option<String>,
    /// Authorization requests without PKCE are accepted (confidential,
    /// non-FAPI clients only: RFC 9700 §2.1.1).
    pub pkce_optional: bool,
}

/// What a valid registration settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The scopes (`openid profile` when none were given).
    pub scopes: Vec<String>,
    /// Its one authentication method.
    pub auth_method: AuthMethod,
    /// Its subject identifiers.
    pub subject_type: SubjectType,
    /// Its ID token algorithm.
    pub id_token_alg: IdTokenAlg,
    /// Whether its tokens are DPoP-bound.
    pub dpop: DpopPolicy,
    /// Its security profile.
    pub profile: ClientProfile,
    /// Authorization requests only through PAR.
    pub require_par: bool,
}

/// The problems of a registration, by field.
pub type Problems = Vec<(&'static str, Invalid)>;

fn loopback(url: &Url) -> bool {
    matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
}

/// A redirect URI: https anywhere; http only for loopback (development,
/// native apps); a private-use scheme (`com.example.app:/cb`) for the
/// mobile app; never a fragment.
pub fn valid_redirect(raw: &str) -> bool {
    match Url::parse(raw) {
        Ok(url) if url.fragment().is_none() => match url.scheme() {
            "https" => url.host_str().is_some(),
            "http" => loopback(&url),
            scheme => scheme.contains('.'),
        },
        _ => false,
    }
}

/// A server-to-server URI (back-channel logout): https, or http on loopback.
pub fn valid_backchannel(raw: &str) -> bool {
    match Url::parse(raw) {
        Ok(url) if url.fragment().is_none() => match url.scheme() {
            "https" => url.host_str().is_some(),
            "http" => loopback(&url),
            _ => false,
        },
        _ => false,
    }
}

/// Whether an audience URI may be registered for a resource server: an
/// absolute https URI (http only on loopback, for development), without a
/// fragment (RFC 8707 §2).
pub fn valid_audience(raw: &str) -> bool {
    raw.len() <= 500 && valid_backchannel(raw)
}

/// The client id format: 3–100 of letters, digits, `-`, `_`, `.`.
pub fn valid_client_id(id: &str) -> bool {
    (3..=100).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A client's JWK Set must hold at least one public key we can verify with, and no private ones.
pub fn check_jwks(jwks: &serde_json::Value) -> Result<(), Invalid> {
    let invalid = |detail: String| Invalid::new("jwks_invalid", detail);
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone())
        .map_err(|e| invalid(format!("JWKS không đọc được: {e}")))?;
    if set.keys.is_empty() {
        return Err(invalid("JWKS không có khóa nào.".into()));
    }
    let raw_keys = jwks
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    if raw_keys.iter().any(|k| k.get("d").is_some()) {
        return Err(invalid(
            "JWKS chứa khóa bí mật: chỉ đăng ký khóa công khai.".into(),
        ));
    }
    for key in &set.keys {
        jsonwebtoken::DecodingKey::from_jwk(key)
            .map_err(|e| invalid(format!("Khóa không dùng được: {e}")))?;
    }
    Ok(())
}

/// The one authentication method the registration implies.
pub fn auth_method(new: &NewClient) -> AuthMethod {
    if new.public {
        AuthMethod::None
    } else if new.jwks.is_some() {
        AuthMethod::PrivateKeyJwt
    } else {
        AuthMethod::ClientSecret
    }
}

fn check_uris(new: &NewClient, problems: &mut Problems) {
    if !valid_client_id(&new.client_id) {
        problems.push((
            "client_id",
            Invalid::new(
                "client_id_format",
                "client_id: 3–100 ký tự chữ, số, '-', '_', '.'.",
            ),
        ));
    }
    if new.redirect_uris.is_empty() {
        problems.push((
            "redirect_uri",
            Invalid::new("redirect_uri_missing", "Cần ít nhất một redirect URI."),
        ));
    }
    for uri in new
        .redirect_uris
        .iter()
        .chain(&new.post_logout_redirect_uris)
    {
        if !valid_redirect(uri) {
            problems.push((
                "redirect_uri",
                Invalid::new(
                    "redirect_uri_invalid",
                    format!("URI không hợp lệ: {uri} (https, http://127.0.0.1 hoặc scheme riêng của ứng dụng; không có #)."),
                ),
            ));
        }
    }
}

fn check_credentials(new: &NewClient, problems: &mut Problems) {
    if new.public && new.secret.is_some() {
        problems.push((
            "secret",
            Invalid::new("secret_for_public", "Client công khai không có secret."),
        ));
    }
    if new.jwks.is_some() && (new.public || new.secret.is_some()) {
        problems.push((
            "jwks",
            Invalid::new(
                "jwks_with_other_method",
                "Client dùng khóa (private_key_jwt) không có secret và không phải client công khai.",
            ),
        ));
    }
    if let Some(jwks) = &new.jwks
        && let Err(problem) = check_jwks(jwks)
    {
        problems.push(("jwks", problem));
    }
}

fn check_logout_and_subjects(new: &NewClient, problems: &mut Problems) {
    if let Some(uri) = &new.backchannel_logout_uri
        && !valid_backchannel(uri)
    {
        problems.push((
            "backchannel_logout_uri",
            Invalid::new(
                "backchannel_logout_uri_invalid",
                format!("URI đăng xuất kênh sau không hợp lệ: {uri} (https, hoặc http://127.0.0.1 khi phát triển)."),
            ),
        ));
    }
    if let Some(sector) = &new.sector_identifier
        && (!(1..=200).contains(&sector.len())
            || sector.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        problems.push((
            "sector_identifier",
            Invalid::new(
                "sector_identifier_invalid",
                "Định danh lĩnh vực (sector) không hợp lệ.",
            ),
        ));
    }
    if new.public_subject && new.sector_identifier.is_some() {
        problems.push((
            "sector_identifier",
            Invalid::new(
                "sector_with_public_subject",
                "Client dùng định danh công khai không có sector.",
            ),
        ));
    }
}

fn check_resource_server(new: &NewClient, problems: &mut Problems) {
    let Some(audience) = &new.resource_audience else {
        return;
    };
    if !valid_audience(audience) {
        problems.push((
            "resource_server",
            Invalid::new(
                "resource_audience_invalid",
                format!("Định danh máy chủ tài nguyên không hợp lệ: {audience} (URI https, hoặc http://127.0.0.1 khi phát triển; không có #)."),
            ),
        ));
    }
    if new.public {
        problems.push((
            "resource_server",
            Invalid::new(
                "resource_server_public",
                "Máy chủ tài nguyên phải là client bảo mật (có secret hoặc khóa) để tra cứu mã truy cập.",
            ),
        ));
    }
}

/// The organisation shown on the consent page: a short name, https links.
fn check_presentation(new: &NewClient, problems: &mut Problems) {
    if let Some(name) = &new.client_name
        && (!(1..=120).contains(&name.chars().count()) || name.chars().any(char::is_control))
    {
        problems.push((
            "client_name",
            Invalid::new(
                "client_name_invalid",
                "Tên tổ chức: 1–120 ký tự, không có ký tự điều khiển.",
            ),
        ));
    }
    for (field, uri) in [("logo_uri", &new.logo_uri), ("policy_uri", &new.policy_uri)] {
        if let Some(uri) = uri
            && !(uri.len() <= 500
                && Url::parse(uri).is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some()))
        {
            problems.push((
                field,
                Invalid::new(
                    "presentation_uri_invalid",
                    format!("Địa chỉ không hợp lệ: {uri} (chỉ https)."),
                ),
            ));
        }
    }
}

/// The DPoP policy and the profile; a FAPI 2.0 client must authenticate
/// with `private_key_jwt`, use DPoP and sign its ID tokens with ES256.
fn check_profile(
    new: &NewClient,
    id_token_alg: Option<IdTokenAlg>,
    problems: &mut Problems,
) -> (Option<DpopPolicy>, Option<ClientProfile>) {
    let profile = ClientProfile::parse(new.profile.as_deref().unwrap_or("standard"));
    if profile.is_none() {
        problems.push((
            "profile",
            Invalid::new("profile_unknown", "Hồ sơ bảo mật: standard hoặc fapi2."),
        ));
    }
    let fapi = profile == Some(ClientProfile::Fapi2);
    let default_dpop = if fapi { "required" } else { "optional" };
    let dpop = DpopPolicy::parse(new.dpop.as_deref().unwrap_or(default_dpop));
    if dpop.is_none() {
        problems.push((
            "dpop",
            Invalid::new("dpop_unknown", "DPoP: off, optional hoặc required."),
        ));
    }
    if new.pkce_optional && (fapi || new.public) {
        problems.push((
            "pkce",
            Invalid::new(
                "pkce_required",
                "PKCE là bắt buộc với client công khai và client FAPI 2.0.",
            ),
        ));
    }
    if !fapi {
        return (dpop, profile);
    }
    let mut refuse = |field: &'static str, detail: &str| {
        problems.push((
            field,
            Invalid::new("fapi2_violation", format!("FAPI 2.0: {detail}")),
        ));
    };
    if auth_method(new) != AuthMethod::PrivateKeyJwt {
        refuse(
            "jwks",
            "client phải xác thực bằng private_key_jwt (đăng ký JWKS).",
        );
    }
    if dpop.is_some_and(|d| d != DpopPolicy::Required) {
        refuse("dpop", "mã truy cập phải gắn khóa (DPoP bắt buộc).");
    }
    if id_token_alg.is_some_and(|a| a != IdTokenAlg::Es256) {
        refuse("id_token_alg", "ID token ký bằng ES256.");
    }
    (dpop, profile)
}

/// Validates a registration: what it settles, or every problem by field
/// (in the order the fields are checked).
pub fn validate(new: &NewClient) -> Result<Settled, Problems> {
    let mut problems = Problems::new();
    check_uris(new, &mut problems);
    let scopes: Vec<String> = if new.scopes.is_empty() {
        vec!["openid".into(), "profile".into()]
    } else {
        new.scopes.clone()
    };
    for scope in scopes.iter().filter(|s| !is_known_scope(s)) {
        problems.push((
            "scope",
            Invalid::new(
                "scope_unknown",
                format!("Phạm vi không được hỗ trợ: {scope}"),
            ),
        ));
    }
    check_credentials(new, &mut problems);
    let default_alg = if new.profile.as_deref() == Some("fapi2") {
        "ES256"
    } else {
        "RS256"
    };
    let id_token_alg = IdTokenAlg::parse(new.id_token_alg.as_deref().unwrap_or(default_alg));
    if id_token_alg.is_none() {
        problems.push((
            "id_token_alg",
            Invalid::new(
                "id_token_alg_unsupported",
                "Thuật toán ký ID token: RS256 hoặc ES256.",
            ),
        ));
    }
    check_logout_and_subjects(new, &mut problems);
    check_resource_server(new, &mut problems);
    check_presentation(new, &mut problems);
    let (dpop, profile) = check_profile(new, id_token_alg, &mut problems);
    if let Some(secret) = &new.secret
        && secret.len() < 32
    {
        problems.push((
            "secret",
            Invalid::new("secret_too_short", "Secret phải dài ít nhất 32 ký tự."),
        ));
    }
    match (id_token_alg, dpop, profile) {
        (Some(id_token_alg), Some(dpop), Some(profile)) if problems.is_empty() => Ok(Settled {
            scopes,
            auth_method: auth_method(new),
            subject_type: if new.public_subject {
                SubjectType::Public
            } else {
                SubjectType::Pairwise
            },
            id_token_alg,
            dpop,
            profile,
            require_par: new.require_par || profile == ClientProfile::Fapi2,
        }),
        _ => Err(problems),
    }
}

#[cfg(test)]
#[path = "registration_tests.rs"]
mod tests;
