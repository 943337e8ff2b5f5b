//! The client's back channel: the token endpoint (RFC 6749 §5), the ID
//! token checks of the suite's `PerformStandardIdTokenChecks`, UserInfo.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, Validation, jwk::Jwk};
use serde_json::Value;
use sha2::Digest;

use super::{AuthRequest, Callback, Op, SECRET};

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    /// `client_secret_basic`.
    SecretBasic,
    /// `client_secret_post`.
    SecretPost,
}

/// A successful token response (RFC 6749 §5.1, Core §3.1.3.3).
#[derive(Debug)]
pub(crate) struct TokenSet {
    pub(crate) access_token: String,
    pub(crate) id_token: Option<String>,
    pub(crate) refresh_token: Option<String>,
}

impl TokenSet {
    /// Reads a token response as the suite does: 200, JSON, not cached,
    /// `Bearer`, a positive `expires_in`, tokens of RFC 6749's characters.
    pub(crate) async fn read(res: reqwest::Response) -> Self {
        assert_no_store(&res);
        let body: Value = crate::helpers::read_json(res, 200).await;
        assert_eq!(body["token_type"], "Bearer", "{body}");
        assert!(body["expires_in"].as_i64().is_some_and(|s| s > 0), "{body}");
        let text = |name: &str| body[name].as_str().map(str::to_owned);
        let access_token = text("access_token").expect("an access token");
        let refresh_token = text("refresh_token");
        // RFC 6749 A.12 and A.17: VSCHAR.
        for token in std::iter::once(&access_token).chain(&refresh_token) {
            assert!(token.bytes().all(|b| (0x20..=0x7e).contains(&b)));
        }
        Self {
            access_token,
            id_token: text("id_token"),
            refresh_token,
        }
    }

    /// The ID token, which the code exchange must give (Core §3.1.3.3).
    pub(crate) fn id_token(&self) -> &str {
        self.id_token.as_deref().expect("an ID token")
    }
}

/// A token-endpoint answer is JSON that no one caches (RFC 6749 §5.1).
pub(crate) fn assert_no_store(res: &reqwest::Response) {
    let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok());
    assert!(
        header("content-type").is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        res.headers()
    );
    assert_eq!(header("cache-control"), Some("no-store"));
    assert_eq!(header("pragma"), Some("no-cache"));
}

impl Op {
    /// A token request of `client_id`, authenticated as `auth`.
    pub(crate) async fn token_request(
        &self,
        client_id: &str,
        auth: ClientAuth,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let request = self.rp.post(self.app.url("/oauth2/token"));
        let request = match auth {
            ClientAuth::SecretBasic => request.basic_auth(client_id, Some(SECRET)).form(form),
            ClientAuth::SecretPost => {
                let credentials = [("client_id", client_id), ("client_secret", SECRET)];
                let fields: Vec<(&str, &str)> = form.iter().chain(&credentials).copied().collect();
                request.form(&fields)
            }
        };
        request.send().await.expect("token request")
    }

    /// Redeems `code` for `req`'s client.
    pub(crate) async fn redeem(
        &self,
        req: &AuthRequest,
        code: &str,
        auth: ClientAuth,
    ) -> reqwest::Response {
        let redirect = req.get("redirect_uri").expect("a redirect_uri");
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
        ];
        if let Some(verifier) = req.verifier() {
            form.push(("code_verifier", verifier));
        }
        self.token_request(req.client_id(), auth, &form).await
    }

    /// Redeems the code of `callback` (`client_secret_basic`).
    pub(crate) async fn exchange(&self, req: &AuthRequest, callback: &Callback) -> TokenSet {
        let code = callback.code(self, req);
        TokenSet::read(self.redeem(req, &code, ClientAuth::SecretBasic).await).await
    }

    /// The whole code flow of `req`: authorization (signing in and
    /// consenting as asked), exchange, ID token checks. Returns the
    /// callback, the tokens and the ID token's claims.
    pub(crate) async fn code_flow(&self, req: &AuthRequest) -> (Callback, TokenSet, Value) {
        let callback = self.authorize(req).await;
        let tokens = self.exchange(req, &callback).await;
        let claims = self.id_token_claims(&tokens, req).await;
        (callback, tokens, claims)
    }
}

/// The claims of a JWT, unverified.
pub(crate) fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a payload");
    let bytes = URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// Base64url of the left half of the SHA-256 of `token` (`at_hash`, RS256 and ES256).
fn half_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&sha2::Sha256::digest(token.as_bytes())[..16])
}

impl Op {
    /// The published key `kid` (JWKS).
    pub(crate) async fn published_key(&self, kid: &str) -> Jwk {
        let doc: Value = self
            .app
            .get("/oauth2/jwks")
            .await
            .json()
            .await
            .expect("jwks");
        let key = doc["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| k["kid"] == kid)
            .expect("the signing key is published")
            .clone();
        serde_json::from_value(key).expect("a JWK")
    }

    /// An ID token checked as the suite's `PerformStandardIdTokenChecks`
    /// and `ValidateIdTokenSignature`: a `kid` of our JWKS and a valid
    /// signature, `iss`, `aud`, `exp`, `iat`, `auth_time`, `sub`, `acr`,
    /// `nonce` (as asked, or absent) and `at_hash`. Returns its claims.
    pub(crate) async fn id_token_claims(&self, tokens: &TokenSet, req: &AuthRequest) -> Value {
        let id_token = tokens.id_token();
        let header = jsonwebtoken::decode_header(id_token).expect("a JWS");
        let kid = header.kid.clone().expect("a kid (Core §10.1)");
        let key = DecodingKey::from_jwk(&self.published_key(&kid).await).expect("key");
        let mut validation = Validation::new(header.alg);
        validation.set_audience(&[req.client_id()]);
        validation.set_issuer(&[self.issuer()]);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["iss", "aud", "exp", "sub"]);
        let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
            .expect("signed by our published key")
            .claims;
        assert_eq!(claims["aud"], req.client_id(), "aud is our client alone");
        let now = self.app.now().timestamp();
        let number = |name: &str| claims[name].as_i64().expect(name);
        assert!(
            number("exp") > now && number("exp") < now + 86_400,
            "{claims}"
        );
        assert!(
            number("iat") <= now && number("iat") > now - 600,
            "{claims}"
        );
        assert!(number("auth_time") <= now, "{claims}");
        let sub = claims["sub"].as_str().expect("sub");
        assert!(
            !sub.is_empty() && sub.len() <= 255 && sub.is_ascii(),
            "{sub}"
        );
        assert!(claims["acr"].as_str().is_some_and(|a| !a.is_empty()));
        assert_eq!(claims["nonce"].as_str(), req.get("nonce"), "nonce as asked");
        assert_eq!(claims["at_hash"], half_hash(&tokens.access_token));
        claims
    }

    /// UserInfo by GET with `access_token` in the header.
    pub(crate) async fn userinfo(&self, access_token: &str) -> reqwest::Response {
        self.rp
            .get(self.app.url("/oauth2/userinfo"))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("userinfo")
    }
}

/// A UserInfo answer as the suite reads it: 200, JSON, the ID token's
/// `sub`, standard claims of their specified types (Core §5.1).
pub(crate) async fn userinfo_claims(res: reqwest::Response, sub: &str) -> Value {
    let json = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    assert!(json, "{:?}", res.headers());
    let claims: Value = crate::helpers::read_json(res, 200).await;
    assert_eq!(claims["sub"], sub, "the ID token's subject (Core §5.3.2)");
    let strings = [
        "name",
        "given_name",
        "family_name",
        "email",
        "phone_number",
        "gender",
        "birthdate",
        "locale",
        "zoneinfo",
    ];
    for name in strings {
        assert!(claims.get(name).is_none_or(Value::is_string), "{name}");
    }
    for name in ["email_verified", "phone_number_verified"] {
        assert!(claims.get(name).is_none_or(Value::is_boolean), "{name}");
    }
    if let Some(birthdate) = claims.get("birthdate").and_then(Value::as_str) {
        chrono::NaiveDate::parse_from_str(birthdate, "%Y-%m-%d").expect("YYYY-MM-DD");
    }
    if let Some(address) = claims.get("address") {
        let members = address.as_object().expect("address is an object");
        assert!(members.values().all(Value::is_string), "{address}");
    }
    claims
}
