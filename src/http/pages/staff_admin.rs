//! The agency admin's staff pages: the agency's civil servants, adding one
//! (they enrol their second factor at first sign-in), and changing one:
//! roles, disabling and enabling, resetting the second factor. Thin doors
//! to identity::staff.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, http::header, web};
use askama::Template;
use secrecy::SecretString;
use uuid::Uuid;

use super::{
    PageResult,
    backoffice::{MaybeStaff, to_login},
    html, render, shown_on_form,
};
use crate::{
    domain::staff::StaffRole,
    error::{AppError, ErrorKind},
    http::AppState,
    http::csrf,
    identity::{
        staff::{self, StaffChange, StaffSession},
        staff_passkeys,
    },
};

struct StaffLine {
    id: String,
    active: bool,
    username: String,
    full_name: String,
    roles: String,
    enrolled: bool,
    passkeys: i64,
}

#[derive(Template)]
#[template(path = "backoffice/staff.html")]
struct StaffPage<'a> {
    csrf_token: &'a str,
    agency_code: &'a str,
    staff: Vec<StaffLine>,
    passkeys_required: bool,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

async fn staff_page(
    state: &AppState,
    req: &HttpRequest,
    session: &StaffSession,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> PageResult {
    let rows = staff::agency_staff(state, session).await?;
    let (passkeys_required, passkeys) = staff_passkeys::agency_overview(state, session).await?;
    let (csrf_token, cookie) = csrf::token_for(state, req);
    let body = render(&StaffPage {
        csrf_token: &csrf_token,
        agency_code: &session.agency_code,
        staff: rows
            .into_iter()
            .map(|r| StaffLine {
                id: r.id.to_string(),
                active: r.status == "active",
                enrolled: r.totp_secret.is_some(),
                passkeys: passkeys.get(&r.id).copied().unwrap_or(0),
                roles: r
                    .roles
                    .iter()
                    .filter_map(|role| StaffRole::parse(role).ok())
                    .map(StaffRole::label_vi)
                    .collect::<Vec<_>>()
                    .join(", "),
                username: r.username,
                full_name: r.full_name,
            })
            .collect(),
        passkeys_required,
        notice,
        error,
    })?;
    Ok(html(status, body, cookie))
}

/// `GET /backoffice/staff`: the agency admin's staff list and form.
pub async fn staff_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
) -> PageResult {
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let notice = (req.query_string() == "saved=passkey_policy")
        .then_some("Đã lưu yêu cầu đăng nhập bằng passkey của đơn vị.");
    staff_page(&state, &req, &session, StatusCode::OK, notice, None).await
}

/// `POST /backoffice/staff`: add a civil servant to my agency.
pub async fn staff_create(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    csrf::verify(&state, &req, &field("csrf_token"))?;
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let roles: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "role")
        .map(|(_, v)| v.clone())
        .collect();
    match staff::create_by_agency_admin(
        &state.identity,
        &session,
        &field("username"),
        &field("full_name"),
        &roles,
        SecretString::from(field("password")),
    )
    .await
    {
        Ok(row) => {
            let notice = format!(
                "Đã thêm cán bộ {}. Cán bộ sẽ thiết lập xác thực hai lớp khi đăng nhập lần đầu.",
                row.username
            );
            staff_page(
                &state,
                &req,
                &session,
                StatusCode::CREATED,
                Some(&notice),
                None,
            )
            .await
        }
        Err(err) if shown_on_form(&err) && err.kind() != crate::error::ErrorKind::Forbidden => {
            let message = super::form_messages(&err).join(" ");
            staff_page(
                &state,
                &req,
                &session,
                err.kind().status(),
                None,
                Some(&message),
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Template)]
#[template(path = "backoffice/staff_member.html")]
struct MemberPage<'a> {
    csrf_token: &'a str,
    id: String,
    username: String,
    full_name: String,
    active: bool,
    enrolled: bool,
    is_self: bool,
    roles: Vec<(&'static str, &'static str, bool)>,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

fn not_found() -> AppError {
    AppError::not_found("staff_not_found")
        .with_detail("Không tìm thấy cán bộ này trong đơn vị của bạn.")
}

async fn member_page(
    state: &AppState,
    req: &HttpRequest,
    session: &StaffSession,
    id: &str,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> PageResult {
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let row = staff::agency_staff(state, session)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(not_found)?;
    let (csrf_token, cookie) = csrf::token_for(state, req);
    let body = render(&MemberPage {
        csrf_token: &csrf_token,
        id: row.id.to_string(),
        active: row.status == "active",
        enrolled: row.totp_secret.is_some(),
        is_self: row.id == session.staff_id,
        roles: StaffRole::ALL
            .into_iter()
            .map(|r| {
                (
                    r.as_str(),
                    r.label_vi(),
                    row.roles.iter().any(|x| x == r.as_str()),
                )
            })
            .collect(),
        username: row.username,
        full_name: row.full_name,
        notice,
        error,
    })?;
    Ok(html(status, body, cookie))
}

/// `GET /backoffice/staff/{id}`.
pub async fn member(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    path: web::Path<String>,
) -> PageResult {
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let notice = match req.query_string() {
        "saved=roles" => Some("Đã đổi vai trò. Cán bộ đăng nhập lại để dùng vai trò mới."),
        "saved=disable" => Some("Đã khóa tài khoản; các phiên đăng nhập của cán bộ đã kết thúc."),
        "saved=enable" => Some("Đã mở khóa tài khoản."),
        "saved=reset_second_factor" => {
            Some("Đã đặt lại xác thực hai lớp; cán bộ thiết lập lại khi đăng nhập lần tới.")
        }
        _ => None,
    };
    member_page(&state, &req, &session, &path, StatusCode::OK, notice, None).await
}

/// `POST /backoffice/staff/{id}`: `change` = `roles` (with `role` fields),
/// `disable`, `enable` or `reset_second_factor`, and `confirm=yes`.
pub async fn change(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: MaybeStaff,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    csrf::verify(&state, &req, &field("csrf_token"))?;
    let Some((session, _)) = current.0 else {
        return Ok(to_login());
    };
    let id = Uuid::parse_str(&path).map_err(|_| not_found())?;
    let kind = field("change");
    let outcome = async {
        let change = match kind.as_str() {
            "roles" => StaffChange::Roles(
                form.iter()
                    .filter(|(k, _)| k == "role")
                    .map(|(_, v)| v.clone())
                    .collect(),
            ),
            "disable" => StaffChange::Disable,
            "enable" => StaffChange::Enable,
            "reset_second_factor" => StaffChange::ResetSecondFactor,
            _ => {
                return Err(
                    AppError::bad_request("change_invalid").with_detail("Thao tác không hợp lệ.")
                );
            }
        };
        if field("confirm") != "yes" {
            return Err(
                AppError::new(ErrorKind::Unprocessable, "confirmation_required")
                    .with_detail("Vui lòng đánh dấu xác nhận trước khi thực hiện."),
            );
        }
        staff::change_by_agency_admin(&state.identity, &session, id, change).await
    }
    .await;
    match outcome {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/backoffice/staff/{id}?saved={kind}"),
            ))
            .finish()),
        Err(err)
            if shown_on_form(&err)
                && !matches!(err.kind(), ErrorKind::Forbidden | ErrorKind::NotFound) =>
        {
            let message = err
                .field_errors()
                .first()
                .map_or_else(|| err.detail().to_owned(), |f| f.message.clone());
            member_page(
                &state,
                &req,
                &session,
                &path,
                err.kind().status(),
                None,
                Some(&message),
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/backoffice/staff")
            .route(web::get().to(staff_list))
            .route(web::post().to(staff_create)),
    )
    .service(
        web::resource("/backoffice/staff/{id}")
            .route(web::get().to(member))
            .route(web::post().to(change)),
    );
}
