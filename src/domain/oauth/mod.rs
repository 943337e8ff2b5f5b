//! Rules of the OAuth 2.0 / OpenID Connect protocol, free of I/O with the
//! time passed in: PKCE, the checks of an authorization code and of a
//! refresh token, client registration; and the closed sets a client's
//! registration is made of (ID token algorithm, authentication method,
//! subject type) and the grant types the token endpoint knows.

pub mod code;
pub mod dpop;
pub mod pkce;
pub mod refresh;
pub mod registration;

use crate::domain::text_enum::text_enum;

text_enum! {
    /// How a client's ID tokens (and logout tokens) are signed.
    pub enum IdTokenAlg {
        /// RSASSA-PKCS1-v1_5 with SHA-256 (the default, widest support).
        Rs256 = "RS256",
        /// ECDSA P-256 with SHA-256.
        Es256 = "ES256",
    }
}

text_enum! {
    /// How a client authenticates at the token endpoint (one per client).
    pub enum AuthMethod {
        /// A secret, by HTTP Basic or in the form.
        ClientSecret = "client_secret",
        /// An assertion signed with a key the client registered (RFC 7523).
        PrivateKeyJwt = "private_key_jwt",
        /// A public client: no credentials, PKCE only.
        None = "none",
    }
}

text_enum! {
    /// The subject identifiers a client sees (OpenID Connect Core §8).
    pub enum SubjectType {
        /// Per client or sector: clients cannot join their users.
        Pairwise = "pairwise",
        /// The same for every client (trusted clients only).
        Public = "public",
    }
}

text_enum! {
    /// The grants of the token endpoint.
    pub enum GrantType {
        /// An authorization code with PKCE.
        AuthorizationCode = "authorization_code",
        /// A refresh token, rotated on use.
        RefreshToken = "refresh_token",
        /// A confidential client for itself.
        ClientCredentials = "client_credentials",
    }
}

text_enum! {
    /// Whether a client's access tokens are bound to a key it holds (DPoP, RFC 9449).
    pub enum DpopPolicy {
        /// Bearer tokens only; a DPoP proof is ignored.
        Off = "off",
        /// DPoP-bound tokens when the client sends a proof, bearer otherwise.
        Optional = "optional",
        /// Every token request needs a proof; every token is DPoP-bound.
        Required = "required",
    }
}

text_enum! {
    /// The security profile a client follows.
    pub enum ClientProfile {
        /// OpenID Connect with PKCE, as registered.
        Standard = "standard",
        /// FAPI 2.0 Security Profile: PAR, `private_key_jwt`, DPoP, strict algorithms.
        Fapi2 = "fapi2",
    }
}

impl AuthMethod {
    /// Whether the client holds credentials (may use client credentials and introspection).
    pub fn is_confidential(self) -> bool {
        self != Self::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for alg in IdTokenAlg::ALL {
            assert_eq!(IdTokenAlg::parse(alg.as_str()), Some(*alg));
        }
        for method in AuthMethod::ALL {
            assert_eq!(AuthMethod::try_from(String::from(*method)), Ok(*method));
        }
        for kind in SubjectType::ALL {
            assert_eq!(SubjectType::parse(&kind.to_string()), Some(*kind));
        }
        for grant in GrantType::ALL {
            assert_eq!(GrantType::parse(grant.as_str()), Some(*grant));
        }
        for policy in DpopPolicy::ALL {
            assert_eq!(DpopPolicy::parse(policy.as_str()), Some(*policy));
        }
        for profile in ClientProfile::ALL {
            assert_eq!(ClientProfile::parse(profile.as_str()), Some(*profile));
        }
    }

    #[test]
    fn unknown_names_are_refused_with_what_was_found() {
        let err = IdTokenAlg::try_from("HS256".to_owned()).expect_err("symmetric");
        assert_eq!((err.what, err.value.as_str()), ("IdTokenAlg", "HS256"));
        assert!(GrantType::parse("password").is_none(), "no password grant");
        assert!(AuthMethod::parse("Client_Secret").is_none(), "case matters");
    }

    #[test]
    fn only_public_clients_are_not_confidential() {
        assert!(AuthMethod::ClientSecret.is_confidential());
        assert!(AuthMethod::PrivateKeyJwt.is_confidential());
        assert!(!AuthMethod::None.is_confidential());
    }
}
