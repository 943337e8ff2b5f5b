//! Intake at the counter: a receiver opens a service's form for a citizen
//! (prefilled from the citizen's vault) and files the dossier for them.

use actix_web::{HttpRequest, http::StatusCode, web};
use askama::Template;
use serde::Deserialize;

use super::done;
use crate::error::Code;
use crate::{
    error::AppError,
    http::{
        AppState, csrf,
        pages::{
            PageError, PageResult, form_messages, html, render, shown_on_form,
            staff_guard::SignedInStaff,
        },
    },
    identity::staff::StaffSession,
};

#[derive(Template)]
#[template(path = "backoffice/counter.html")]
struct CounterPage<'a> {
    csrf_token: &'a str,
    national_id: &'a str,
    service: &'a str,
    services: Vec<(String, String)>,
    form: Option<crate::dossiers::counter::CounterForm>,
    errors: Vec<String>,
}

impl CounterPage<'_> {
    fn input_type(&self, field: &crate::domain::form::FormField) -> &'static str {
        use crate::domain::form::FieldType;
        match field.kind {
            FieldType::Number => "number",
            FieldType::Date => "date",
            _ => "text",
        }
    }
    fn value_of(
        &self,
        form: &crate::dossiers::counter::CounterForm,
        field: &crate::domain::form::FormField,
    ) -> String {
        form.values
            .get(&field.name)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .unwrap_or_default()
    }
}

#[allow(clippy::too_many_arguments)]
async fn counter_page(
    state: &AppState,
    req: &HttpRequest,
    session: &StaffSession,
    status: StatusCode,
    national_id: &str,
    service: &str,
    form: Option<crate::dossiers::counter::CounterForm>,
    errors: Vec<String>,
) -> PageResult {
    let mut conn = state.db.get().await.map_err(AppError::from)?;
    let services = crate::storage::catalog::services_of(&mut conn, &session.agency_code)
        .await
        .map_err(AppError::from)?;
    drop(conn);
    let (csrf_token, cookie) = csrf::token_for(state, req);
    let body = render(&CounterPage {
        csrf_token: &csrf_token,
        national_id,
        service,
        services,
        form,
        errors,
    })?;
    Ok(html(status, body, cookie))
}

/// `?national_id=&service=`: the citizen and the service asked for.
#[derive(Debug, Deserialize)]
pub struct CounterQuery {
    #[serde(default)]
    national_id: String,
    #[serde(default)]
    service: String,
}

/// `GET /backoffice/counter`: a receiver opens the form of a service for a
/// citizen at the counter, prefilled from the citizen's vault.
pub async fn counter(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedInStaff(session): SignedInStaff,
    query: web::Query<CounterQuery>,
) -> PageResult {
    if !session.has(crate::domain::staff::StaffRole::Receiver) {
        return Err(PageError(
            AppError::from(Code::RoleNotAllowed)
                .with_detail("Chỉ cán bộ tiếp nhận được nhận hồ sơ tại quầy."),
        ));
    }
    let (national_id, service) = (query.national_id.trim(), query.service.trim());
    if national_id.is_empty() || service.is_empty() {
        return counter_page(
            &state,
            &req,
            &session,
            StatusCode::OK,
            national_id,
            service,
            None,
            Vec::new(),
        )
        .await;
    }
    match crate::dossiers::counter::start(&state, &session, national_id, service).await {
        Ok(form) => {
            counter_page(
                &state,
                &req,
                &session,
                StatusCode::OK,
                national_id,
                service,
                Some(form),
                Vec::new(),
            )
            .await
        }
        Err(err) if shown_on_form(&err) => {
            let status = err.kind().status();
            let errors = form_messages(&err);
            counter_page(
                &state,
                &req,
                &session,
                status,
                national_id,
                service,
                None,
                errors,
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}

/// `POST /backoffice/counter`: files the dossier for the citizen.
pub async fn counter_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedInStaff(session): SignedInStaff,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let fields = form.into_inner();
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    csrf::verify(&state, &req, &get("csrf_token"))?;
    let (national_id, service) = (get("national_id"), get("service"));
    let entered: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("f.")
                .map(|name| (name.to_owned(), serde_json::Value::String(v.clone())))
        })
        .collect();
    let outcome = if get("confirm") == "yes" {
        crate::dossiers::counter::file(&state, &session, &national_id, &service, entered.clone())
            .await
    } else {
        Err(AppError::from(Code::ConfirmationRequired))
    };
    match outcome {
        Ok(id) => Ok(done(id, "counter_filing")),
        Err(err) if shown_on_form(&err) => {
            let status = err.kind().status();
            let errors = form_messages(&err);
            // The form again, with what was typed.
            let form = crate::dossiers::counter::start(&state, &session, &national_id, &service)
                .await
                .ok()
                .map(|mut f| {
                    for (k, v) in entered {
                        if v.as_str().is_some_and(|s| !s.trim().is_empty()) {
                            f.values.insert(k, v);
                        }
                    }
                    f
                });
            counter_page(
                &state,
                &req,
                &session,
                status,
                &national_id,
                &service,
                form,
                errors,
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}
