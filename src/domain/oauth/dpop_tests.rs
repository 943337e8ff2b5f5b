use super::*;
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use serde_json::json;

const URL: &str = "https://id.example/oauth2/token";

struct Key {
    secret: SigningKey,
    jwk: Value,
}

fn key() -> Key {
    let secret = SigningKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    let point = secret.verifying_key().to_encoded_point(false);
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    Key {
        secret: secret.clone(),
        jwk: json!({
            "kty": "EC", "crv": "P-256",
            "x": b64(point.x().expect("x")), "y": b64(point.y().expect("y")),
        }),
    }
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("time")
}

/// A compact JWS made by hand (the header exactly as given, ES256).
fn sign(key: &Key, header_jwk: &Value, typ: &str, claims: &Value) -> String {
    let header = json!({ "typ": typ, "alg": "ES256", "jwk": header_jwk });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: Signature = key.secret.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn claims(iat: i64) -> Value {
    json!({ "jti": "j-1", "htm": "POST", "htu": URL, "iat": iat })
}

fn expected(now: DateTime<Utc>) -> Expected<'static> {
    Expected {
        method: "POST",
        url: URL,
        now,
        access_token: None,
    }
}

#[test]
fn a_good_proof_gives_its_keys_thumbprint() {
    let k = key();
    let proof = sign(&k, &k.jwk, "dpop+jwt", &claims(t0().timestamp()));
    let checked = check(&proof, &expected(t0())).expect("valid");
    assert_eq!(checked.jkt, thumbprint(&k.jwk).expect("thumbprint"));
    assert_eq!(checked.jti, "j-1");
}

#[test]
fn the_rfc_7638_example_thumbprint_is_reproduced() {
    // RFC 7638 §3.1.
    let jwk = json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"
    });
    assert_eq!(
        thumbprint(&jwk).as_deref(),
        Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    );
}

#[test]
fn the_header_must_be_a_dpop_proof_with_a_public_asymmetric_key() {
    let k = key();
    let c = claims(t0().timestamp());
    let wrong_typ = sign(&k, &k.jwk, "JWT", &c);
    assert_eq!(
        check(&wrong_typ, &expected(t0())),
        Err(DpopRefusal::WrongType)
    );
    let mut private = k.jwk.clone();
    private["d"] = json!("c2VjcmV0");
    let leaked = sign(&k, &private, "dpop+jwt", &c);
    assert_eq!(
        check(&leaked, &expected(t0())),
        Err(DpopRefusal::PrivateKey)
    );
    let other = key();
    let swapped = sign(&k, &other.jwk, "dpop+jwt", &c);
    assert_eq!(
        check(&swapped, &expected(t0())),
        Err(DpopRefusal::BadSignature)
    );
}

#[test]
fn alg_none_and_hmac_are_refused() {
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let k = key();
    let payload = b64(&claims(t0().timestamp()));
    for alg in ["none", "HS256"] {
        let header = b64(&json!({ "typ": "dpop+jwt", "alg": alg, "jwk": k.jwk }));
        let proof = format!("{header}.{payload}.c2ln");
        assert_eq!(
            check(&proof, &expected(t0())),
            Err(DpopRefusal::UnsupportedAlg),
            "{alg}"
        );
    }
}

#[test]
fn method_url_and_time_are_checked() {
    let k = key();
    let now = t0().timestamp();
    let mut c = claims(now);
    c["htm"] = json!("GET");
    assert_eq!(
        check(&sign(&k, &k.jwk, "dpop+jwt", &c), &expected(t0())),
        Err(DpopRefusal::WrongMethod)
    );
    let mut c = claims(now);
    c["htu"] = json!("https://id.example/oauth2/par");
    assert_eq!(
        check(&sign(&k, &k.jwk, "dpop+jwt", &c), &expected(t0())),
        Err(DpopRefusal::WrongUrl)
    );
    let mut c = claims(now);
    c["htu"] = json!("HTTPS://ID.EXAMPLE:443/oauth2/../oauth2/token?x=1#f");
    assert!(check(&sign(&k, &k.jwk, "dpop+jwt", &c), &expected(t0())).is_ok());
    for (iat, outcome) in [
        (now - 10, Ok(())),
        (now + 10, Ok(())),
        (now - 300, Err(DpopRefusal::Stale)),
        (now + 60, Err(DpopRefusal::FromTheFuture)),
    ] {
        let proof = sign(&k, &k.jwk, "dpop+jwt", &claims(iat));
        assert_eq!(
            check(&proof, &expected(t0())).map(|_| ()),
            outcome,
            "iat {iat}"
        );
    }
    let mut c = claims(now);
    c.as_object_mut().expect("object").remove("jti");
    assert_eq!(
        check(&sign(&k, &k.jwk, "dpop+jwt", &c), &expected(t0())),
        Err(DpopRefusal::MissingClaim)
    );
}

#[test]
fn at_a_resource_ath_must_hash_the_presented_token() {
    let k = key();
    let mut c = claims(t0().timestamp());
    c["htm"] = json!("GET");
    let at_resource = |token: &'static str| Expected {
        method: "GET",
        url: URL,
        now: t0(),
        access_token: Some(token),
    };
    let without = sign(&k, &k.jwk, "dpop+jwt", &c);
    assert_eq!(
        check(&without, &at_resource("tok")),
        Err(DpopRefusal::WrongAth)
    );
    c["ath"] = json!(ath("tok"));
    let with = sign(&k, &k.jwk, "dpop+jwt", &c);
    assert!(check(&with, &at_resource("tok")).is_ok());
    assert_eq!(
        check(&with, &at_resource("other")),
        Err(DpopRefusal::WrongAth)
    );
}

#[test]
fn nonces_work_for_two_periods_and_only_under_our_key() {
    let key = [7_u8; 32];
    let nonce = nonce_for(&key, t0());
    assert!(nonce_valid(&key, &nonce, t0()));
    let next = t0() + Duration::seconds(NONCE_PERIOD_SECS);
    assert!(nonce_valid(&key, &nonce, next));
    assert!(!nonce_valid(
        &key,
        &nonce,
        next + Duration::seconds(NONCE_PERIOD_SECS)
    ));
    assert!(!nonce_valid(&[8_u8; 32], &nonce, t0()));
    assert!(!nonce_valid(&key, "garbage", t0()));
}
