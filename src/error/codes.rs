//! Every error code the application answers with: a closed set. A code is
//! one variant with its kind (which fixes the HTTP status), its stable name
//! (snake_case, never renamed once published) and, where every use says the
//! same, its Vietnamese detail. A site adds `.with_detail(…)` only when it
//! knows more than the code does (a value, a date, a limit).

use super::ErrorKind;

macro_rules! codes {
    ($( $variant:ident = ($kind:ident, $name:literal, $detail:expr) ),+ $(,)?) => {
        /// An error code (see the module docs).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )+
        }

        impl Code {
            /// Every code.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The published name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $name ),+
                }
            }

            /// The kind, which fixes the HTTP status.
            pub fn kind(self) -> ErrorKind {
                match self {
                    $( Self::$variant => ErrorKind::$kind ),+
                }
            }

            /// The Vietnamese detail every use of the code shares, if any.
            pub fn detail(self) -> Option<&'static str> {
                match self {
                    $( Self::$variant => $detail ),+
                }
            }
        }
    };
}

impl Code {
    /// The code of a kind when nothing more specific is known.
    pub fn generic(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::BadRequest => Self::BadRequest,
            ErrorKind::Unauthorized => Self::Unauthorized,
            ErrorKind::Forbidden => Self::Forbidden,
            ErrorKind::NotFound => Self::NotFound,
            ErrorKind::MethodNotAllowed => Self::MethodNotAllowed,
            ErrorKind::Conflict => Self::Conflict,
            ErrorKind::PreconditionFailed => Self::PreconditionFailed,
            ErrorKind::PayloadTooLarge => Self::PayloadTooLarge,
            ErrorKind::UnsupportedMediaType => Self::UnsupportedMediaType,
            ErrorKind::Unprocessable => Self::ValidationFailed,
            ErrorKind::TooManyRequests => Self::TooManyRequests,
            ErrorKind::Unavailable => Self::ServiceUnavailable,
            ErrorKind::Internal => Self::InternalError,
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

codes! {
    AccountChanged = (Conflict, "account_changed", Some("Tài khoản của số định danh này vừa thay đổi. Vui lòng tra cứu và kiểm tra lại với công dân.")),
    AccountDisabled = (Forbidden, "account_disabled", Some("Tài khoản đã bị khóa. Vui lòng liên hệ bộ phận hỗ trợ.")),
    AccountNotFound = (NotFound, "account_not_found", Some("Công dân này chưa có tài khoản Dịch vụ công.")),
    AccountNotShown = (BadRequest, "account_not_shown", Some("Vui lòng tra cứu tài khoản và kiểm tra với công dân trước khi xác nhận.")),
    AgencyNotAllowed = (Forbidden, "agency_not_allowed", Some("Bạn chỉ xem được báo cáo của đơn vị mình.")),
    AgencyNotFound = (NotFound, "agency_not_found", None),
    AlreadyEnrolled = (Conflict, "already_enrolled", Some("Tài khoản đã thiết lập xác thực hai lớp. Vui lòng đăng nhập lại.")),
    ApologyAlreadyApproved = (Conflict, "apology_already_approved", Some("Thư xin lỗi này đã được phê duyệt.")),
    ApologyNotFound = (NotFound, "apology_not_found", Some("Không tìm thấy thư xin lỗi.")),
    AssuranceLevelTooLow = (Forbidden, "assurance_level_too_low", Some("Cần tài khoản định danh mức độ 2 (đăng nhập bằng VNeID hoặc xác thực tại quầy) để thực hiện thao tác này.")),
    AuthorizationNotFound = (NotFound, "authorization_not_found", Some("Không tìm thấy ủy quyền đang có hiệu lực.")),
    BadRequest = (BadRequest, "bad_request", None),
    BusinessNotFound = (NotFound, "business_not_found", Some("Không tìm thấy doanh nghiệp.")),
    ChangeInvalid = (BadRequest, "change_invalid", Some("Thao tác không hợp lệ.")),
    ClientIdTaken = (Conflict, "client_id_taken", Some("client_id này đã được đăng ký.")),
    ClientNotFound = (NotFound, "client_not_found", Some("Không có client với client_id này.")),
    CodeInvalid = (Unauthorized, "code_invalid", Some("Mã xác thực không đúng hoặc đã hết hạn. Vui lòng kiểm tra email hoặc gửi mã mới.")),
    ConcurrentUpdate = (Conflict, "concurrent_update", Some("Dữ liệu vừa được người khác cập nhật; vui lòng thử lại.")),
    ConfirmationRequired = (Unprocessable, "confirmation_required", Some("Vui lòng đánh dấu xác nhận trước khi thực hiện.")),
    Conflict = (Conflict, "conflict", None),
    ConnectedAppNotFound = (NotFound, "connected_app_not_found", Some("Không có ứng dụng kết nối này.")),
    ConsentExpired = (BadRequest, "consent_expired", Some("Yêu cầu cấp quyền đã hết hạn. Vui lòng quay lại ứng dụng và thử lại.")),
    CsrfFailed = (Forbidden, "csrf_failed", Some("Phiên làm việc của biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang và thử lại.")),
    DatabaseUnavailable = (Unavailable, "database_unavailable", None),
    DayAlreadySet = (Conflict, "day_already_set", Some("Đơn vị đã đặt ngày này; hãy bỏ ngày cũ trước.")),
    DayInPast = (Conflict, "day_in_past", Some("Không bỏ được ngày đã qua hoặc ngày hôm nay.")),
    DayNotFound = (NotFound, "day_not_found", Some("Đơn vị không đặt riêng ngày này.")),
    DelegateIsRepresentative = (Unprocessable, "delegate_is_representative", Some("Người đại diện không cần tự ủy quyền cho mình.")),
    DelegateNotFound = (Unprocessable, "delegate_not_found", Some("Người được ủy quyền cần có tài khoản Dịch vụ công đã kích hoạt.")),
    DocumentNotFound = (NotFound, "document_not_found", Some("Không tìm thấy tài liệu.")),
    DossierFilesTooLarge = (PayloadTooLarge, "dossier_files_too_large", Some("Tổng dung lượng tệp của một hồ sơ tối đa 50 MB.")),
    DossierNotFound = (NotFound, "dossier_not_found", Some("Không tìm thấy hồ sơ.")),
    EmailNotVerified = (Forbidden, "email_not_verified", Some("Tài khoản chưa được kích hoạt: vui lòng mở liên kết xác minh đã gửi tới email của bạn.")),
    EmailUnavailable = (Conflict, "email_unavailable", Some("Địa chỉ email này không thể dùng cho tài khoản; vui lòng đăng ký bằng địa chỉ khác.")),
    EnrolmentExpired = (BadRequest, "enrolment_expired", Some("Phiên thiết lập xác thực hai lớp đã hết hạn. Vui lòng đăng nhập lại.")),
    EnrolmentRequired = (Forbidden, "enrolment_required", Some("Cần thiết lập xác thực hai lớp tại /backoffice/login trước.")),
    FileContentInvalid = (Unprocessable, "file_content_invalid", None),
    FileIntegrityFailed = (Conflict, "file_integrity_failed", Some("Tệp lưu trữ không còn nguyên vẹn; bộ phận kỹ thuật đã được báo.")),
    FileNotFound = (NotFound, "file_not_found", Some("Không tìm thấy tệp.")),
    FileStoreUnavailable = (Unavailable, "file_store_unavailable", None),
    FileTooLarge = (PayloadTooLarge, "file_too_large", Some("Mỗi tệp tối đa 10 MB.")),
    FileTypeRefused = (UnsupportedMediaType, "file_type_refused", None),
    Forbidden = (Forbidden, "forbidden", None),
    IdempotencyKeyReused = (Unprocessable, "idempotency_key_reused", Some("Idempotency-Key này đã dùng cho một yêu cầu khác.")),
    IdempotencyRace = (Conflict, "idempotency_race", None),
    InsufficientScope = (Forbidden, "insufficient_scope", None),
    InternalError = (Internal, "internal_error", None),
    InvalidChoice = (BadRequest, "invalid_choice", Some("Lựa chọn không hợp lệ.")),
    InvalidClient = (BadRequest, "invalid_client", Some("Ứng dụng không còn được đăng ký.")),
    InvalidCode = (BadRequest, "invalid_code", Some("Mã xác minh không đúng, đã hết hạn hoặc đã bị hủy. Vui lòng yêu cầu mã mới.")),
    InvalidCredentials = (Unauthorized, "invalid_credentials", Some("Tên đăng nhập hoặc mật khẩu không đúng.")),
    InvalidCursor = (BadRequest, "invalid_cursor", Some("Vị trí trang không hợp lệ.")),
    InvalidDate = (BadRequest, "invalid_date", None),
    InvalidDecision = (BadRequest, "invalid_decision", Some("Lựa chọn không hợp lệ.")),
    PaymentPlatformUnavailable = (Unavailable, "payment_platform_unavailable", Some("Nền tảng thanh toán tạm thời không trả lời; vui lòng thử lại sau ít phút.")),
    InvalidDpopProof = (Unauthorized, "invalid_dpop_proof", Some("Bằng chứng DPoP không hợp lệ.")),
    InvalidFilter = (BadRequest, "invalid_filter", None),
    InvalidIdempotencyKey = (BadRequest, "invalid_idempotency_key", Some("Idempotency-Key: 1–200 ký tự, không có ký tự điều khiển.")),
    InvalidIfMatch = (BadRequest, "invalid_if_match", Some("If-Match phải là phiên bản (ETag) của hồ sơ.")),
    InvalidJsonFields = (Unprocessable, "invalid_json_fields", None),
    InvalidLogoutRequest = (BadRequest, "invalid_logout_request", None),
    InvalidMode = (BadRequest, "invalid_mode", Some("Chế độ phải là “signin” hoặc “second_step”.")),
    InvalidPage = (BadRequest, "invalid_page", Some("limit từ 1 đến 100.")),
    InvalidPathParameter = (NotFound, "invalid_path_parameter", Some("Tham số trên đường dẫn không hợp lệ.")),
    InvalidQuery = (BadRequest, "invalid_query", Some("Tham số truy vấn không hợp lệ.")),
    InvalidRedirectUriPage = (BadRequest, "invalid_redirect_uri", None),
    InvalidRequestUriPage = (BadRequest, "invalid_request_uri", None),
    InvalidServiceLevel = (BadRequest, "invalid_service_level", Some("Mức độ dịch vụ: full (toàn trình) hoặc partial (một phần).")),
    InvalidStatus = (BadRequest, "invalid_status", Some("Trạng thái không thuộc hàng đợi của vai trò bạn.")),
    InvalidAccessToken = (Unauthorized, "invalid_token", Some("Mã truy cập không hợp lệ hoặc đã hết hạn.")),
    InvalidLink = (BadRequest, "invalid_token", Some("Liên kết không hợp lệ, đã được sử dụng hoặc đã hết hạn.")),
    InvalidVersion = (BadRequest, "invalid_version", Some("Trang đã cũ; vui lòng tải lại.")),
    InvalidYear = (BadRequest, "invalid_year", Some("Năm không hợp lệ.")),
    LastPasskey = (Conflict, "last_passkey", Some("Đơn vị yêu cầu đăng nhập bằng passkey: hãy thêm passkey khác trước khi gỡ passkey cuối cùng.")),
    LogoutExpired = (BadRequest, "logout_expired", Some("Yêu cầu đăng xuất đã hết hạn. Vui lòng thử lại từ ứng dụng.")),
    MalformedJson = (BadRequest, "malformed_json", None),
    MethodNotAllowed = (MethodNotAllowed, "method_not_allowed", None),
    MetricsTokenInvalid = (Unauthorized, "metrics_token_invalid", Some("Cần mã truy cập hợp lệ để đọc số liệu vận hành.")),
    NationalIdRequired = (BadRequest, "national_id_required", Some("Cần số định danh cá nhân của người nộp hồ sơ.")),
    NoPasskey = (Conflict, "no_passkey", Some("Tài khoản chưa có passkey nào.")),
    NoPerson = (Forbidden, "no_person", Some("Mã truy cập này không đại diện cho công dân nào.")),
    NoResultDocument = (Conflict, "no_result_document", Some("Thủ tục này không cấp văn bản kết quả.")),
    NoSigningKey = (Unavailable, "no_signing_key", Some("Hệ thống chưa có khóa ký; quản trị viên cần chạy eservices admin keys rotate.")),
    NoVerifiedEmail = (Conflict, "no_verified_email", Some("Tài khoản chưa có email đã xác minh để nhận mã. Vui lòng dùng passkey, VNeID hoặc đến bộ phận một cửa.")),
    NotAuthorizedForBusiness = (Forbidden, "not_authorized_for_business", Some("Bạn không được quyền thực hiện thay cho doanh nghiệp này.")),
    NotEditable = (Conflict, "not_editable", Some("Chỉ đính kèm tệp vào hồ sơ đang soạn hoặc đang được yêu cầu bổ sung.")),
    NotFound = (NotFound, "not_found", None),
    NotProcessing = (Conflict, "not_processing", Some("Chỉ tải lên văn bản kết quả khi hồ sơ đang được giải quyết.")),
    NothingToPay = (Conflict, "nothing_to_pay", Some("Hồ sơ không có khoản phí, lệ phí nào đang chờ nộp trực tuyến.")),
    NotSignedIn = (Unauthorized, "not_signed_in", Some("Vui lòng đăng nhập để tiếp tục.")),
    OfferedInvalid = (BadRequest, "offered_invalid", Some("Yêu cầu không hợp lệ.")),
    OwnAccount = (Conflict, "own_account", Some("Bạn không thể tự khóa, tự bỏ quyền quản trị hay tự đặt lại xác thực hai lớp của mình; hãy nhờ một quản trị khác của đơn vị.")),
    OwnPasskeyRequired = (Conflict, "own_passkey_required", Some("Hãy đăng ký passkey cho chính bạn (mục Passkey của tôi) trước khi yêu cầu cán bộ của đơn vị dùng passkey.")),
    PasskeyAlreadyRegistered = (Conflict, "passkey_already_registered", Some("Passkey này đã được đăng ký trước đó.")),
    PasskeyChallengeExpired = (BadRequest, "passkey_challenge_expired", Some("Yêu cầu xác thực bằng passkey đã hết hạn hoặc không hợp lệ. Vui lòng thử lại.")),
    PasskeyInvalid = (Unprocessable, "passkey_invalid", Some("Passkey không hợp lệ hoặc thiết bị dùng thuật toán không được hỗ trợ. Vui lòng thử lại với thiết bị khác.")),
    PasskeyRefused = (Unauthorized, "passkey_invalid", Some("Không xác thực được bằng passkey này. Vui lòng thử lại hoặc đăng nhập bằng mật khẩu.")),
    PasskeyLimit = (Conflict, "passkey_limit", Some("Tài khoản đã có số passkey tối đa.")),
    PasskeyNameInvalid = (Unprocessable, "passkey_name_invalid", Some("Tên passkey phải có từ 1 đến 64 ký tự.")),
    PasskeyNotFound = (NotFound, "passkey_not_found", Some("Không tìm thấy passkey.")),
    PasskeyRequired = (Forbidden, "passkey_required", Some("Đơn vị của bạn yêu cầu cán bộ đăng nhập bằng passkey. Hãy đăng ký passkey tại /backoffice/passkeys trước.")),
    PasskeySignInRequired = (Forbidden, "passkey_sign_in_required", Some("Đơn vị của bạn yêu cầu đăng nhập bằng passkey: mã xác thực không còn được dùng cho tài khoản đã có passkey. Hãy để trống ô mã xác thực và xác thực bằng passkey.")),
    PasskeysUnavailable = (NotFound, "passkeys_unavailable", Some("Máy chủ này chưa bật đăng nhập bằng passkey.")),
    PayloadTooLarge = (PayloadTooLarge, "payload_too_large", None),
    PolicyInvalid = (BadRequest, "policy_invalid", Some("Lựa chọn không hợp lệ.")),
    PreconditionFailed = (PreconditionFailed, "precondition_failed", None),
    QueryTooLong = (BadRequest, "query_too_long", Some("Từ khóa tìm kiếm tối đa 200 ký tự.")),
    ReauthenticationRequired = (Forbidden, "reauthentication_required", Some("Vì an toàn, vui lòng nhập mật khẩu hiện tại hoặc đăng nhập lại để thay đổi email hoặc số điện thoại.")),
    RecentSignInRequired = (Unauthorized, "recent_sign_in_required", Some("Vì an toàn, thêm hoặc gỡ passkey cần đăng nhập trong 10 phút gần nhất. Vui lòng đăng xuất và đăng nhập lại.")),
    RecordNotDeletable = (Conflict, "record_not_deletable", Some("Dữ liệu này do cơ quan nhà nước xác thực hoặc thuộc tài khoản; không xóa được.")),
    RecordNotFound = (NotFound, "record_not_found", Some("Không tìm thấy dữ liệu này.")),
    RedisUnavailable = (Unavailable, "redis_unavailable", None),
    RegistrationAlreadyDecided = (Conflict, "registration_already_decided", Some("Đăng ký doanh nghiệp này đã được xử lý.")),
    RegistrationNotFound = (NotFound, "registration_not_found", Some("Không tìm thấy đăng ký doanh nghiệp đang chờ xác nhận tại đơn vị của bạn.")),
    ResultMissing = (Conflict, "result_missing", None),
    RoleNotAllowed = (Forbidden, "role_not_allowed", None),
    RoleRequired = (Forbidden, "role_required", None),
    RouteNotFound = (NotFound, "route_not_found", Some("Đường dẫn không tồn tại.")),
    ServiceNotAssigned = (NotFound, "service_not_assigned", Some("Danh mục không giao thủ tục này cho đơn vị của bạn.")),
    ServiceNotFound = (NotFound, "service_not_found", Some("Không có thủ tục hành chính với mã này.")),
    ServiceNotOffered = (Conflict, "service_not_offered", Some("Cơ quan đang tạm ngừng tiếp nhận hồ sơ mới của thủ tục này. Hồ sơ vẫn được lưu ở dạng nháp.")),
    ServiceUnavailable = (Unavailable, "service_unavailable", None),
    SessionNotFound = (NotFound, "session_not_found", Some("Không tìm thấy phiên đăng nhập.")),
    SignInExpired = (BadRequest, "sign_in_expired", Some("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.")),
    SignInLocked = (TooManyRequests, "sign_in_locked", None),
    StaffNotFound = (NotFound, "staff_not_found", Some("Không tìm thấy cán bộ này trong đơn vị của bạn.")),
    StaffSessionRequired = (Unauthorized, "staff_session_required", Some("Phiên đăng nhập của cán bộ đã hết. Vui lòng đăng nhập lại.")),
    StaffTokenRequired = (Unauthorized, "staff_token_required", Some("Cần mã truy cập của cán bộ (Bearer).")),
    StaleVersion = (PreconditionFailed, "stale_version", Some("Hồ sơ đã được thay đổi từ khi bạn mở nó. Vui lòng tải lại và thử lại.")),
    StepUpRequired = (Unauthorized, "step_up_required", Some("Thao tác này cần xác thực mạnh trong 10 phút gần nhất: passkey, VNeID, hoặc mật khẩu kèm mã xác thực gửi qua email.")),
    TaxCodeTaken = (Conflict, "tax_code_taken", Some("Mã số thuế này đã được đăng ký (đang chờ xác nhận hoặc đã xác nhận). Nếu bạn là người đại diện theo pháp luật, vui lòng mang Giấy chứng nhận đăng ký doanh nghiệp và căn cước đến bộ phận một cửa.")),
    TooManyFiles = (PayloadTooLarge, "too_many_files", Some("Mỗi hồ sơ tối đa 30 tệp.")),
    TooManyRequests = (TooManyRequests, "too_many_requests", None),
    TransitionNotAllowed = (Conflict, "transition_not_allowed", Some("Chỉ chuyển được hồ sơ đã tiếp nhận hoặc đang xử lý.")),
    Unauthorized = (Unauthorized, "unauthorized", None),
    UnknownAction = (NotFound, "unknown_action", Some("Không có thao tác này trên hồ sơ.")),
    UnknownActionRequested = (BadRequest, "unknown_action", Some("Không có thao tác này trên hồ sơ.")),
    UnreadableBody = (BadRequest, "unreadable_body", Some("Không đọc được nội dung yêu cầu.")),
    UnsupportedMediaType = (UnsupportedMediaType, "unsupported_media_type", Some("Yêu cầu phải có Content-Type: application/json.")),
    UseDpopNonce = (Unauthorized, "use_dpop_nonce", Some("Bằng chứng DPoP cần nonce do máy chủ cấp.")),
    UsernameTaken = (Conflict, "username_taken", Some("Tên đăng nhập này đã được dùng.")),
    ValidationFailed = (Unprocessable, "validation_failed", None),
    VaultIntegrityFailed = (Conflict, "vault_integrity_failed", Some("Dữ liệu lưu trữ không còn nguyên vẹn; bộ phận kỹ thuật đã được báo.")),
    VneidError = (Unauthorized, "vneid_error", None),
    VneidIdentityConflict = (Conflict, "vneid_identity_conflict", Some("Tài khoản VNeID này đã liên kết với một tài khoản khác. Vui lòng liên hệ bộ phận hỗ trợ.")),
    VneidInconsistentClaims = (BadRequest, "vneid_inconsistent_claims", None),
    VneidInvalidIdToken = (BadRequest, "vneid_invalid_id_token", None),
    VneidInvalidState = (BadRequest, "vneid_invalid_state", Some("Phiên đăng nhập VNeID không hợp lệ hoặc đã hết hạn. Vui lòng đăng nhập lại.")),
    VneidMissingClaim = (BadRequest, "vneid_missing_claim", None),
    VneidMissingCode = (BadRequest, "vneid_missing_code", Some("Thiếu mã xác thực từ VNeID.")),
    VneidNoIdToken = (BadRequest, "vneid_no_id_token", None),
    VneidNotConfigured = (NotFound, "vneid_not_configured", Some("Đăng nhập bằng VNeID chưa được cấu hình trên hệ thống này.")),
    VneidTokenExchangeFailed = (BadRequest, "vneid_token_exchange_failed", None),
    VneidUnavailable = (Unavailable, "vneid_unavailable", Some("Không kết nối được với hệ thống định danh điện tử VNeID; vui lòng thử lại sau.")),
    X = (BadRequest, "x", None),
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::{Code, ErrorKind};

    #[test]
    fn names_are_unique_snake_case_and_details_are_sentences() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let name = code.as_str();
            assert!(
                seen.insert((name, code.kind().status())),
                "{name} twice with one status"
            );
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name} is not snake_case"
            );
            if let Some(detail) = code.detail() {
                assert!(
                    !detail.is_empty() && !detail.ends_with(' '),
                    "{name}: {detail:?}"
                );
            }
        }
    }

    #[test]
    fn every_kind_has_its_generic_code() {
        for kind in [
            ErrorKind::BadRequest,
            ErrorKind::NotFound,
            ErrorKind::Unprocessable,
            ErrorKind::Unavailable,
            ErrorKind::Internal,
        ] {
            assert_eq!(Code::generic(kind).kind(), kind);
        }
    }
}
