//! Basic OP, request objects (Core §6): the suite accepts an OP that
//! processes them correctly or one that says it does not support them; it
//! must never ignore one silently. We take none (PAR instead), and say so.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use super::code_flow::discovery;
use super::{AuthRequest, CLIENT, Op, REDIRECT};

/// `req`'s parameters as an unsigned request object (`alg: none`).
fn unsigned_request_object(req: &AuthRequest) -> String {
    let claims: Map<String, Value> = req
        .params
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s.as_bytes());
    format!(
        "{}.{}.",
        b64(r#"{"alg":"none"}"#),
        b64(&Value::Object(claims).to_string())
    )
}

/// What the suite puts in the query beside a request object: the
/// parameters OAuth 2.0 itself requires, with `redirect_uri`.
fn outer(inner: &AuthRequest, redirect_uri: &str) -> AuthRequest {
    AuthRequest::new(inner.client_id())
        .without("state")
        .without("nonce")
        .without("code_challenge")
        .without("code_challenge_method")
        .with("redirect_uri", redirect_uri)
}

/// `oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported`:
/// an unsigned request object by value is either honoured (a code with its
/// `state`) or refused with `request_not_supported` at the redirect URI;
/// discovery must agree.
#[tokio::test]
async fn oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported() {
    let op = Op::start().await;
    let inner = AuthRequest::new(CLIENT);
    let req = outer(&inner, REDIRECT).with("request", &unsigned_request_object(&inner));
    let callback = op.authorize(&req).await;
    let supported = discovery(&op).await["request_parameter_supported"].clone();
    match callback.param("error") {
        Some(error) => {
            assert_eq!(error, "request_not_supported", "{:?}", callback.params);
            assert!(callback.location.starts_with(REDIRECT));
            assert_eq!(callback.param("code"), None);
            assert_eq!(supported, false, "discovery says the same");
        }
        None => {
            let tokens = op.exchange(&inner, &callback).await;
            op.id_token_claims(&tokens, &inner).await;
            assert_eq!(supported, true, "discovery says the same");
        }
    }
}

/// `oidcc-ensure-request-object-with-redirect-uri`: the request object
/// names the registered redirect URI, the query an unregistered one. The
/// OP either uses the request object's (Core §6.1) or shows an error page;
/// it never sends the browser anywhere with an error.
#[tokio::test]
async fn oidcc_ensure_request_object_with_redirect_uri() {
    let op = Op::start().await;
    let inner = AuthRequest::new(CLIENT);
    let invalid = format!("{REDIRECT}_invalid");
    let req = outer(&inner, &invalid).with("request", &unsigned_request_object(&inner));
    let res = op
        .browser
        .get(op.app.url(&req.path()))
        .send()
        .await
        .expect("authorize");
    if res.status() == 400 {
        assert!(res.headers().get("location").is_none(), "an error page");
        return;
    }
    let callback = op.follow(res).await;
    assert!(!callback.location.starts_with(&invalid), "never there");
    callback.code(&op, &inner);
}

/// `oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported`
/// (dynamic clients only in the Foundation's plan): discovery says
/// `request_uri` is not supported, and a `request_uri` we did not issue
/// (PAR) is refused: no code, never fetched.
#[tokio::test]
async fn oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported() {
    let op = Op::start().await;
    assert_eq!(
        discovery(&op).await["request_uri_parameter_supported"],
        false
    );
    let inner = AuthRequest::new(CLIENT);
    let req = outer(&inner, REDIRECT).with(
        "request_uri",
        "https://rp.example/test/a/oidf/requesturi/unsigned.jwt",
    );
    let res = op
        .browser
        .get(op.app.url(&req.path()))
        .send()
        .await
        .expect("authorize");
    if res.status() == 400 {
        assert!(res.headers().get("location").is_none(), "an error page");
        return;
    }
    let callback = op.follow(res).await;
    assert_eq!(callback.param("code"), None, "{:?}", callback.params);
    assert_eq!(callback.param("error"), Some("request_uri_not_supported"));
}
