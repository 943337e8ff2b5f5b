//! The agency admin's pages: working time (opening hours and the agency's
//! own days over the city's calendar) and which assigned services the
//! agency takes new dossiers for. Thin doors to catalog::agency_admin.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, http::header, web};
use askama::Template;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::{
    PageResult,
    backoffice::{MaybeStaff, to_login},
    desk::local,
    html, render, shown_on_form,
};
use crate::{
    catalog::agency_admin,
    domain::calendar::{DayKind, HoursInput},
    error::{AppError, ErrorKind},
    http::AppState,
    http::csrf,
    identity::staff::StaffSession,
};

const WEEKDAYS: [(u8, &str); 7] = [
    (1, "Thứ Hai"),
    (2, "Thứ Ba"),
    (3, "Thứ Tư"),
    (4, "Thứ Năm"),
    (5, "Thứ Sáu"),
    (6, "Thứ Bảy"),
    (7, "Chủ nhật"),
];

fn weekday_vi(day: NaiveDate) -> &'static str {
    let n = day.weekday().number_from_monday();
    WEEKDAYS
        .iter()
        .find(|(d, _)| u32::from(*d) == n)
        .map_or("", |(_, name)| name)
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}

/// Field errors as lines a person reads, naming the weekday and session.
fn messages(err: &AppError) -> Vec<String> {
    if err.field_errors().is_empty() {
        return super::form_messages(err);
    }
    err.field_errors()
        .iter()
        .map(|f| {
            let mut parts = f.field.split('.');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("hours"), Some(day), Some(slot)) => {
                    let day = WEEKDAYS
                        .iter()
                        .find(|(d, _)| d.to_string() == day)
                        .map_or("?", |(_, n)| n);
                    let slot = slot.parse::<u8>().map_or(0, |s| s + 1);
                    format!("{day}, buổi {slot}: {}", f.message)
                }
                _ => f.message.clone(),
            }
        })
        .collect()
}

struct HoursRow {
    weekday: u8,
    label: &'static str,
    /// (open, close) per slot, as shown in the inputs.
    slots: Vec<(String, String)>,
}

struct DayLine {
    date: String,
    iso: String,
    weekday: &'static str,
    kind: &'static str,
    name: String,
}

#[derive(Template)]
#[template(path = "backoffice/agency_calendar.html")]
struct CalendarPage<'a> {
    csrf_token: &'a str,
    agency_name: &'a str,
    hours: Vec<HoursRow>,
    city_days: Vec<DayLine>,
    own_days: Vec<DayLine>,
    notice: Option<&'a str>,
    errors: Vec<String>,
    day_form: &'a DayForm,
    min_day: String,
}

fn kind_vi(kind: DayKind) -> &'static str {
    match kind {
        DayKind::Closed => "Nghỉ",
        DayKind::Worked => "Làm việc (giờ như thứ Hai)",
    }
}

/// The add-a-day form.
#[derive(Debug, Default, Deserialize)]
pub struct DayForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

struct CalendarView<'a> {
    status: StatusCode,
    notice: Option<&'a str>,
    errors: Vec<String>,
    /// The hours as typed, when they were refused.
    typed: Option<Vec<HoursInput>>,
    day_form: &'a DayForm,
}

async fn calendar_page(
    state: &AppState,
    req: &HttpRequest,
    session: &StaffSession,
    view: CalendarView<'_>,
) -> PageResult {
    let wt = agency_admin::working_time(state, session).await?;
    let hours = WEEKDAYS
        .iter()
        .map(|&(weekday, label)| {
            let mut slots: Vec<(String, String)> = match &view.typed {
                Some(typed) => typed
                    .iter()
                    .filter(|h| h.weekday == weekday)
                    .map(|h| (h.open.clone(), h.close.clone()))
                    .collect(),
                None => wt
                    .openings
                    .iter()
                    .filter(|o| o.weekday.number_from_monday() == u32::from(weekday))
                    .map(|o| {
                        (
                            o.open.format("%H:%M").to_string(),
                            o.close.format("%H:%M").to_string(),
                        )
                    })
                    .collect(),
            };
            while slots.len() < 2 {
                slots.push((String::new(), String::new()));
            }
            HoursRow {
                weekday,
                label,
                slots,
            }
        })
        .collect();
    let line = |day: NaiveDate, kind: DayKind, name: String| DayLine {
        date: day.format("%d/%m/%Y").to_string(),
        iso: day.format("%Y-%m-%d").to_string(),
        weekday: weekday_vi(day),
        kind: kind_vi(kind),
        name,
    };
    let city_days = wt
        .city_days
        .into_iter()
        .map(|(d, k, n)| line(d, k, n))
        .collect();
    let own_days = wt
        .own_days
        .into_iter()
        .map(|r| line(r.day, crate::catalog::day_kind(&r.kind), r.name))
        .collect();
    let (csrf_token, cookie) = csrf::token_for(state, req);
    let body = render(&CalendarPage {
        csrf_token: &csrf_token,
        agency_name: &wt.agency.name,
        hours,
        city_days,
        own_days,
        notice: view.notice,
        errors: view.errors,
        day_form: view.day_form,
        min_day: (wt.today + chrono::Duration::days(1))
            .format("%Y-%m-%d")
            .to_string(),
    })?;
    Ok(html(view.status, body, cookie))
}

/// `?saved=` after a change.
#[derive(Debug, Default, Deserialize)]
pub struct Saved {
    #[serde(default)]
    saved: String,
}

/// `GET /backoffice/agency/calendar`.
pub async fn calendar(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    query: web::Query<Saved>,
) -> PageResult {
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let notice = match query.saved.as_str() {
        "hours" => {
            Some("Đã lưu giờ làm việc. Hạn giải quyết của hồ sơ đã tiếp nhận không thay đổi.")
        }
        "day" => Some("Đã thêm ngày của đơn vị."),
        "removed" => Some("Đã bỏ ngày của đơn vị."),
        _ => None,
    };
    let day_form = DayForm::default();
    calendar_page(
        &state,
        &req,
        &session,
        CalendarView {
            status: StatusCode::OK,
            notice,
            errors: Vec::new(),
            typed: None,
            day_form: &day_form,
        },
    )
    .await
}

fn form_value<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// `POST /backoffice/agency/hours`: fields `open_{weekday}_{slot}` and
/// `close_{weekday}_{slot}`.
pub async fn save_hours(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    csrf::verify(&state, &req, form_value(&form, "csrf_token"))?;
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let mut rows = Vec::new();
    for (weekday, _) in WEEKDAYS {
        for slot in 0..4u8 {
            let open = form
                .iter()
                .find(|(k, _)| *k == format!("open_{weekday}_{slot}"));
            let close = form
                .iter()
                .find(|(k, _)| *k == format!("close_{weekday}_{slot}"));
            if open.is_none() && close.is_none() {
                continue;
            }
            rows.push(HoursInput {
                weekday,
                slot,
                open: open.map(|(_, v)| v.clone()).unwrap_or_default(),
                close: close.map(|(_, v)| v.clone()).unwrap_or_default(),
            });
        }
    }
    match agency_admin::set_hours(&state, &session, &rows).await {
        Ok(()) => Ok(see_other("/backoffice/agency/calendar?saved=hours")),
        Err(err) if shown_on_form(&err) && err.kind() != ErrorKind::Forbidden => {
            let day_form = DayForm::default();
            calendar_page(
                &state,
                &req,
                &session,
                CalendarView {
                    status: err.kind().status(),
                    notice: None,
                    errors: messages(&err),
                    typed: Some(rows),
                    day_form: &day_form,
                },
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}

/// `POST /backoffice/agency/days`.
pub async fn add_day(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    form: web::Form<DayForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    match agency_admin::add_day(&state, &session, &form.day, &form.kind, &form.name).await {
        Ok(_) => Ok(see_other("/backoffice/agency/calendar?saved=day")),
        Err(err) if shown_on_form(&err) && err.kind() != ErrorKind::Forbidden => {
            calendar_page(
                &state,
                &req,
                &session,
                CalendarView {
                    status: err.kind().status(),
                    notice: None,
                    errors: messages(&err),
                    typed: None,
                    day_form: &form,
                },
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}

/// A form carrying only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /backoffice/agency/days/{day}/remove`.
pub async fn remove_day(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    path: web::Path<String>,
    form: web::Form<TokenForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    agency_admin::remove_day(&state, &session, &path).await?;
    Ok(see_other("/backoffice/agency/calendar?saved=removed"))
}

struct OfferLine {
    code: String,
    name: String,
    field: String,
    offered: bool,
    changed: String,
}

#[derive(Template)]
#[template(path = "backoffice/agency_services.html")]
struct ServicesPage<'a> {
    csrf_token: &'a str,
    fields: Vec<String>,
    field: &'a str,
    q: &'a str,
    lines: Vec<OfferLine>,
    offered: usize,
    total: usize,
    notice: Option<&'a str>,
}

/// The services page's filter.
#[derive(Debug, Default, Deserialize)]
pub struct ServicesQuery {
    #[serde(default)]
    field: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    saved: String,
    /// The service just changed (named in the notice).
    #[serde(default)]
    service: String,
}

/// `GET /backoffice/agency/services`.
pub async fn services(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    query: web::Query<ServicesQuery>,
) -> PageResult {
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let all = agency_admin::offers(&state, &session).await?;
    let total = all.len();
    let offered = all.iter().filter(|o| o.offered).count();
    let mut fields: Vec<String> = all.iter().map(|o| o.field.clone()).collect();
    fields.dedup();
    let words: Vec<String> = crate::domain::search::fold(&query.q)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let lines = all
        .into_iter()
        .filter(|o| query.field.is_empty() || o.field == query.field)
        .filter(|o| {
            let folded = crate::domain::search::fold(&format!("{} {}", o.code, o.name));
            words.iter().all(|w| folded.contains(w.as_str()))
        })
        .map(|o| OfferLine {
            changed: o.changed_at.as_ref().map(local).unwrap_or_default(),
            code: o.code,
            name: o.name,
            field: o.field,
            offered: o.offered,
        })
        .collect();
    let service = query.service.trim();
    let notice = match query.saved.as_str() {
        "on" => Some(format!(
            "Đơn vị đã tiếp nhận lại hồ sơ mới của thủ tục {service}."
        )),
        "off" => Some(format!(
            "Đơn vị đã tạm ngừng tiếp nhận hồ sơ mới của thủ tục {service}; hồ sơ đã nộp vẫn được giải quyết."
        )),
        _ => None,
    };
    let (csrf_token, cookie) = csrf::token_for(&state, &req);
    let body = render(&ServicesPage {
        csrf_token: &csrf_token,
        fields,
        field: &query.field,
        q: &query.q,
        lines,
        offered,
        total,
        notice: notice.as_deref(),
    })?;
    Ok(html(StatusCode::OK, body, cookie))
}

/// The offer toggle.
#[derive(Debug, Deserialize)]
pub struct OfferForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    offered: String,
    /// The filter to return to.
    #[serde(default)]
    field: String,
    #[serde(default)]
    q: String,
}

/// `POST /backoffice/agency/services/{code}`.
pub async fn set_offered(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    path: web::Path<String>,
    form: web::Form<OfferForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let offered = match form.offered.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return Err(AppError::bad_request("offered_invalid")
                .with_detail("Yêu cầu không hợp lệ.")
                .into());
        }
    };
    agency_admin::set_offered(&state, &session, &path, offered).await?;
    // Back to the same filtered list, at the changed row.
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("saved", if offered { "on" } else { "off" })
        .append_pair("service", &path)
        .append_pair("field", &form.field)
        .append_pair("q", &form.q)
        .finish();
    Ok(see_other(&format!(
        "/backoffice/agency/services?{query}#svc-{}",
        url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>()
    )))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/backoffice/agency/calendar").route(web::get().to(calendar)))
        .service(web::resource("/backoffice/agency/hours").route(web::post().to(save_hours)))
        .service(web::resource("/backoffice/agency/days").route(web::post().to(add_day)))
        .service(
            web::resource("/backoffice/agency/days/{day}/remove").route(web::post().to(remove_day)),
        )
        .service(web::resource("/backoffice/agency/services").route(web::get().to(services)))
        .service(
            web::resource("/backoffice/agency/services/{code}").route(web::post().to(set_offered)),
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_name_the_weekday_and_session() {
        let err = AppError::new(ErrorKind::Unprocessable, "validation_failed")
            .with_field(
                "hours.6.1",
                "hours_inverted",
                "Giờ đóng cửa phải sau giờ mở cửa.",
            )
            .with_field("day", "day_invalid", "Ngày không hợp lệ.");
        assert_eq!(
            messages(&err),
            vec![
                "Thứ Bảy, buổi 2: Giờ đóng cửa phải sau giờ mở cửa.".to_owned(),
                "Ngày không hợp lệ.".to_owned()
            ]
        );
        assert_eq!(
            weekday_vi(NaiveDate::from_ymd_opt(2026, 11, 22).expect("date")),
            "Chủ nhật"
        );
    }
}
