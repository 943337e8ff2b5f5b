//! The consent page: its template, its texts in Vietnamese and English, and
//! what each scope means to the person asked.

use askama::Template;

#[derive(Template)]
#[template(path = "auth/consent.html")]
pub(super) struct ConsentPage<'a> {
    pub(super) t: &'static ConsentTexts,
    pub(super) csrf_token: &'a str,
    pub(super) consent_id: &'a str,
    pub(super) client_id: &'a str,
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
}

pub(super) const CONSENT_VI: ConsentTexts = ConsentTexts {
    lang: "vi",
    title: "Cấp quyền cho ứng dụng",
    app: "Ứng dụng",
    asks: "đề nghị truy cập các thông tin sau của bạn:",
    note: "Bạn có thể thu hồi quyền này bất cứ lúc nào trong mục “Ứng dụng đã kết nối”.",
    allow: "Đồng ý",
    deny: "Từ chối",
};

pub(super) const CONSENT_EN: ConsentTexts = ConsentTexts {
    lang: "en",
    title: "Allow access",
    app: "The application",
    asks: "asks to access the following information about you:",
    note: "You can withdraw this permission at any time under “Connected apps”.",
    allow: "Allow",
    deny: "Deny",
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
