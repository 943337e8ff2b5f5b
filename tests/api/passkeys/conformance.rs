//! The software authenticator against webauthn-rs directly (no app): its
//! honest answers pass the relying-party checks, and each attack knob fails
//! them, so a refusal seen through the app is for the reason the test names.

use serde_json::Value;
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    Passkey, PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::authenticator::{Authenticator, EDDSA, ES512, b64};

const ORIGIN: &str = "http://localhost:8080";

/// A named way for the authenticator to misbehave.
type Knob = (&'static str, fn(&mut Authenticator));

fn relying_party() -> Webauthn {
    let origin = Url::parse(ORIGIN).expect("url");
    WebauthnBuilder::new("localhost", &origin)
        .expect("builder")
        .rp_name("Dịch vụ công")
        .build()
        .expect("webauthn")
}

fn register(rp: &Webauthn, authenticator: &mut Authenticator) -> Result<Passkey, String> {
    let (options, state) = rp
        .start_passkey_registration(Uuid::new_v4(), "079090001234", "Nguyễn Văn An", None)
        .expect("options");
    let options = serde_json::to_value(&options).expect("json");
    let response = authenticator.register(&options, ORIGIN);
    let credential: RegisterPublicKeyCredential =
        serde_json::from_value(response).map_err(|e| e.to_string())?;
    rp.finish_passkey_registration(&credential, &state)
        .map_err(|e| e.to_string())
}

fn authenticate(
    rp: &Webauthn,
    passkey: &mut Passkey,
    authenticator: &mut Authenticator,
) -> Result<(), String> {
    let (options, state) = rp
        .start_passkey_authentication(std::slice::from_ref(passkey))
        .expect("options");
    let options = serde_json::to_value(&options).expect("json");
    let response = authenticator.assert(&options, ORIGIN);
    let credential: PublicKeyCredential =
        serde_json::from_value(response).map_err(|e| e.to_string())?;
    let result = rp
        .finish_passkey_authentication(&credential, &state)
        .map_err(|e| e.to_string())?;
    passkey.update_credential(&result);
    Ok(())
}

#[test]
fn honest_registrations_and_assertions_pass_and_a_clone_is_caught() {
    let rp = relying_party();
    for mut authenticator in [Authenticator::new(), Authenticator::synced()] {
        let mut passkey = register(&rp, &mut authenticator).expect("registered");
        let mut clone = authenticator.clone();
        authenticate(&rp, &mut passkey, &mut authenticator).expect("first use");
        authenticate(&rp, &mut passkey, &mut authenticator).expect("second use");
        assert!(authenticate(&rp, &mut passkey, &mut clone).is_err());
    }
    // Without a counter (always 0) there is nothing to compare.
    let mut authenticator = Authenticator::synced();
    authenticator.counter_step = 0;
    let mut passkey = register(&rp, &mut authenticator).expect("registered");
    for _ in 0..3 {
        authenticate(&rp, &mut passkey, &mut authenticator).expect("used again");
    }
}

#[test]
fn each_registration_knob_fails_the_relying_party_checks() {
    let rp = relying_party();
    let knobs: [Knob; 5] = [
        ("origin", |a| {
            a.origin_override = Some("https://evil.example".into())
        }),
        ("rp id", |a| {
            a.rp_id_hash_override = Some(Sha256::digest(b"evil.example").into());
        }),
        ("EdDSA label", |a| a.cose_alg = EDDSA),
        ("ES512", |a| a.cose_alg = ES512),
        ("no UV", |a| a.uv = false),
    ];
    for (name, knob) in knobs {
        let mut authenticator = Authenticator::new();
        knob(&mut authenticator);
        assert!(register(&rp, &mut authenticator).is_err(), "{name}");
    }
}

#[test]
fn each_assertion_knob_fails_the_relying_party_checks() {
    let rp = relying_party();
    let knobs: [Knob; 4] = [
        ("origin", |a| {
            a.origin_override = Some("https://evil.example".into())
        }),
        ("rp id", |a| {
            a.rp_id_hash_override = Some(Sha256::digest(b"evil.example").into());
        }),
        ("no UV", |a| a.uv = false),
        ("signature", |a| a.tamper_signature = true),
    ];
    for (name, knob) in knobs {
        let mut authenticator = Authenticator::new();
        let mut passkey = register(&rp, &mut authenticator).expect("registered");
        knob(&mut authenticator);
        assert!(
            authenticate(&rp, &mut passkey, &mut authenticator).is_err(),
            "{name}"
        );
    }
}

#[test]
fn a_malformed_attestation_fails_the_relying_party_checks() {
    let rp = relying_party();
    let (options, state) = rp
        .start_passkey_registration(Uuid::new_v4(), "u", "U", None)
        .expect("options");
    let options = serde_json::to_value(&options).expect("json");
    let mut response: Value = Authenticator::new().register(&options, ORIGIN);
    response["response"]["attestationObject"] = b64(&[0x9f; 64]).into();
    let credential: RegisterPublicKeyCredential =
        serde_json::from_value(response).expect("well-formed JSON");
    assert!(rp.finish_passkey_registration(&credential, &state).is_err());
}
