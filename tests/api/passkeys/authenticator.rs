//! A software WebAuthn authenticator: what a browser and a security key
//! together answer to `navigator.credentials.create/get`, built on `p256`
//! and a minimal CBOR encoder, with knobs to misbehave the way attackers
//! and broken or cloned devices do.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use p256::{
    ecdsa::{Signature, SigningKey, signature::Signer},
    elliptic_curve::rand_core::RngCore,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// COSE algorithm ES256 (ECDSA P-256 with SHA-256).
pub const ES256: i64 = -7;
/// COSE algorithm EdDSA (the label, not a key of that kind).
pub const EDDSA: i64 = -8;
/// COSE algorithm ES512, which the relying party does not ask for.
pub const ES512: i64 = -36;

/// A CBOR data item, only the kinds WebAuthn structures need.
#[derive(Debug, Clone)]
pub enum Cbor {
    /// An integer (major type 0 when non-negative, 1 when negative).
    Int(i64),
    /// A byte string (major type 2).
    Bytes(Vec<u8>),
    /// A text string (major type 3).
    Text(String),
    /// A map with its entries in the given order (major type 5).
    Map(Vec<(Cbor, Cbor)>),
}

impl Cbor {
    /// A text string item.
    pub fn text(s: &str) -> Self {
        Self::Text(s.to_owned())
    }

    /// The item's encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Self::Int(n) if *n >= 0 => head(out, 0, n.unsigned_abs()),
            // -1 - n, i.e. |n| - 1, without overflowing at i64::MIN.
            Self::Int(n) => head(out, 1, n.unsigned_abs() - 1),
            Self::Bytes(b) => {
                head(out, 2, b.len() as u64);
                out.extend_from_slice(b);
            }
            Self::Text(s) => {
                head(out, 3, s.len() as u64);
                out.extend_from_slice(s.as_bytes());
            }
            Self::Map(entries) => {
                head(out, 5, entries.len() as u64);
                for (k, v) in entries {
                    k.encode_into(out);
                    v.encode_into(out);
                }
            }
        }
    }
}

/// A major type with its argument, in the shortest form.
fn head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let major = major << 5;
    match arg {
        0..=23 => out.push(major | arg as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, arg as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(arg as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend_from_slice(&(arg as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend_from_slice(&arg.to_be_bytes());
        }
    }
}

/// Authenticator data flags (WebAuthn §6.1).
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

/// base64url without padding, as WebAuthn's JSON encodings use.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A passkey on a software authenticator.
#[derive(Clone)]
pub struct Authenticator {
    key: SigningKey,
    /// The credential id (random, 32 bytes).
    pub credential_id: Vec<u8>,
    /// The signature counter; advanced by `counter_step` before each assertion.
    pub counter: u32,
    /// 1 for a counting authenticator, 0 for one that always says 0 (as
    /// synced passkeys do).
    pub counter_step: u32,
    /// The user handle (base64url, as the options gave it) it was registered with.
    pub user_handle: Option<String>,
    /// The relying party id it was registered for.
    pub rp_id: Option<String>,
    /// User present.
    pub up: bool,
    /// User verified (a PIN or biometric was checked).
    pub uv: bool,
    /// Backup eligible (a synced passkey).
    pub be: bool,
    /// Backed up.
    pub bs: bool,
    /// Put this origin into clientDataJSON instead of the caller's.
    pub origin_override: Option<String>,
    /// Put this into authenticator data instead of SHA-256 of the rp id.
    pub rp_id_hash_override: Option<[u8; 32]>,
    /// The algorithm named in the registered COSE key.
    pub cose_alg: i64,
    /// Sign something else than the signed data (a valid DER, a wrong signature).
    pub tamper_signature: bool,
    /// Add a field of this many bytes to clientDataJSON.
    pub client_data_padding: usize,
}

impl Default for Authenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl Authenticator {
    /// A new device-bound passkey (UP and UV, no backup flags).
    pub fn new() -> Self {
        let mut rng = p256::elliptic_curve::rand_core::OsRng;
        let mut credential_id = vec![0u8; 32];
        rng.fill_bytes(&mut credential_id);
        Self {
            key: SigningKey::random(&mut rng),
            credential_id,
            counter: 0,
            counter_step: 1,
            user_handle: None,
            rp_id: None,
            up: true,
            uv: true,
            be: false,
            bs: false,
            origin_override: None,
            rp_id_hash_override: None,
            cose_alg: ES256,
            tamper_signature: false,
            client_data_padding: 0,
        }
    }

    /// A synced passkey (backup eligible and backed up).
    pub fn synced() -> Self {
        Self {
            be: true,
            bs: true,
            ..Self::new()
        }
    }

    /// The credential id as the JSON encodings carry it.
    pub fn id(&self) -> String {
        b64(&self.credential_id)
    }

    /// The public key (SEC1, uncompressed), to check signatures with.
    pub fn verifying_key(&self) -> p256::ecdsa::VerifyingKey {
        *self.key.verifying_key()
    }

    fn flags(&self) -> u8 {
        let mut flags = 0;
        for (on, bit) in [(self.up, UP), (self.uv, UV), (self.be, BE), (self.bs, BS)] {
            if on {
                flags |= bit;
            }
        }
        flags
    }

    fn rp_id_hash(&self, rp_id: &str) -> [u8; 32] {
        self.rp_id_hash_override
            .unwrap_or_else(|| Sha256::digest(rp_id.as_bytes()).into())
    }

    fn client_data(&self, kind: &str, options: &Value, origin: &str) -> Vec<u8> {
        let challenge = public_key(options)["challenge"]
            .as_str()
            .expect("options carry a challenge");
        let origin = self.origin_override.as_deref().unwrap_or(origin);
        let text = |s: &str| serde_json::to_string(s).expect("a JSON string");
        // Field order as browsers send it (a relying party may not depend on it).
        let mut json = format!(
            "{{\"type\":{},\"challenge\":{},\"origin\":{},\"crossOrigin\":false",
            text(kind),
            text(challenge),
            text(origin)
        );
        if self.client_data_padding > 0 {
            json.push_str(&format!(
                ",\"padding\":\"{}\"",
                "a".repeat(self.client_data_padding)
            ));
        }
        json.push('}');
        json.into_bytes()
    }

    /// The credential public key as a COSE_Key (EC2, P-256).
    pub fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        Cbor::Map(vec![
            (Cbor::Int(1), Cbor::Int(2)),
            (Cbor::Int(3), Cbor::Int(self.cose_alg)),
            (Cbor::Int(-1), Cbor::Int(1)),
            (Cbor::Int(-2), Cbor::Bytes(point.x().expect("x").to_vec())),
            (Cbor::Int(-3), Cbor::Bytes(point.y().expect("y").to_vec())),
        ])
        .encode()
    }

    /// Answers `navigator.credentials.create(options)`: a RegistrationResponseJSON.
    pub fn register(&mut self, options: &Value, origin: &str) -> Value {
        let pk = public_key(options);
        let rp_id = pk["rp"]["id"].as_str().expect("options name the rp id");
        self.rp_id = Some(rp_id.to_owned());
        self.user_handle = Some(
            pk["user"]["id"]
                .as_str()
                .expect("options carry a user id")
                .to_owned(),
        );
        let mut auth_data = self.rp_id_hash(rp_id).to_vec();
        auth_data.push(self.flags() | AT);
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        auth_data.extend_from_slice(&[0u8; 16]);
        let id_len = u16::try_from(self.credential_id.len()).expect("a short id");
        auth_data.extend_from_slice(&id_len.to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&self.cose_key());
        let attestation = Cbor::Map(vec![
            (Cbor::text("fmt"), Cbor::text("none")),
            (Cbor::text("attStmt"), Cbor::Map(vec![])),
            (Cbor::text("authData"), Cbor::Bytes(auth_data)),
        ])
        .encode();
        let client_data = self.client_data("webauthn.create", options, origin);
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(&client_data),
                "attestationObject": b64(&attestation),
            },
            "extensions": {},
        })
    }

    /// Answers `navigator.credentials.get(options)`: an AuthenticationResponseJSON.
    pub fn assert(&mut self, options: &Value, origin: &str) -> Value {
        let pk = public_key(options);
        let rp_id = pk["rpId"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| self.rp_id.clone())
            .expect("an rp id from the options or the registration");
        self.counter += self.counter_step;
        let mut auth_data = self.rp_id_hash(&rp_id).to_vec();
        auth_data.push(self.flags());
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        let client_data = self.client_data("webauthn.get", options, origin);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        if self.tamper_signature {
            signed.push(0);
        }
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(&client_data),
                "authenticatorData": b64(&auth_data),
                "signature": b64(signature.to_der().as_bytes()),
                "userHandle": self.user_handle,
            },
            "extensions": {},
        })
    }
}

/// The `publicKey` member of creation or request options (or the options themselves).
fn public_key(options: &Value) -> &Value {
    options.get("publicKey").unwrap_or(options)
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::signature::Verifier;

    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn cbor_integers_match_rfc_8949_appendix_a() {
        for (n, expected) in [
            (0, "00"),
            (1, "01"),
            (23, "17"),
            (24, "1818"),
            (100, "1864"),
            (1000, "1903e8"),
            (1_000_000, "1a000f4240"),
            (1_000_000_000_000, "1b000000e8d4a51000"),
            (-1, "20"),
            (-10, "29"),
            (-100, "3863"),
            (-1000, "3903e7"),
            (i64::MIN, "3b7fffffffffffffff"),
        ] {
            assert_eq!(hex(&Cbor::Int(n).encode()), expected, "{n}");
        }
    }

    #[test]
    fn cbor_strings_and_maps_match_rfc_8949_appendix_a() {
        assert_eq!(hex(&Cbor::Bytes(vec![]).encode()), "40");
        assert_eq!(hex(&Cbor::Bytes(vec![1, 2, 3, 4]).encode()), "4401020304");
        assert_eq!(hex(&Cbor::text("").encode()), "60");
        assert_eq!(hex(&Cbor::text("IETF").encode()), "6449455446");
        assert_eq!(hex(&Cbor::text("ü").encode()), "62c3bc");
        assert_eq!(hex(&Cbor::Map(vec![]).encode()), "a0");
        let map = Cbor::Map(vec![
            (Cbor::Int(1), Cbor::Int(2)),
            (Cbor::Int(3), Cbor::Int(4)),
        ]);
        assert_eq!(hex(&map.encode()), "a201020304");
        // A length past 23 takes a following byte; past 255, two.
        let long = Cbor::Bytes(vec![0; 32]).encode();
        assert_eq!(hex(&long[..2]), "5820");
        assert_eq!(long.len(), 34);
        let longer = Cbor::text(&"a".repeat(300)).encode();
        assert_eq!(hex(&longer[..3]), "79012c");
    }

    #[test]
    fn the_cose_key_is_an_ec2_p256_map_with_the_chosen_algorithm() {
        let mut authenticator = Authenticator::new();
        let key = authenticator.cose_key();
        assert_eq!(hex(&key[..7]), "a5010203262001");
        assert_eq!(hex(&key[7..9]), "2158");
        assert_eq!(key.len(), 7 + 3 + 32 + 3 + 32);
        authenticator.cose_alg = ES512;
        assert_eq!(hex(&authenticator.cose_key()[..5]), "a501020338");
    }

    fn options() -> Value {
        json!({ "publicKey": {
            "challenge": "Y2hhbGxlbmdl",
            "rp": { "id": "localhost", "name": "Dịch vụ công" },
            "user": { "id": "dXNlcg", "name": "u", "displayName": "U" },
            "rpId": "localhost",
        }})
    }

    #[test]
    fn a_registration_carries_flags_counter_and_credential_in_auth_data() {
        let mut authenticator = Authenticator::synced();
        let response = authenticator.register(&options(), "http://localhost:1");
        assert_eq!(response["id"], authenticator.id());
        assert_eq!(authenticator.user_handle.as_deref(), Some("dXNlcg"));
        let object = URL_SAFE_NO_PAD
            .decode(
                response["response"]["attestationObject"]
                    .as_str()
                    .expect("b64"),
            )
            .expect("base64url");
        // {"fmt":"none","attStmt":{},"authData":bytes(…)}
        assert_eq!(hex(&object[..5]), "a363666d74");
        let auth_data_at = object.len() - (37 + 16 + 2 + 32 + authenticator.cose_key().len());
        let auth_data = &object[auth_data_at..];
        assert_eq!(&auth_data[..32], &Sha256::digest(b"localhost")[..]);
        assert_eq!(auth_data[32], UP | UV | BE | BS | AT);
        assert_eq!(&auth_data[33..37], &[0, 0, 0, 0]);
        assert_eq!(&auth_data[53..55], &[0, 32]);
        assert_eq!(&auth_data[55..87], authenticator.credential_id.as_slice());
        let client_data: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(response["response"]["clientDataJSON"].as_str().expect("s"))
                .expect("b64"),
        )
        .expect("json");
        assert_eq!(
            client_data,
            json!({"type": "webauthn.create", "challenge": "Y2hhbGxlbmdl",
                   "origin": "http://localhost:1", "crossOrigin": false})
        );
    }

    #[test]
    fn an_assertion_is_signed_over_auth_data_and_the_client_data_hash() {
        let mut authenticator = Authenticator::new();
        authenticator.register(&options(), "http://localhost:1");
        let decode = |v: &Value| URL_SAFE_NO_PAD.decode(v.as_str().expect("s")).expect("b64");
        for expected_counter in [1u32, 2] {
            let response = authenticator.assert(&options(), "http://localhost:1");
            let r = &response["response"];
            let auth_data = decode(&r["authenticatorData"]);
            assert_eq!(auth_data.len(), 37);
            assert_eq!(auth_data[32], UP | UV);
            assert_eq!(&auth_data[33..], &expected_counter.to_be_bytes());
            assert_eq!(r["userHandle"], "dXNlcg");
            let mut signed = auth_data.clone();
            signed.extend_from_slice(&Sha256::digest(decode(&r["clientDataJSON"])));
            let signature = Signature::from_der(&decode(&r["signature"])).expect("DER");
            authenticator
                .verifying_key()
                .verify(&signed, &signature)
                .expect("a valid signature");
        }
        authenticator.tamper_signature = true;
        let response = authenticator.assert(&options(), "http://localhost:1");
        let r = &response["response"];
        let mut signed = decode(&r["authenticatorData"]);
        signed.extend_from_slice(&Sha256::digest(decode(&r["clientDataJSON"])));
        let signature = Signature::from_der(&decode(&r["signature"])).expect("DER");
        assert!(
            authenticator
                .verifying_key()
                .verify(&signed, &signature)
                .is_err()
        );
    }
}
