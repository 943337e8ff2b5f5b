//! The one error type of the application and how it is shown.
//!
//! Rules of the house:
//! - Every failure a handler can return is an [`AppError`] with an explicit
//!   [`ErrorKind`] (which fixes the HTTP status) and a stable machine `code`
//!   (snake_case, never renamed once published).
//! - API clients get RFC 9457 `application/problem+json` with a Vietnamese
//!   `title` (per kind) and `detail` (per case), the `code`, and the request id.
//! - A 500 logs the whole cause chain with the request id and shows only the
//!   request id: never internals, SQL, or personal data.
//! - Storage errors are mapped here once: a missing row is a 404, a lost
//!   database or Redis connection is a 503, anything else is a 500.

use std::{borrow::Cow, fmt};

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use serde::Serialize;

/// The media type of problem details (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The broad class of an error; it decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: the request is malformed.
    BadRequest,
    /// 401: no or invalid credentials.
    Unauthorized,
    /// 403: authenticated but not allowed.
    Forbidden,
    /// 404: no such resource (also used for resources of others).
    NotFound,
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 409: conflicts with the current state.
    Conflict,
    /// 412: a precondition (If-Match) failed.
    PreconditionFailed,
    /// 413: the body is too large.
    PayloadTooLarge,
    /// 415: the content type is not accepted.
    UnsupportedMediaType,
    /// 422: well-formed but invalid values.
    Unprocessable,
    /// 429: too many attempts.
    TooManyRequests,
    /// 503: a dependency (database, Redis) is unavailable.
    Unavailable,
    /// 500: a bug or an unexpected failure.
    Internal,
}

impl ErrorKind {
    /// The HTTP status of this kind.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The kind for an HTTP status produced outside our handlers (by the framework).
    pub fn from_status(status: StatusCode) -> Self {
        match status.as_u16() {
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            409 => Self::Conflict,
            412 => Self::PreconditionFailed,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            422 => Self::Unprocessable,
            429 => Self::TooManyRequests,
            503 => Self::Unavailable,
            400..=499 => Self::BadRequest,
            _ => Self::Internal,
        }
    }

    /// The Vietnamese title shown to people.
    pub fn title(self) -> &'static str {
        match self {
            Self::BadRequest => "Yêu cầu không hợp lệ",
            Self::Unauthorized => "Cần đăng nhập",
            Self::Forbidden => "Không có quyền thực hiện",
            Self::NotFound => "Không tìm thấy",
            Self::MethodNotAllowed => "Phương thức không được hỗ trợ",
            Self::Conflict => "Xung đột với trạng thái hiện tại",
            Self::PreconditionFailed => "Dữ liệu đã bị thay đổi",
            Self::PayloadTooLarge => "Dữ liệu gửi lên quá lớn",
            Self::UnsupportedMediaType => "Kiểu nội dung không được hỗ trợ",
            Self::Unprocessable => "Dữ liệu không hợp lệ",
            Self::TooManyRequests => "Quá nhiều yêu cầu",
            Self::Unavailable => "Dịch vụ tạm thời gián đoạn",
            Self::Internal => "Lỗi hệ thống",
        }
    }

    /// The code used when nothing more specific is known.
    pub fn default_code(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict => "conflict",
            Self::PreconditionFailed => "precondition_failed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Unprocessable => "validation_failed",
            Self::TooManyRequests => "too_many_requests",
            Self::Unavailable => "service_unavailable",
            Self::Internal => "internal_error",
        }
    }

    /// The Vietnamese detail used when nothing more specific is known.
    fn default_detail(self) -> &'static str {
        match self {
            Self::BadRequest => "Yêu cầu không đúng định dạng.",
            Self::Unauthorized => "Vui lòng đăng nhập để tiếp tục.",
            Self::Forbidden => "Tài khoản không có quyền thực hiện thao tác này.",
            Self::NotFound => "Không tìm thấy tài nguyên được yêu cầu.",
            Self::MethodNotAllowed => "Đường dẫn này không hỗ trợ phương thức HTTP đã dùng.",
            Self::Conflict => "Thao tác xung đột với trạng thái hiện tại.",
            Self::PreconditionFailed => {
                "Dữ liệu đã được thay đổi kể từ lần đọc trước; vui lòng tải lại."
            }
            Self::PayloadTooLarge => "Dữ liệu gửi lên vượt quá giới hạn cho phép.",
            Self::UnsupportedMediaType => "Kiểu nội dung (Content-Type) không được chấp nhận.",
            Self::Unprocessable => "Một hoặc nhiều trường dữ liệu không hợp lệ.",
            Self::TooManyRequests => "Bạn đã thử quá nhiều lần; vui lòng thử lại sau.",
            Self::Unavailable => {
                "Hệ thống tạm thời không xử lý được yêu cầu; vui lòng thử lại sau."
            }
            Self::Internal => {
                "Đã xảy ra lỗi không mong muốn. Vui lòng thử lại hoặc liên hệ hỗ trợ kèm mã yêu cầu."
            }
        }
    }
}

/// One invalid field, with a Vietnamese message.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// The field name as the client sent it (JSON pointer-like, `a.b`).
    pub field: String,
    /// A stable machine code for the problem with this field.
    pub code: String,
    /// The Vietnamese message.
    pub message: String,
}

/// The application error (boxed: it travels in every `Result`).
pub struct AppError(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    code: Cow<'static, str>,
    detail: Option<String>,
    errors: Vec<FieldError>,
    extensions: serde_json::Map<String, serde_json::Value>,
    headers: Vec<(header::HeaderName, String)>,
    source: Option<anyhow::Error>,
    request_id: Option<String>,
}

/// Results of fallible application functions.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// An error of `kind` with a stable `code`.
    pub fn new(kind: ErrorKind, code: impl Into<Cow<'static, str>>) -> Self {
        Self(Box::new(Inner {
            kind,
            code: code.into(),
            detail: None,
            errors: Vec::new(),
            extensions: serde_json::Map::new(),
            headers: Vec::new(),
            source: None,
            // Captured now: the error may be rendered outside the request's scope.
            request_id: crate::telemetry::current_request_id(),
        }))
    }

    /// An error of `kind` with its default code.
    pub fn of_kind(kind: ErrorKind) -> Self {
        Self::new(kind, kind.default_code())
    }

    /// 400 with a specific code.
    pub fn bad_request(code: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::BadRequest, code)
    }

    /// 404 with a specific code.
    pub fn not_found(code: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::NotFound, code)
    }

    /// 409 with a specific code.
    pub fn conflict(code: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Conflict, code)
    }

    /// 503 with a specific code.
    pub fn unavailable(code: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unavailable, code)
    }

    /// 500 caused by `err`.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::of_kind(ErrorKind::Internal).with_source(err)
    }

    /// Adds the Vietnamese detail.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    /// Adds a field error.
    #[must_use]
    pub fn with_field(
        mut self,
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        self.0.errors.push(FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        });
        self
    }

    /// Adds a member to the problem document (e.g. `allowed` transitions).
    #[must_use]
    pub fn with_extension(mut self, name: &str, value: serde_json::Value) -> Self {
        self.0.extensions.insert(name.to_owned(), value);
        self
    }

    /// Adds a response header (e.g. `Retry-After`, `WWW-Authenticate`).
    #[must_use]
    pub fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.0.headers.push((name, value.into()));
        self
    }

    /// Records the cause (logged, never shown).
    #[must_use]
    pub fn with_source(mut self, err: impl Into<anyhow::Error>) -> Self {
        self.0.source = Some(err.into());
        self
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The stable machine code.
    pub fn code(&self) -> &str {
        &self.0.code
    }

    /// The detail shown to people.
    pub fn detail(&self) -> &str {
        self.0
            .detail
            .as_deref()
            .unwrap_or_else(|| self.0.kind.default_detail())
    }

    /// Extra response headers (`Retry-After`, `WWW-Authenticate`).
    pub fn headers(&self) -> &[(header::HeaderName, String)] {
        &self.0.headers
    }

    /// The field errors.
    pub fn field_errors(&self) -> &[FieldError] {
        &self.0.errors
    }

    /// The response, for callers outside the `ResponseError` machinery.
    pub fn into_response(self) -> HttpResponse {
        self.error_response()
    }

    /// The problem document for this error.
    pub fn problem(&self, request_id: Option<&str>) -> serde_json::Value {
        let mut doc = serde_json::Map::new();
        doc.insert("type".into(), format!("/problems/{}", self.0.code).into());
        doc.insert("title".into(), self.0.kind.title().into());
        doc.insert("status".into(), self.0.kind.status().as_u16().into());
        doc.insert("code".into(), self.0.code.as_ref().into());
        doc.insert("detail".into(), self.detail().into());
        if let Some(id) = request_id {
            doc.insert("request_id".into(), id.into());
        }
        if !self.0.errors.is_empty() {
            doc.insert(
                "errors".into(),
                serde_json::to_value(&self.0.errors).unwrap_or_default(),
            );
        }
        for (k, v) in &self.0.extensions {
            doc.entry(k.clone()).or_insert_with(|| v.clone());
        }
        serde_json::Value::Object(doc)
    }

    fn log(&self, request_id: Option<&str>) {
        let request_id = request_id.unwrap_or("-");
        if self.0.kind == ErrorKind::Internal {
            match &self.0.source {
                Some(source) => tracing::error!(
                    request_id, code = %self.0.code, error = format!("{source:#}"),
                    "request failed"
                ),
                None => tracing::error!(request_id, code = %self.0.code, "request failed"),
            }
        } else if self.0.kind == ErrorKind::Unavailable {
            let cause = self.0.source.as_ref().map(|s| format!("{s:#}"));
            tracing::warn!(request_id, code = %self.0.code, cause, "dependency unavailable");
        } else {
            tracing::debug!(request_id, code = %self.0.code, "request refused");
        }
    }
}

impl fmt::Debug for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("AppError");
        d.field("kind", &self.0.kind).field("code", &self.0.code);
        if let Some(source) = &self.0.source {
            d.field("source", &format_args!("{source:#}"));
        }
        d.finish()
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.0.code, self.0.kind.status().as_u16())?;
        if let Some(source) = &self.0.source {
            write!(f, ": {source:#}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source.as_ref().map(|e| e.as_ref() as _)
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.0.kind.status()
    }

    fn error_response(&self) -> HttpResponse {
        let request_id = self
            .0
            .request_id
            .clone()
            .or_else(crate::telemetry::current_request_id);
        self.log(request_id.as_deref());
        let mut builder = HttpResponse::build(self.0.kind.status());
        builder
            .content_type(PROBLEM_JSON)
            .insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(id) = &request_id {
            builder.insert_header((crate::telemetry::REQUEST_ID_HEADER, id.clone()));
        }
        for (name, value) in &self.0.headers {
            builder.insert_header((name.clone(), value.clone()));
        }
        builder.body(self.problem(request_id.as_deref()).to_string())
    }
}

/// Collects the field errors of a form into one 422 problem.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<(Cow<'static, str>, crate::domain::Invalid)>);

impl FieldErrors {
    /// Keeps the value or records the error under `field`.
    pub fn take<T>(
        &mut self,
        field: impl Into<Cow<'static, str>>,
        result: Result<T, crate::domain::Invalid>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push((field.into(), e));
                None
            }
        }
    }

    /// Records an error under `field` (a name, or a path such as `form_values.phone`).
    pub fn push(&mut self, field: impl Into<Cow<'static, str>>, invalid: crate::domain::Invalid) {
        self.0.push((field.into(), invalid));
    }

    /// Whether a field already failed.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|(f, _)| f == field)
    }

    /// The 422 problem of errors already collected (a list that may not be empty).
    pub fn problem<F: Into<Cow<'static, str>>>(
        errors: impl IntoIterator<Item = (F, crate::domain::Invalid)>,
    ) -> AppError {
        let mut all = Self::default();
        for (field, invalid) in errors {
            all.push(field, invalid);
        }
        all.into_result()
            .err()
            .unwrap_or_else(|| AppError::of_kind(ErrorKind::Unprocessable))
    }

    /// The 422 problem, if any field failed.
    pub fn into_result(self) -> AppResult<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let detail = if self.0.len() == 1 {
            self.0[0].1.message.to_string()
        } else {
            format!("{} trường dữ liệu không hợp lệ.", self.0.len())
        };
        Err(self.0.into_iter().fold(
            AppError::new(ErrorKind::Unprocessable, "validation_failed").with_detail(detail),
            |err, (field, invalid)| err.with_field(field, invalid.code, invalid.message),
        ))
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match &err {
            E::NotFound => Self::of_kind(ErrorKind::NotFound).with_source(err),
            E::DatabaseError(K::ClosedConnection, _) | E::BrokenTransactionManager => {
                Self::unavailable("database_unavailable").with_source(err)
            }
            E::DatabaseError(K::SerializationFailure, _) => Self::conflict("concurrent_update")
                .with_detail("Dữ liệu vừa được người khác cập nhật; vui lòng thử lại.")
                .with_source(err),
            _ => Self::internal(err),
        }
    }
}

impl From<crate::storage::PoolError> for AppError {
    fn from(err: crate::storage::PoolError) -> Self {
        Self::unavailable("database_unavailable").with_source(anyhow::anyhow!("{err}"))
    }
}

impl From<redis::RedisError> for AppError {
    fn from(err: redis::RedisError) -> Self {
        if err.is_io_error()
            || err.is_timeout()
            || err.is_connection_dropped()
            || err.is_connection_refusal()
        {
            Self::unavailable("redis_unavailable").with_source(err)
        } else {
            Self::internal(err)
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(err: askama::Error) -> Self {
        Self::internal(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_document_has_the_rfc_9457_members() {
        let err = AppError::new(ErrorKind::Unprocessable, "validation_failed")
            .with_detail("Số định danh không hợp lệ.")
            .with_field("national_id", "invalid_checksum", "Sai mã tỉnh.")
            .with_extension("allowed", serde_json::json!(["submit"]));
        let doc = err.problem(Some("req-1"));
        assert_eq!(doc["status"], 422);
        assert_eq!(doc["title"], "Dữ liệu không hợp lệ");
        assert_eq!(doc["code"], "validation_failed");
        assert_eq!(doc["type"], "/problems/validation_failed");
        assert_eq!(doc["request_id"], "req-1");
        assert_eq!(doc["errors"][0]["field"], "national_id");
        assert_eq!(doc["allowed"][0], "submit");
    }

    #[test]
    fn extensions_cannot_overwrite_standard_members() {
        let err = AppError::bad_request("x").with_extension("status", 200.into());
        assert_eq!(err.problem(None)["status"], 400);
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = AppError::internal(anyhow::anyhow!("password=secret in SQL"));
        let doc = err.problem(None).to_string();
        assert!(!doc.contains("secret"));
        assert_eq!(err.kind().status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn missing_rows_are_404_and_lost_connections_503() {
        assert_eq!(
            AppError::from(diesel::result::Error::NotFound).kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            AppError::from(diesel::result::Error::BrokenTransactionManager).kind(),
            ErrorKind::Unavailable
        );
    }

    #[test]
    fn every_kind_round_trips_through_its_status() {
        for kind in [
            ErrorKind::Unauthorized,
            ErrorKind::Forbidden,
            ErrorKind::NotFound,
            ErrorKind::MethodNotAllowed,
            ErrorKind::Conflict,
            ErrorKind::PreconditionFailed,
            ErrorKind::PayloadTooLarge,
            ErrorKind::UnsupportedMediaType,
            ErrorKind::Unprocessable,
            ErrorKind::TooManyRequests,
            ErrorKind::Unavailable,
            ErrorKind::Internal,
        ] {
            assert_eq!(ErrorKind::from_status(kind.status()), kind);
        }
    }
}
