//! Our JSON API and UserInfo as resource servers of our own tokens: a
//! bearer token (RFC 6750) or a DPoP-bound one (RFC 9449 §7) with its proof.
//! A DPoP-bound token is refused as a bearer token, a bearer token is
//! refused under the DPoP scheme, and a proof must be of the token's key,
//! hash the token (`ath`), carry a server nonce and be new.

use actix_web::http::header;

use crate::{
    domain::oauth::dpop::{ALGS, Expected},
    error::{AppError, AppResult, Code},
    oidc::{
        Provider,
        dpop::{self, DpopFailure},
        jwt::{self, AccessClaims},
    },
};

/// An access token as the request presented it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    /// `Authorization: Bearer …`.
    Bearer(String),
    /// `Authorization: DPoP …`, with the request's proof header(s).
    Dpop(String),
}

impl Presented {
    /// The token of an `Authorization` header value, by its scheme (case-insensitive).
    pub fn parse(value: &str) -> Option<Self> {
        let (scheme, token) = value.split_once(' ')?;
        let token = token.trim();
        if token.is_empty() {
            return None;
        }
        if scheme.eq_ignore_ascii_case("bearer") {
            Some(Self::Bearer(token.to_owned()))
        } else if scheme.eq_ignore_ascii_case("dpop") {
            Some(Self::Dpop(token.to_owned()))
        } else {
            None
        }
    }

    /// The token.
    pub fn token(&self) -> &str {
        match self {
            Self::Bearer(t) | Self::Dpop(t) => t,
        }
    }
}

/// The challenge of a request without a token: both schemes, with the
/// algorithms of proofs (RFC 9449 §7.1).
pub fn challenge() -> String {
    format!("Bearer, DPoP algs=\"{}\"", ALGS.join(" "))
}

fn dpop_error(code: Code, error: &str, description: &str) -> AppError {
    AppError::from(code).with_header(
        header::WWW_AUTHENTICATE,
        format!(
            "DPoP error=\"{error}\", error_description=\"{description}\", algs=\"{}\"",
            ALGS.join(" ")
        ),
    )
}

/// What the request is: its method and path, its DPoP headers.
#[derive(Debug, Clone, Copy)]
pub struct RequestLine<'a> {
    /// `GET`, `POST` …
    pub method: &'a str,
    /// The path (the query is not part of `htu`).
    pub path: &'a str,
    /// The values of its `DPoP` headers.
    pub proofs: &'a [&'a str],
}

/// Verifies a token presented to the API or UserInfo, and its binding.
pub async fn verify(
    state: &Provider,
    presented: &Presented,
    request: &RequestLine<'_>,
) -> AppResult<AccessClaims> {
    let claims = jwt::verify_api_token(state, presented.token(), state.clock.now()).await?;
    match (presented, &claims.cnf) {
        (Presented::Bearer(_), None) => Ok(claims),
        (Presented::Bearer(_), Some(_)) => Err(dpop_error(
            Code::InvalidAccessToken,
            "invalid_token",
            "this token is DPoP-bound: present it with the DPoP scheme and a proof",
        )),
        (Presented::Dpop(_), None) => Err(dpop_error(
            Code::InvalidAccessToken,
            "invalid_token",
            "this token is not DPoP-bound: present it as a bearer token",
        )),
        (Presented::Dpop(token), Some(cnf)) => {
            let proof = match dpop::single_header(request.proofs) {
                Ok(Some(proof)) => proof,
                Ok(None) => {
                    return Err(dpop_error(
                        Code::InvalidDpopProof,
                        "invalid_dpop_proof",
                        "a DPoP proof is required",
                    ));
                }
                Err(failure) => return Err(answer(state, failure).await),
            };
            let url = dpop::url_of(state, request.path);
            let expected = Expected {
                method: request.method,
                url: &url,
                now: state.clock.now(),
                access_token: Some(token),
            };
            match dpop::verify(state, &proof, &expected).await? {
                Ok(checked) if crate::crypto::tokens::equal(&checked.jkt, &cnf.jkt) => Ok(claims),
                Ok(_) => Err(dpop_error(
                    Code::InvalidDpopProof,
                    "invalid_dpop_proof",
                    "the DPoP proof is signed with another key than the token is bound to",
                )),
                Err(failure) => Err(answer(state, failure).await),
            }
        }
    }
}

/// The 401 of a refused proof; a missing nonce comes with a fresh one.
async fn answer(state: &Provider, failure: DpopFailure) -> AppError {
    match failure {
        DpopFailure::Invalid(why) => dpop_error(Code::InvalidDpopProof, "invalid_dpop_proof", why),
        DpopFailure::UseNonce => {
            let err = dpop_error(
                Code::UseDpopNonce,
                "use_dpop_nonce",
                "resource server requires nonce in DPoP proof",
            );
            match dpop::nonce(state).await {
                Ok(nonce) => err.with_header(header::HeaderName::from_static("dpop-nonce"), nonce),
                Err(e) => e,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_read_case_insensitively_and_empty_tokens_refused() {
        assert_eq!(
            Presented::parse("Bearer abc"),
            Some(Presented::Bearer("abc".into()))
        );
        assert_eq!(
            Presented::parse("dpop abc"),
            Some(Presented::Dpop("abc".into()))
        );
        assert_eq!(Presented::parse("DPoP "), None);
        assert_eq!(Presented::parse("Basic abc"), None);
    }
}
