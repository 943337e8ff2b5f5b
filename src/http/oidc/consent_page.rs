//! The consent page: its template, its texts in Vietnamese and English, and
//! what each scope means to the person asked.

use actix_web::HttpRequest;
use askama::Template;

use crate::{
    error::AppError,
    http::{
        AppState, csrf,
        pages::{PageResult, html, render},
    },
    oidc::flow::{self, PendingConsent},
};

/// The consent page of `pending`: the organisation behind the client (its
/// registered name, logo and policy), who is asked, and what for.
pub(super) async fn show(
    state: &AppState,
    req: &HttpRequest,
    pending: &PendingConsent,
) -> PageResult {
    let (csrf_token, cookie) = csrf::token_for(state, req);
    let english = flow::page_lang(&pending.request) == Some("en");
    let describe = if english {
        describe_scope_en
    } else {
        describe_scope
    };
    let mut items = Vec::with_capacity(pending.scopes.len());
    for scope in &pending.scopes {
        if let Some(text) = describe(scope) {
            items.push(text.to_owned());
        } else if let Some(line) = crate::vault::records::consent_line(
            state,
            crate::domain::AccountId::from(pending.account_id),
            scope,
            english,
        )
        .await?
        {
            items.push(line);
        }
    }
    let client = crate::oidc::clients::find(&state.oidc, &pending.client_id).await?;
    let mut conn = state.db.get().await.map_err(AppError::from)?;
    let person = crate::storage::accounts::find(&mut conn, pending.account_id)
        .await
        .ok()
        .map(|a| a.full_name);
    drop(conn);
    let client = client.as_ref();
    let body = render(&ConsentPage {
        t: if english { &CONSENT_EN } else { &CONSENT_VI },
        csrf_token: &csrf_token,
        consent_id: &pending.id,
        client_id: &pending.client_id,
        client_name: client
            .and_then(|c| c.client_name.as_deref())
            .unwrap_or(&pending.client_id),
        logo_uri: client.and_then(|c| c.logo_uri.as_deref()),
        policy_uri: client.and_then(|c| c.policy_uri.as_deref()),
        person: person.as_deref(),
        items,
    })?;
    Ok(html(actix_web::http::StatusCode::OK, body, cookie))
}

#[derive(Template)]
#[template(path = "auth/consent.html")]
struct ConsentPage<'a> {
    t: &'static ConsentTexts,
    csrf_token: &'a str,
    pub(super) consent_id: &'a str,
    pub(super) client_id: &'a str,
    /// The organisation's registered name (the client id when none).
    pub(super) client_name: &'a str,
    pub(super) logo_uri: Option<&'a str>,
    pub(super) policy_uri: Option<&'a str>,
    /// Who is signed in.
    pub(super) person: Option<&'a str>,
    pub(super) items: Vec<String>,
}

/// The consent page's texts in one language.
pub(super) struct ConsentTexts {
    pub(super) lang: &'static str,
    pub(super) title: &'static str,
    pub(super) app: &'static str,
    pub(super) asks: &'static str,
    pub(super) note: &'static str,
    pub(super) allow: &'static str,
    pub(super) deny: &'static str,
    pub(super) client_id: &'static str,
    pub(super) policy: &'static str,
    pub(super) signed_in_as: &'static str,
    pub(super) not_you: &'static str,
}

pub(super) const CONSENT_VI: ConsentTexts = ConsentTexts {
    lang: "vi",
    title: "Cấp quyền cho ứng dụng",
    app: "Ứng dụng",
    asks: "đề nghị truy cập các thông tin sau của bạn:",
    note: "Bạn có thể thu hồi quyền này bất cứ lúc nào trong mục “Ứng dụng đã kết nối”.",
    allow: "Đồng ý",
    deny: "Từ chối",
    client_id: "mã ứng dụng",
    policy: "Chính sách bảo vệ dữ liệu cá nhân của tổ chức này",
    signed_in_as: "Bạn đang đăng nhập với tên",
    not_you: "Không phải bạn? Đăng xuất",
};

pub(super) const CONSENT_EN: ConsentTexts = ConsentTexts {
    lang: "en",
    title: "Allow access",
    app: "The application",
    asks: "asks to access the following information about you:",
    note: "You can withdraw this permission at any time under “Connected apps”.",
    allow: "Allow",
    deny: "Deny",
    client_id: "client id",
    policy: "This organisation's personal data policy",
    signed_in_as: "You are signed in as",
    not_you: "Not you? Sign out",
};

pub(super) fn describe_scope_en(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "openid" => "An identifier of your account for this application",
        "profile" => "Your name, date of birth and sex",
        "email" => "Your email address",
        "phone" => "Your phone number",
        "address" => "Your address (as VNeID vouched for it)",
        "national_id" => "Your personal identification number (identity-verified accounts only)",
        "business" => "The businesses you represent or are authorised to act for",
        "account" => "Your account's profile",
        "dossiers" => "Your administrative dossiers",
        "vault" => "Your data vault: records, documents, its access log and export",
        "offline_access" => "Access while you are not online",
        _ => return None,
    })
}

pub(super) fn describe_scope(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "openid" => "Định danh tài khoản của bạn đối với ứng dụng này",
        "profile" => "Họ tên, ngày sinh, giới tính",
        "email" => "Địa chỉ email",
        "phone" => "Số điện thoại",
        "address" => "Địa chỉ (theo xác thực của VNeID)",
        "national_id" => "Số định danh cá nhân (chỉ với tài khoản định danh mức độ 2)",
        "business" => "Các doanh nghiệp bạn đại diện hoặc được ủy quyền",
        "account" => "Xem hồ sơ tài khoản của bạn",
        "dossiers" => "Hồ sơ thủ tục hành chính của bạn",
        "vault" => "Kho dữ liệu điện tử của bạn: thông tin, giấy tờ, nhật ký truy cập và bản xuất",
        "offline_access" => "Truy cập khi bạn không trực tuyến",
        _ => return None,
    })
}
