//! Who is signed in to the back office: `MaybeStaff` (the session, if any)
//! and `SignedInStaff` (the session, or a redirect to the back-office login),
//! so a page handler never builds the redirect itself. A browser is answered
//! with a redirect, never with JSON.

use actix_web::{
    FromRequest, HttpRequest, HttpResponse, dev::Payload, error::InternalError, http::header, web,
};
use futures_util::future::LocalBoxFuture;

use super::staff_passkeys::{open_while_enrolling, to_enrolment};
use crate::{
    error::AppError,
    http::AppState,
    identity::{ClientInfo, staff, staff::StaffSession, staff_passkeys},
};

/// The back-office session cookie (only sent to `/backoffice`).
pub const STAFF_COOKIE: &str = "es_staff_session";

/// The redirect to the back-office sign-in page.
pub(crate) fn to_login() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/backoffice/login"))
        .finish()
}

/// The signed-in civil servant, if any, with the cookie token. A session
/// that must register a passkey first (the agency requires them) is sent to
/// /backoffice/passkeys from every page but that one, sign-in and sign-out.
#[derive(Debug, Clone)]
pub struct MaybeStaff(pub Option<(StaffSession, String)>);

impl FromRequest for MaybeStaff {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let Some(token) = req.cookie(STAFF_COOKIE).map(|c| c.value().to_owned()) else {
                return Ok(Self(None));
            };
            let Some(state) = req.app_data::<web::Data<AppState>>() else {
                return Err(
                    AppError::internal(anyhow::anyhow!("application state missing")).into(),
                );
            };
            let client = ClientInfo::extract(&req).await?;
            let session = staff::session(&state.identity, &token, client).await?;
            if let Some(s) = &session
                && !open_while_enrolling(req.path())
                && staff_passkeys::enrolment_required(state, s).await?
            {
                return Err(to_enrolment());
            }
            Ok(Self(session.map(|s| (s, token))))
        })
    }
}

/// The signed-in civil servant; without a live session the request is
/// answered with a redirect to /backoffice/login.
#[derive(Debug, Clone)]
pub struct SignedInStaff(pub StaffSession);

impl FromRequest for SignedInStaff {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let maybe = MaybeStaff::from_request(req, payload);
        Box::pin(async move {
            match maybe.await?.0 {
                Some((session, _)) => Ok(Self(session)),
                None => Err(InternalError::from_response("not signed in", to_login()).into()),
            }
        })
    }
}
