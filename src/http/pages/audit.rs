//! The agency's audit trail for its admins: every civil servant's action,
//! newest first, filtered by civil servant, kind, dossier and dates. A thin
//! door to identity::staff_events.

use actix_web::{http::StatusCode, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    PageResult,
    backoffice::{MaybeStaff, to_login},
    desk::local,
    html, render,
};
use crate::{
    catalog::agency_admin, domain::staff_event::StaffEvent, error::AppError, http::AppState,
    identity::staff_events, storage::staff::EventQuery,
};

struct AuditLine {
    at: String,
    username: String,
    label: String,
    dossier: Option<Uuid>,
    subject: String,
    detail: String,
    ip: String,
}

#[derive(Template)]
#[template(path = "backoffice/audit.html")]
struct AuditPage<'a> {
    lines: Vec<AuditLine>,
    kinds: Vec<(String, String)>,
    staff: Vec<(String, String)>,
    f: &'a AuditQuery,
    next: Option<String>,
}

/// The audit page's filter.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    staff: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    dossier: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    before: String,
}

impl AuditQuery {
    fn next_link(&self, before: Uuid) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!(
            "/backoffice/audit?staff={}&kind={}&dossier={}&from={}&to={}&before={before}",
            enc(&self.staff),
            enc(&self.kind),
            enc(&self.dossier),
            enc(&self.from),
            enc(&self.to),
        )
    }
}

fn local_midnight(
    raw: &str,
    label: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    use chrono::TimeZone;
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let day = agency_admin::parse_day(raw).map_err(|_| {
        AppError::bad_request("invalid_date").with_detail(format!("{label} không hợp lệ."))
    })?;
    Ok(day
        .and_hms_opt(0, 0, 0)
        .and_then(|t| {
            crate::domain::calendar::city_tz()
                .from_local_datetime(&t)
                .single()
        })
        .map(|t| t.with_timezone(&chrono::Utc)))
}

fn uuid_param(raw: &str, label: &str) -> Result<Option<Uuid>, AppError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(raw.trim()).map(Some).map_err(|_| {
        AppError::bad_request("invalid_filter").with_detail(format!("{label} không hợp lệ."))
    })
}

/// `GET /backoffice/audit`: the agency's trail, newest first.
pub async fn audit(
    state: web::Data<AppState>,
    current: MaybeStaff,
    query: web::Query<AuditQuery>,
) -> PageResult {
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let kind = match query.kind.trim() {
        "" => None,
        k => Some(
            StaffEvent::parse(k)
                .map(StaffEvent::as_str)
                .ok_or_else(|| {
                    AppError::bad_request("invalid_filter")
                        .with_detail("Loại thao tác không hợp lệ.")
                })?,
        ),
    };
    let to = local_midnight(&query.to, "Ngày kết thúc")?.map(|t| t + chrono::Duration::days(1));
    let filter = EventQuery {
        staff_id: uuid_param(&query.staff, "Cán bộ")?,
        kind,
        dossier_id: uuid_param(&query.dossier, "Mã hồ sơ")?,
        from: local_midnight(&query.from, "Ngày bắt đầu")?,
        to,
        before: uuid_param(&query.before, "Trang")?,
        ..EventQuery::default()
    };
    let (events, next) = staff_events::list(&state, &session, filter).await?;
    let staff = crate::identity::staff::agency_staff(&state, &session)
        .await?
        .into_iter()
        .map(|s| {
            (
                s.id.to_string(),
                format!("{} ({})", s.full_name, s.username),
            )
        })
        .collect();
    let mut kinds: Vec<(String, String)> = StaffEvent::all()
        .into_iter()
        .map(|e| (e.as_str(), e.label()))
        .collect();
    kinds.sort_by(|a, b| a.1.cmp(&b.1));
    let lines = events
        .into_iter()
        .map(|e| AuditLine {
            at: local(&e.at),
            username: e.username,
            label: e.label,
            dossier: e.dossier,
            subject: e.subject.unwrap_or_default(),
            detail: match &e.detail {
                serde_json::Value::Object(m) if m.is_empty() => String::new(),
                other => other.to_string(),
            },
            ip: e.ip.unwrap_or_default(),
        })
        .collect();
    let body = render(&AuditPage {
        lines,
        kinds,
        staff,
        next: next.map(|id| query.next_link(id)),
        f: &query,
    })?;
    Ok(html(StatusCode::OK, body, None))
}

/// Registers the route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/backoffice/audit").route(web::get().to(audit)));
}
