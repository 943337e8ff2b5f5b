//! The sign-in page's texts: Vietnamese, or English when a client asks
//! for it with `ui_locales`.

/// The sign-in page's texts in one language (Vietnamese, or English when a
/// client asked for it with `ui_locales`).
pub struct LoginTexts {
    pub(super) lang: &'static str,
    pub(super) title: &'static str,
    pub(super) username: &'static str,
    pub(super) password: &'static str,
    pub(super) submit: &'static str,
    pub(super) or: &'static str,
    pub(super) vneid: &'static str,
    pub(super) passkey: &'static str,
    pub(super) no_account: &'static str,
    pub(super) empty: &'static str,
}

const LOGIN_VI: LoginTexts = LoginTexts {
    lang: "vi",
    title: "Đăng nhập",
    username: "Số định danh cá nhân hoặc email",
    password: "Mật khẩu",
    submit: "Đăng nhập",
    or: "hoặc",
    vneid: "Đăng nhập bằng tài khoản định danh điện tử VNeID",
    passkey: "Đăng nhập bằng passkey (không cần mật khẩu)",
    no_account: "Chưa có tài khoản? Đăng ký trên ứng dụng Dịch vụ công hoặc đăng nhập bằng VNeID.",
    empty: "Vui lòng nhập số định danh cá nhân hoặc email và mật khẩu.",
};

const LOGIN_EN: LoginTexts = LoginTexts {
    lang: "en",
    title: "Sign in",
    username: "Personal identification number or email",
    password: "Password",
    submit: "Sign in",
    or: "or",
    vneid: "Sign in with your VNeID electronic identity",
    passkey: "Sign in with a passkey (no password)",
    no_account: "No account yet? Register in the Public Services app or sign in with VNeID.",
    empty: "Please enter your personal identification number or email and your password.",
};

pub(super) fn login_texts(lang: Option<&str>) -> &'static LoginTexts {
    if lang == Some("en") {
        &LOGIN_EN
    } else {
        &LOGIN_VI
    }
}
