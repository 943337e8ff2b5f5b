//! Citizen accounts: registration and email verification, sign-in and its
//! protections, sessions, passwords, and changes of email and phone.

mod contact;
mod passwords;
mod registration;
mod sessions;
mod sign_in;

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Posts an email-verification `token`.
async fn verify_email(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/registrations/verify-email",
        &json!({ "token": token }),
    )
    .await
}

/// The signed-in citizen's own view (`GET /api/v1/me` on `app.client`).
async fn profile(app: &TestApp) -> Value {
    app.get("/api/v1/me").await.json().await.expect("json")
}
