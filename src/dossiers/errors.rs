//! The dossier errors, one constructor each: the same code always comes
//! with the same Vietnamese text.

use crate::error::Code;
use crate::{
    domain::dossier::{Action, Refusal},
    error::{AppError, AppResult},
    storage::dossiers::DossierRow,
};

/// 404 `dossier_not_found`: no such dossier, or not the caller's (someone
/// else's dossier is "not found", never "forbidden").
pub fn not_found() -> AppError {
    AppError::from(Code::DossierNotFound)
}

/// 404 `dossier_not_found` of the public look-up: the same answer for an
/// unknown receipt code and for a wrong ID number.
pub fn lookup_miss() -> AppError {
    AppError::from(Code::DossierNotFound)
        .with_detail("Không tìm thấy hồ sơ với mã hồ sơ và số định danh này.")
}

/// 404 `file_not_found`: no such file on this dossier.
pub fn file_not_found() -> AppError {
    AppError::from(Code::FileNotFound)
}

/// 404 `document_not_found`: no such document used by or issued for this dossier.
pub fn document_not_found() -> AppError {
    AppError::from(Code::DocumentNotFound)
}

/// 404 `apology_not_found`: no such apology letter in the agency.
pub fn apology_not_found() -> AppError {
    AppError::from(Code::ApologyNotFound)
}

/// 400 `invalid_page`: a page size outside 1–100.
pub fn invalid_page() -> AppError {
    AppError::from(Code::InvalidPage)
}

/// Form errors as the one 422 problem, each under `form_values.<field>`.
pub(super) fn form_errors(errors: Vec<(String, crate::domain::Invalid)>) -> AppError {
    crate::error::FieldErrors::problem(
        errors
            .into_iter()
            .map(|(field, invalid)| (format!("form_values.{field}"), invalid)),
    )
}

pub(super) fn refused(refusal: Refusal, action: Action) -> AppError {
    match refusal {
        Refusal::WrongStatus(allowed) => {
            let names: Vec<&str> = allowed.iter().map(|a| a.as_str()).collect();
            AppError::from(Code::TransitionNotAllowed).with_detail(if names.is_empty() {
                format!(
                    "Không thể “{}” hồ sơ ở trạng thái hiện tại; không còn thao tác nào của bạn.",
                    action.label()
                )
            } else {
                format!(
                    "Không thể “{}” hồ sơ ở trạng thái hiện tại. Có thể: {}.",
                    action.label(),
                    names.join(", ")
                )
            })
        }
        Refusal::NotAllowed => AppError::from(Code::RoleNotAllowed)
            .with_detail(format!("Vai trò của bạn không được “{}”.", action.label())),
        Refusal::NoteRequired => AppError::from(Code::ValidationFailed)
            .with_detail("Cần ghi rõ lý do hoặc nội dung yêu cầu.")
            .with_field(
                "note",
                "note_required",
                "Cần ghi rõ lý do hoặc nội dung yêu cầu.",
            ),
    }
}

pub(super) fn stale(expected: Option<i32>, row: &DossierRow) -> AppResult<()> {
    match expected {
        Some(v) if v != row.version => Err(AppError::from(Code::StaleVersion)),
        _ => Ok(()),
    }
}
