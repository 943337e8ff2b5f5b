//! Rules of the OAuth 2.0 / OpenID Connect protocol, free of I/O with the
//! time passed in: PKCE, the checks of an authorization code and of a
//! refresh token, client registration; and the closed sets a client's
//! registration is made of (ID token algorithm, authentication method,
//! subject type) and the grant types the token endpoint knows.

pub mod code;
pub mod pkce;
pub mod refresh;
pub mod registration;

/// A stored or received value outside a closed set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind}: {value}")]
pub struct UnknownValue {
    /// What was parsed (`id_token_alg`, `auth_method`, …).
    pub kind: &'static str,
    /// The value found.
    pub value: String,
}

/// A closed set of names mapped to text columns (checked by the database).
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The name as stored and sent.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// The value named `raw`, if any.
            pub fn parse(raw: &str) -> Result<Self, UnknownValue> {
                match raw {
                    $($text => Ok(Self::$variant),)+
                    other => Err(UnknownValue { kind: $kind, value: other.to_owned() }),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownValue;
            fn try_from(raw: String) -> Result<Self, UnknownValue> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.as_str().to_owned()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum!(
    /// How a client's ID tokens (and logout tokens) are signed.
    IdTokenAlg, "id_token_alg" {
        /// RSASSA-PKCS1-v1_5 with SHA-256 (the default, widest support).
        Rs256 => "RS256",
        /// ECDSA P-256 with SHA-256.
        Es256 => "ES256",
    }
);

named_enum!(
    /// How a client authenticates at the token endpoint (one per client).
    AuthMethod, "auth_method" {
        /// A secret, by HTTP Basic or in the form.
        ClientSecret => "client_secret",
        /// An assertion signed with a key the client registered (RFC 7523).
        PrivateKeyJwt => "private_key_jwt",
        /// A public client: no credentials, PKCE only.
        None => "none",
    }
);

named_enum!(
    /// The subject identifiers a client sees (OpenID Connect Core §8).
    SubjectType, "subject_type" {
        /// Per client or sector: clients cannot join their users.
        Pairwise => "pairwise",
        /// The same for every client (trusted clients only).
        Public => "public",
    }
);

named_enum!(
    /// The grants of the token endpoint.
    GrantType, "grant_type" {
        /// An authorization code with PKCE.
        AuthorizationCode => "authorization_code",
        /// A refresh token, rotated on use.
        RefreshToken => "refresh_token",
        /// A confidential client for itself.
        ClientCredentials => "client_credentials",
    }
);

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
            assert_eq!(IdTokenAlg::parse(alg.as_str()), Ok(*alg));
        }
        for method in AuthMethod::ALL {
            assert_eq!(AuthMethod::try_from(String::from(*method)), Ok(*method));
        }
        for kind in SubjectType::ALL {
            assert_eq!(SubjectType::parse(&kind.to_string()), Ok(*kind));
        }
        for grant in GrantType::ALL {
            assert_eq!(GrantType::parse(grant.as_str()), Ok(*grant));
        }
    }

    #[test]
    fn unknown_names_are_refused_with_what_was_found() {
        let err = IdTokenAlg::parse("HS256").expect_err("symmetric");
        assert_eq!((err.kind, err.value.as_str()), ("id_token_alg", "HS256"));
        assert!(GrantType::parse("password").is_err(), "no password grant");
        assert!(AuthMethod::parse("Client_Secret").is_err(), "case matters");
    }

    #[test]
    fn only_public_clients_are_not_confidential() {
        assert!(AuthMethod::ClientSecret.is_confidential());
        assert!(AuthMethod::PrivateKeyJwt.is_confidential());
        assert!(!AuthMethod::None.is_confidential());
    }
}
