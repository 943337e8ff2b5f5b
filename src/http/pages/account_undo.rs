//! `/undo-change?token=…`: the page the undo link of an email or phone
//! change opens. A button (link scanners cannot use the token up) posts it;
//! the previous value comes back and the account is locked.

use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;

use crate::{
    http::AppState,
    http::{
        csrf,
        pages::{PageResult, html, render, shown_on_form},
    },
    identity::{
        ClientInfo,
        account_changes::{self, UNDONE_MESSAGE},
    },
};

#[derive(Template)]
#[template(path = "auth/undo_change.html")]
struct UndoChangePage<'a> {
    csrf_token: &'a str,
    token: &'a str,
    done: bool,
    done_message: &'a str,
    error: Option<&'a str>,
}

/// Query and form of the undo page.
#[derive(Debug, Deserialize)]
pub struct UndoForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf_token: String,
}

/// `GET /undo-change?token=…`: the confirmation button.
pub async fn undo_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<UndoForm>,
) -> PageResult {
    let (csrf_token, cookie) = csrf::token_for(&state, &req);
    let body = render(&UndoChangePage {
        csrf_token: &csrf_token,
        token: &query.token,
        done: false,
        done_message: UNDONE_MESSAGE,
        error: None,
    })?;
    Ok(html(actix_web::http::StatusCode::OK, body, cookie))
}

/// `POST /undo-change`.
pub async fn undo_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    form: web::Form<UndoForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let (csrf_token, cookie) = csrf::token_for(&state, &req);
    match account_changes::undo_change(&state.identity, form.token.trim(), &client).await {
        Ok(()) => {
            let body = render(&UndoChangePage {
                csrf_token: &csrf_token,
                token: "",
                done: true,
                done_message: UNDONE_MESSAGE,
                error: None,
            })?;
            Ok(html(actix_web::http::StatusCode::OK, body, cookie))
        }
        Err(err) if shown_on_form(&err) => {
            let body = render(&UndoChangePage {
                csrf_token: &csrf_token,
                token: "",
                done: false,
                done_message: UNDONE_MESSAGE,
                error: Some(err.detail()),
            })?;
            Ok(html(err.kind().status(), body, cookie))
        }
        Err(err) => Err(err.into()),
    }
}

/// Registers the page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/undo-change")
            .route(web::get().to(undo_form))
            .route(web::post().to(undo_submit)),
    );
}
