//! Extractor configuration: malformed JSON, a wrong content type, an
//! oversized body, a bad path or query become specific problem+json answers.

use actix_web::{
    HttpRequest, ResponseError,
    error::{InternalError, JsonPayloadError, PathError, QueryPayloadError},
    web,
};

use crate::error::AppError;
use crate::error::Code;

/// Largest JSON body accepted by the API (files have their own endpoints and limits).
pub const JSON_LIMIT: usize = 256 * 1024;

/// JSON bodies: size limit, `application/json` required, Vietnamese errors.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(JSON_LIMIT)
        .error_handler(|err, _req: &HttpRequest| {
            let problem = json_error(&err);
            InternalError::from_response(err, problem.error_response()).into()
        })
}

/// Path parameters that do not parse.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req| {
        let problem = AppError::from(Code::InvalidPathParameter);
        InternalError::from_response(err, problem.error_response()).into()
    })
}

/// Query strings that do not parse.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        let problem = AppError::from(Code::InvalidQuery);
        InternalError::from_response(err, problem.error_response()).into()
    })
}

/// The problem for a JSON body that could not be read.
pub fn json_error(err: &JsonPayloadError) -> AppError {
    match err {
        JsonPayloadError::ContentType => AppError::from(Code::UnsupportedMediaType),
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            AppError::from(Code::PayloadTooLarge).with_detail(format!(
                "Nội dung JSON vượt quá giới hạn {} KiB.",
                limit / 1024
            ))
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => data_error(e),
        JsonPayloadError::Deserialize(e) => {
            AppError::from(Code::MalformedJson).with_detail(format!(
                "Nội dung JSON không đúng cú pháp (dòng {}, cột {}).",
                e.line(),
                e.column()
            ))
        }
        _ => AppError::from(Code::UnreadableBody),
    }
}

/// A well-formed document with the wrong shape: name the field when serde does.
fn data_error(e: &serde_json::Error) -> AppError {
    let text = e.to_string();
    let quoted = |prefix: &str| {
        text.strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let base = AppError::from(Code::InvalidJsonFields);
    if let Some(field) = quoted("missing field `") {
        base.with_detail(format!("Thiếu trường bắt buộc “{field}”."))
            .with_field(field, "required", "Trường này là bắt buộc.")
    } else if let Some(field) = quoted("unknown field `") {
        base.with_detail(format!("Trường “{field}” không được hỗ trợ."))
            .with_field(field, "unknown", "Trường này không được hỗ trợ.")
    } else if text.starts_with("invalid type") || text.starts_with("invalid value") {
        base.with_detail(format!(
            "Giá trị sai kiểu dữ liệu (dòng {}, cột {}).",
            e.line(),
            e.column()
        ))
    } else {
        base.with_detail("Dữ liệu JSON không đúng cấu trúc yêu cầu.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        count: u32,
    }

    fn problem_for(raw: &str) -> AppError {
        let err = serde_json::from_str::<Body>(raw).expect_err("must fail");
        json_error(&JsonPayloadError::Deserialize(err))
    }

    #[test]
    fn syntax_errors_are_400_with_position() {
        let p = problem_for("{\"email\": ");
        assert_eq!(p.kind(), ErrorKind::BadRequest);
        assert_eq!(p.code(), crate::error::Code::MalformedJson);
        assert!(p.detail().contains("dòng 1"));
    }

    #[test]
    fn missing_and_unknown_fields_are_named() {
        let p = problem_for(r#"{"count": 1}"#);
        assert_eq!(p.kind(), ErrorKind::Unprocessable);
        assert_eq!(p.field_errors()[0].field, "email");
        let p = problem_for(r#"{"email": "a", "count": 1, "extra": 2}"#);
        assert_eq!(p.field_errors()[0].field, "extra");
        let p = problem_for(r#"{"email": "a", "count": "many"}"#);
        assert!(p.detail().contains("sai kiểu"));
    }

    #[test]
    fn size_and_type_errors_have_their_statuses() {
        assert_eq!(
            json_error(&JsonPayloadError::Overflow { limit: 1024 }).kind(),
            ErrorKind::PayloadTooLarge
        );
        assert_eq!(
            json_error(&JsonPayloadError::ContentType).kind(),
            ErrorKind::UnsupportedMediaType
        );
    }
}
