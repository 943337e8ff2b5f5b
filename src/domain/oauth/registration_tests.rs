use super::*;

fn confidential() -> NewClient {
    NewClient {
        client_id: "city-portal".into(),
        redirect_uris: vec!["https://portal.example/cb".into()],
        ..NewClient::default()
    }
}

fn codes(new: &NewClient) -> Vec<(&'static str, &'static str)> {
    match validate(new) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.into_iter().map(|(f, i)| (f, i.code)).collect(),
    }
}

fn public_jwk() -> serde_json::Value {
    serde_json::json!({ "keys": [{
        "kty": "EC", "crv": "P-256", "use": "sig", "kid": "k1",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
    }]})
}

#[test]
fn a_plain_confidential_client_settles_on_its_defaults() {
    let settled = validate(&confidential()).expect("valid");
    assert_eq!(
        settled,
        Settled {
            scopes: vec!["openid".into(), "profile".into()],
            auth_method: AuthMethod::ClientSecret,
            subject_type: SubjectType::Pairwise,
            id_token_alg: IdTokenAlg::Rs256,
            dpop: DpopPolicy::Optional,
            profile: ClientProfile::Standard,
            require_par: false,
        }
    );
}

#[test]
fn redirect_uri_rules() {
    for ok in [
        "https://app.example/cb",
        "http://127.0.0.1:8080/cb",
        "http://localhost/cb",
        "http://[::1]/cb",
        "vn.gov.hcm.app:/callback",
    ] {
        assert!(valid_redirect(ok), "{ok}");
    }
    for bad in [
        "http://app.example/cb",
        "https://app.example/cb#frag",
        "myapp:/cb",
        "not a url",
        "javascript:alert(1)",
    ] {
        assert!(!valid_redirect(bad), "{bad}");
    }
}

#[test]
fn backchannel_and_audience_refuse_custom_schemes() {
    assert!(valid_backchannel("https://rp.example/logout"));
    assert!(valid_backchannel("http://127.0.0.1:9000/logout"));
    assert!(!valid_backchannel("vn.gov.hcm.app:/logout"));
    assert!(!valid_backchannel("http://rp.example/logout"));
    assert!(valid_audience("https://api.example/"));
    assert!(!valid_audience(&format!(
        "https://api.example/{}",
        "a".repeat(500)
    )));
}

#[test]
fn every_problem_is_reported_at_once_by_field() {
    let new = NewClient {
        client_id: "x".into(),
        redirect_uris: vec![],
        scopes: vec!["openid".into(), "root".into()],
        id_token_alg: Some("HS256".into()),
        ..NewClient::default()
    };
    assert_eq!(
        codes(&new),
        vec![
            ("client_id", "client_id_format"),
            ("redirect_uri", "redirect_uri_missing"),
            ("scope", "scope_unknown"),
            ("id_token_alg", "id_token_alg_unsupported"),
        ]
    );
}

#[test]
fn client_id_format() {
    assert!(valid_client_id("app.v2_beta-1"));
    assert!(!valid_client_id("ab"));
    assert!(!valid_client_id(&"a".repeat(101)));
    assert!(!valid_client_id("app client"));
    assert!(!valid_client_id("ứng-dụng"));
}

#[test]
fn exactly_one_authentication_method() {
    let public_with_secret = NewClient {
        public: true,
        secret: Some("s".repeat(40)),
        ..confidential()
    };
    assert_eq!(
        codes(&public_with_secret),
        vec![("secret", "secret_for_public")]
    );
    let keys_and_secret = NewClient {
        jwks: Some(public_jwk()),
        secret: Some("s".repeat(40)),
        ..confidential()
    };
    assert_eq!(
        codes(&keys_and_secret),
        vec![("jwks", "jwks_with_other_method")]
    );
    let keys = NewClient {
        jwks: Some(public_jwk()),
        ..confidential()
    };
    assert_eq!(
        validate(&keys).map(|s| s.auth_method),
        Ok(AuthMethod::PrivateKeyJwt)
    );
    let public = NewClient {
        public: true,
        ..confidential()
    };
    assert_eq!(
        validate(&public).map(|s| s.auth_method),
        Ok(AuthMethod::None)
    );
}

#[test]
fn a_short_secret_is_refused() {
    let new = NewClient {
        secret: Some("s".repeat(31)),
        ..confidential()
    };
    assert_eq!(codes(&new), vec![("secret", "secret_too_short")]);
}

#[test]
fn private_or_empty_key_sets_are_refused() {
    let mut private = public_jwk();
    private["keys"][0]["d"] = serde_json::json!("secret");
    assert_eq!(
        check_jwks(&private).map_err(|e| e.code),
        Err("jwks_invalid")
    );
    let empty = serde_json::json!({ "keys": [] });
    assert!(check_jwks(&empty).is_err());
    assert!(check_jwks(&serde_json::json!("nope")).is_err());
    assert_eq!(check_jwks(&public_jwk()), Ok(()));
}

#[test]
fn id_token_alg_es256_is_accepted() {
    let new = NewClient {
        id_token_alg: Some("ES256".into()),
        ..confidential()
    };
    assert_eq!(
        validate(&new).map(|s| s.id_token_alg),
        Ok(IdTokenAlg::Es256)
    );
}

#[test]
fn sector_and_public_subjects_exclude_each_other() {
    let new = NewClient {
        public_subject: true,
        sector_identifier: Some("hcm-health".into()),
        ..confidential()
    };
    assert_eq!(
        codes(&new),
        vec![("sector_identifier", "sector_with_public_subject")]
    );
    let spaced = NewClient {
        sector_identifier: Some("a b".into()),
        ..confidential()
    };
    assert_eq!(
        codes(&spaced),
        vec![("sector_identifier", "sector_identifier_invalid")]
    );
    let public = NewClient {
        public_subject: true,
        ..confidential()
    };
    assert_eq!(
        validate(&public).map(|s| s.subject_type),
        Ok(SubjectType::Public)
    );
}

#[test]
fn a_resource_server_is_confidential_with_a_valid_audience() {
    let new = NewClient {
        public: true,
        resource_audience: Some("https://api.example/#x".into()),
        ..confidential()
    };
    assert_eq!(
        codes(&new),
        vec![
            ("resource_server", "resource_audience_invalid"),
            ("resource_server", "resource_server_public"),
        ]
    );
}

#[test]
fn vault_record_scopes_are_known() {
    for scope in VAULT_SCOPES {
        assert!(is_known_scope(scope), "{scope}");
    }
    assert!(!is_known_scope("admin"));
}

#[test]
fn a_fapi2_client_gets_par_dpop_and_es256_by_default() {
    let settled = validate(&NewClient {
        jwks: Some(public_jwk()),
        profile: Some("fapi2".into()),
        ..confidential()
    })
    .expect("valid");
    assert_eq!(settled.profile, ClientProfile::Fapi2);
    assert_eq!(settled.dpop, DpopPolicy::Required);
    assert_eq!(settled.id_token_alg, IdTokenAlg::Es256);
    assert!(settled.require_par);
}

#[test]
fn a_fapi2_client_with_a_secret_bearer_tokens_or_rs256_is_refused() {
    let problems = validate(&NewClient {
        profile: Some("fapi2".into()),
        dpop: Some("optional".into()),
        id_token_alg: Some("RS256".into()),
        ..confidential()
    })
    .expect_err("three violations");
    let fields: Vec<&str> = problems.iter().map(|(f, _)| *f).collect();
    assert_eq!(fields, ["jwks", "dpop", "id_token_alg"]);
}

#[test]
fn presentation_links_must_be_https() {
    let problems = validate(&NewClient {
        client_name: Some("Sở Y tế".into()),
        logo_uri: Some("http://evil.example/logo.png".into()),
        policy_uri: Some("javascript:alert(1)".into()),
        ..confidential()
    })
    .expect_err("not https");
    let fields: Vec<&str> = problems.iter().map(|(f, _)| *f).collect();
    assert_eq!(fields, ["logo_uri", "policy_uri"]);
}

#[test]
fn only_a_confidential_standard_client_may_leave_pkce_out() {
    assert!(
        validate(&NewClient {
            pkce_optional: true,
            ..confidential()
        })
        .is_ok()
    );
    let public = validate(&NewClient {
        pkce_optional: true,
        public: true,
        ..confidential()
    })
    .expect_err("public");
    assert!(public.iter().any(|(f, _)| *f == "pkce"));
    let fapi = validate(&NewClient {
        pkce_optional: true,
        jwks: Some(public_jwk()),
        profile: Some("fapi2".into()),
        ..confidential()
    })
    .expect_err("fapi2");
    assert!(fapi.iter().any(|(f, _)| *f == "pkce"));
}
