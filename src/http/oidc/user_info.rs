//! UserInfo (OpenID Connect Core §5.3) as a resource of our own access
//! tokens, bearer or DPoP-bound.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use serde::Deserialize;

use crate::error::Code;
use crate::{error::AppError, http::AppState, oidc::userinfo};

/// Verifies the access token a request presents (bearer, or DPoP with its proof).
pub async fn verify_presented(
    state: &AppState,
    req: &HttpRequest,
    presented: &crate::oidc::resource::Presented,
) -> Result<crate::oidc::jwt::AccessClaims, AppError> {
    let proofs: Vec<&str> = req
        .headers()
        .get_all(crate::oidc::dpop::DPOP_HEADER)
        .filter_map(|v| v.to_str().ok())
        .collect();
    let line = crate::oidc::resource::RequestLine {
        method: req.method().as_str(),
        path: req.path(),
        proofs: &proofs,
    };
    crate::oidc::resource::verify(&state.oidc, presented, &line).await
}

/// A UserInfo POST may carry its bearer token in the form (RFC 6750 §2.2).
#[derive(Debug, Deserialize)]
pub struct UserinfoForm {
    access_token: Option<String>,
}

/// `GET|POST /oauth2/userinfo` with an access token (bearer or DPoP).
pub async fn userinfo(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Option<web::Form<UserinfoForm>>,
) -> Result<HttpResponse, AppError> {
    let in_header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::oidc::resource::Presented::parse);
    let in_body = form
        .and_then(|f| f.into_inner().access_token)
        .filter(|t| !t.is_empty());
    if in_header.is_some() && in_body.is_some() {
        // RFC 6750 §2: one method per request.
        return Err(AppError::from(Code::InvalidAccessToken)
            .with_detail("Chỉ gửi mã truy cập một cách (header hoặc form).")
            .with_header(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_request\""));
    }
    let presented = in_header
        .or_else(|| in_body.map(crate::oidc::resource::Presented::Bearer))
        .ok_or_else(|| {
            AppError::from(Code::InvalidAccessToken)
                .with_detail("Cần mã truy cập (Bearer hoặc DPoP).")
                .with_header(header::WWW_AUTHENTICATE, crate::oidc::resource::challenge())
        })?;
    let claims = verify_presented(&state, &req, &presented).await?;
    let body = userinfo::claims(&state.oidc, &claims).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}
