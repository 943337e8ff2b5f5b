//! `GET /account`: the citizen's own account page. It shows the person's
//! assurance level and what this session counts as, their passkeys (with a
//! form to remove each; adding one is the ceremony `/assets/passkeys.js`
//! runs against the JSON API), their live sessions and their last security
//! events. Usable without JavaScript except for adding a passkey.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use askama::Template;
use serde::Deserialize;

use crate::{
    error::AppError,
    http::AppState,
    http::{
        csrf,
        pages::{PageResult, desk::local, html, render},
        session::MaybeSession,
    },
    identity::{ClientInfo, emails::vietnam_date, passkeys::manage, profile},
    storage::accounts,
};

/// Where this page lives (and where the sign-in and the step-up come back to).
const ACCOUNT_PATH: &str = "/account";
/// How many security events the page shows.
const EVENTS_SHOWN: i64 = 20;

#[derive(Template)]
#[template(path = "account/index.html")]
struct AccountPage<'a> {
    csrf_token: &'a str,
    notice: Option<&'static str>,
    full_name: &'a str,
    level: i16,
    session_level2: bool,
    can_manage_passkeys: bool,
    passkeys: Vec<PasskeyLine>,
    sessions: Vec<SessionLine>,
    events: Vec<EventLine>,
}

struct PasskeyLine {
    id: String,
    name: String,
    created: String,
    last_used: String,
    synced: bool,
}

struct SessionLine {
    device: String,
    ip: String,
    started: String,
    last_seen: String,
    strength: &'static str,
    current: bool,
}

struct EventLine {
    at: String,
    label: &'static str,
    detail: String,
    device: String,
    ip: String,
}

/// Query of the page: which change just succeeded.
#[derive(Debug, Deserialize)]
pub struct AccountQuery {
    done: Option<String>,
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn sign_in_first() -> HttpResponse {
    see_other("/login?return_to=%2Faccount")
}

fn step_up_first() -> HttpResponse {
    see_other("/login/verify?return_to=%2Faccount")
}

/// `GET /account`.
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: MaybeSession,
    query: web::Query<AccountQuery>,
) -> PageResult {
    let Some(current) = session.0 else {
        return Ok(sign_in_first());
    };
    let account = current.session.account_id;
    let now = state.clock.now();
    let row = {
        let mut conn = state.db.get().await.map_err(AppError::from)?;
        accounts::find(&mut conn, account.as_uuid())
            .await
            .map_err(AppError::from)?
    };
    let keys = manage::list(&state, account).await?;
    let sessions = state
        .identity
        .sessions
        .list(&account.to_string(), Some(&current.token))
        .await?;
    let events = profile::events(&state, account, None, EVENTS_SHOWN).await?;
    let (csrf_token, cookie) = csrf::token_for(&state, &req);
    let body = render(&AccountPage {
        csrf_token: &csrf_token,
        notice: match query.done.as_deref() {
            Some("passkey_removed") => Some("Đã xóa passkey."),
            _ => None,
        },
        full_name: &row.full_name,
        level: row.assurance_level,
        session_level2: current.session.asserted_level() >= 2,
        can_manage_passkeys: current.session.recently_strong(now),
        passkeys: keys
            .into_iter()
            .map(|p| PasskeyLine {
                id: p.id.to_string(),
                name: p.name,
                created: vietnam_date(p.created_at).format("%d/%m/%Y").to_string(),
                last_used: p
                    .last_used_at
                    .as_ref()
                    .map_or_else(|| "Chưa dùng".to_owned(), local),
                synced: p.synced,
            })
            .collect(),
        sessions: sessions
            .into_iter()
            .map(|s| SessionLine {
                device: device(s.user_agent.as_deref()),
                ip: s.ip.unwrap_or_default(),
                started: local(&s.created_at),
                last_seen: local(&s.last_seen_at),
                strength: s.signed_in_with.unwrap_or("Không rõ"),
                current: s.current,
            })
            .collect(),
        events: events
            .into_iter()
            .map(|e| EventLine {
                at: local(&e.at),
                label: event_label(&e.kind),
                detail: event_detail(&e.detail),
                device: device(e.user_agent.as_deref()),
                ip: e.ip.unwrap_or_default(),
            })
            .collect(),
    })?;
    Ok(html(actix_web::http::StatusCode::OK, body, cookie))
}

/// The remove form: only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /account/passkeys/{id}/remove`: the same removal as the API's
/// `DELETE /api/v1/me/passkeys/{id}`.
pub async fn remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    session: MaybeSession,
    path: web::Path<String>,
    form: web::Form<RemoveForm>,
) -> PageResult {
    csrf::verify(&state, &req, &form.csrf_token)?;
    let Some(current) = session.0 else {
        return Ok(sign_in_first());
    };
    let not_found = crate::identity::passkeys::manage::not_found;
    let id = path.parse::<uuid::Uuid>().map_err(|_| not_found())?;
    if !current.session.recently_strong(state.clock.now()) {
        return Ok(step_up_first());
    }
    manage::remove(&state, current.session.account_id, id, &client).await?;
    Ok(see_other("/account?done=passkey_removed"))
}

/// A short name of the device from its user agent ("Chrome trên Windows").
fn device(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|ua| !ua.trim().is_empty()) else {
        return "Không rõ thiết bị".to_owned();
    };
    let browser = if ua.contains("Edg/") {
        Some("Edge")
    } else if ua.contains("Firefox/") {
        Some("Firefox")
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") {
        Some("Chrome")
    } else if ua.contains("Safari/") {
        Some("Safari")
    } else {
        None
    };
    let system = if ua.contains("Android") {
        Some("Android")
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        Some("iOS")
    } else if ua.contains("Windows") {
        Some("Windows")
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        Some("macOS")
    } else if ua.contains("Linux") || ua.contains("X11") {
        Some("Linux")
    } else {
        None
    };
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} trên {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => s.to_owned(),
        (None, None) => ua.chars().take(60).collect(),
    }
}

/// The Vietnamese label of a security event kind.
fn event_label(kind: &str) -> &'static str {
    match kind {
        "registered" => "Đăng ký tài khoản",
        "registered_with_proof" => "Đăng ký tài khoản đã xác minh danh tính",
        "registration_refused_id_taken" => "Từ chối đăng ký trùng số định danh",
        "email_verified" => "Xác nhận địa chỉ email",
        "sign_in_succeeded" => "Đăng nhập",
        "sign_in_failed" => "Đăng nhập không thành công",
        "signed_out" => "Đăng xuất",
        "password_reset_requested" => "Yêu cầu đặt lại mật khẩu",
        "password_reset" => "Đặt lại mật khẩu",
        "password_changed" => "Đổi mật khẩu",
        "email_change_requested" => "Yêu cầu đổi email",
        "phone_change_requested" => "Yêu cầu đổi số điện thoại",
        "phone_changed" => "Đổi số điện thoại",
        "account_change_undone" => "Hoàn tác thay đổi email hoặc số điện thoại",
        "account_locked" => "Khóa tài khoản",
        "account_unlocked" => "Mở khóa tài khoản",
        "level_raised" => "Nâng lên định danh mức 2",
        "identity_verified" => "Xác minh danh tính",
        "identity_reclaimed" => "Xác minh danh tính, thu hồi tài khoản đăng ký trùng",
        "business_registered" => "Đăng ký doanh nghiệp",
        "business_registration_confirmed" => "Đăng ký doanh nghiệp được xác nhận",
        "business_registration_rejected" => "Đăng ký doanh nghiệp bị từ chối",
        "business_authorization_granted" => "Ủy quyền cho người khác",
        "business_authorization_received" => "Được ủy quyền thay mặt doanh nghiệp",
        "business_authorization_revoked" => "Thu hồi ủy quyền",
        "business_authorization_lost" => "Bị thu hồi ủy quyền",
        "consent_granted" => "Đồng ý chia sẻ thông tin với ứng dụng",
        "consent_revoked" => "Thu hồi quyền của ứng dụng",
        "oidc_token_revoked" => "Thu hồi mã truy cập của ứng dụng",
        "passkey_added" => "Thêm passkey",
        "passkey_renamed" => "Đổi tên passkey",
        "passkey_removed" => "Xóa passkey",
        "step_up_succeeded" => "Xác thực thêm",
        _ => "Hoạt động khác",
    }
}

/// What an event's detail adds: how a sign-in was made, or which passkey.
fn event_detail(detail: &serde_json::Value) -> String {
    detail
        .get("signed_in_with")
        .or_else(|| detail.get("name"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Registers the page and its form.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(ACCOUNT_PATH).route(web::get().to(page)))
        .service(web::resource("/account/passkeys/{id}/remove").route(web::post().to(remove)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_read_from_common_user_agents() {
        assert_eq!(
            device(Some(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 Safari/537.36"
            )),
            "Chrome trên Linux"
        );
        assert_eq!(
            device(Some(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
            )),
            "Safari trên iOS"
        );
        assert_eq!(device(None), "Không rõ thiết bị");
    }

    #[test]
    fn unknown_events_still_read_in_vietnamese() {
        assert_eq!(event_label("sign_in_succeeded"), "Đăng nhập");
        assert_eq!(event_label("something_new"), "Hoạt động khác");
        assert_eq!(
            event_detail(&serde_json::json!({ "signed_in_with": "Passkey" })),
            "Passkey"
        );
        assert_eq!(event_detail(&serde_json::json!({})), "");
    }
}
