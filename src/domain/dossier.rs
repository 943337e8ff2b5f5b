//! A dossier's life: its statuses (with the national status codes of
//! DESIGN.md), the actions that move it, who may take each, and the receipt
//! code and progress-log hash chain. Pure: the storage and the clock are
//! the caller's.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::staff::StaffRole;

/// Where a dossier stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 0: being prepared by the applicant.
    Draft,
    /// 1: filed, waiting for intake.
    Submitted,
    /// 2: taken in; due date set.
    Accepted,
    /// 3: not taken in.
    Refused,
    /// 4: being handled.
    Processing,
    /// 5: the applicant must add documents; the clock pauses.
    SupplementRequested,
    /// 6: the applicant must pay a fee.
    FeeRequested,
    /// 7: withdrawn by the applicant.
    Withdrawn,
    /// 8: processing stopped.
    Stopped,
    /// 9: decided.
    Processed,
    /// 10: result handed over.
    Returned,
}

impl Status {
    /// Every status.
    pub const ALL: [Self; 11] = [
        Self::Draft,
        Self::Submitted,
        Self::Accepted,
        Self::Refused,
        Self::Processing,
        Self::SupplementRequested,
        Self::FeeRequested,
        Self::Withdrawn,
        Self::Stopped,
        Self::Processed,
        Self::Returned,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Accepted => "accepted",
            Self::Refused => "refused",
            Self::Processing => "processing",
            Self::SupplementRequested => "supplement_requested",
            Self::FeeRequested => "fee_requested",
            Self::Withdrawn => "withdrawn",
            Self::Stopped => "stopped",
            Self::Processed => "processed",
            Self::Returned => "returned",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The national status code (0–10), from the table of
    /// `domain::national_portal`.
    pub fn national_code(self) -> i16 {
        crate::domain::national_portal::status_code(self)
    }

    /// What the applicant reads (Vietnamese).
    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "Đang soạn",
            Self::Submitted => "Đã nộp, chờ tiếp nhận",
            Self::Accepted => "Đã tiếp nhận",
            Self::Refused => "Từ chối tiếp nhận",
            Self::Processing => "Đang xử lý",
            Self::SupplementRequested => "Yêu cầu bổ sung hồ sơ",
            Self::FeeRequested => "Yêu cầu nộp phí, lệ phí",
            Self::Withdrawn => "Đã rút hồ sơ",
            Self::Stopped => "Dừng xử lý",
            Self::Processed => "Đã có kết quả",
            Self::Returned => "Đã trả kết quả",
        }
    }

    /// Whether the deadline clock runs in this status.
    pub fn clock_runs(self) -> bool {
        matches!(self, Self::Accepted | Self::Processing)
    }

    /// Whether the dossier's life is over: nothing can be done to it any more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Refused | Self::Withdrawn | Self::Stopped | Self::Returned
        )
    }
}

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The applicant (or the business's representative).
    Applicant,
    /// A civil servant with a role.
    Staff(StaffRole),
}

impl Actor {
    /// Every actor: the applicant and each staff role.
    pub const ALL: [Self; 5] = [
        Self::Applicant,
        Self::Staff(StaffRole::Receiver),
        Self::Staff(StaffRole::Processor),
        Self::Staff(StaffRole::Approver),
        Self::Staff(StaffRole::AgencyAdmin),
    ];
}

/// What can be done to a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The applicant files the draft.
    Submit,
    /// The applicant withdraws it.
    Withdraw,
    /// The applicant adds what was asked for.
    Supplement,
    /// A receiver takes it in.
    Accept,
    /// A receiver refuses to take it in (reason required).
    Refuse,
    /// A processor starts handling it.
    StartProcessing,
    /// A processor asks the applicant for more (what is missing required).
    RequestSupplement,
    /// A processor asks for a fee (amount in the note).
    RequestFee,
    /// A receiver confirms the fee was paid.
    ConfirmPayment,
    /// An approver approves it.
    Approve,
    /// An approver rejects it (reason required).
    Reject,
    /// An approver stops processing (reason required).
    Stop,
    /// A receiver hands the result over.
    ReturnResult,
}

impl Action {
    /// Every action.
    pub const ALL: [Self; 13] = [
        Self::Submit,
        Self::Withdraw,
        Self::Supplement,
        Self::Accept,
        Self::Refuse,
        Self::StartProcessing,
        Self::RequestSupplement,
        Self::RequestFee,
        Self::ConfirmPayment,
        Self::Approve,
        Self::Reject,
        Self::Stop,
        Self::ReturnResult,
    ];

    /// The stored / API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Withdraw => "withdraw",
            Self::Supplement => "supplement",
            Self::Accept => "accept",
            Self::Refuse => "refuse",
            Self::StartProcessing => "start_processing",
            Self::RequestSupplement => "request_supplement",
            Self::RequestFee => "request_fee",
            Self::ConfirmPayment => "confirm_payment",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Stop => "stop",
            Self::ReturnResult => "return_result",
        }
    }

    /// Parses an API name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }

    /// Who may take it.
    pub fn actor(self) -> Actor {
        match self {
            Self::Submit | Self::Withdraw | Self::Supplement => Actor::Applicant,
            Self::Accept | Self::Refuse | Self::ConfirmPayment | Self::ReturnResult => {
                Actor::Staff(StaffRole::Receiver)
            }
            Self::StartProcessing | Self::RequestSupplement | Self::RequestFee => {
                Actor::Staff(StaffRole::Processor)
            }
            Self::Approve | Self::Reject | Self::Stop => Actor::Staff(StaffRole::Approver),
        }
    }

    /// The statuses it may be taken from.
    pub fn from(self) -> &'static [Status] {
        use Status::{
            Accepted, Draft, FeeRequested, Processed, Processing, Submitted, SupplementRequested,
        };
        match self {
            Self::Submit => &[Draft],
            Self::Withdraw => &[
                Draft,
                Submitted,
                Accepted,
                Processing,
                SupplementRequested,
                FeeRequested,
            ],
            Self::Supplement => &[SupplementRequested],
            Self::Accept | Self::Refuse => &[Submitted],
            Self::StartProcessing => &[Accepted],
            Self::RequestSupplement | Self::RequestFee | Self::Stop => &[Accepted, Processing],
            Self::ConfirmPayment => &[FeeRequested],
            Self::Approve | Self::Reject => &[Accepted, Processing],
            Self::ReturnResult => &[Processed],
        }
    }

    /// Where it leads.
    pub fn to(self) -> Status {
        match self {
            Self::Submit => Status::Submitted,
            Self::Withdraw => Status::Withdrawn,
            Self::Supplement | Self::StartProcessing | Self::ConfirmPayment => Status::Processing,
            Self::Accept => Status::Accepted,
            Self::Refuse => Status::Refused,
            Self::RequestSupplement => Status::SupplementRequested,
            Self::RequestFee => Status::FeeRequested,
            Self::Approve | Self::Reject => Status::Processed,
            Self::Stop => Status::Stopped,
            Self::ReturnResult => Status::Returned,
        }
    }

    /// Whether the law asks for a written reason (or the list of what is missing).
    pub fn needs_note(self) -> bool {
        matches!(
            self,
            Self::Refuse | Self::RequestSupplement | Self::RequestFee | Self::Reject | Self::Stop
        )
    }

    /// What the progress log says (Vietnamese).
    pub fn label(self) -> &'static str {
        match self {
            Self::Submit => "Nộp hồ sơ trực tuyến",
            Self::Withdraw => "Rút hồ sơ",
            Self::Supplement => "Bổ sung hồ sơ",
            Self::Accept => "Tiếp nhận hồ sơ",
            Self::Refuse => "Từ chối tiếp nhận hồ sơ",
            Self::StartProcessing => "Chuyển xử lý",
            Self::RequestSupplement => "Yêu cầu bổ sung hồ sơ",
            Self::RequestFee => "Yêu cầu nộp phí, lệ phí",
            Self::ConfirmPayment => "Xác nhận đã nộp phí, lệ phí",
            Self::Approve => "Phê duyệt kết quả",
            Self::Reject => "Không phê duyệt (có lý do)",
            Self::Stop => "Dừng xử lý hồ sơ",
            Self::ReturnResult => "Trả kết quả",
        }
    }
}

/// What the progress log calls a row's action (Vietnamese): the action's
/// label, or the name of the other steps a log records.
pub fn event_label(action: &str) -> &'static str {
    Action::parse(action)
        .map(Action::label)
        .unwrap_or(match action {
            "create" => "Tạo hồ sơ",
            "overdue" => "Quá hạn giải quyết",
            "attach" => "Đính kèm tệp",
            "file_read" => "Cán bộ xem tệp",
            "forward" => "Chuyển hồ sơ",
            "apology" => "Gửi thư xin lỗi, hẹn lại ngày trả kết quả",
            "counter_filing" => "Nộp hồ sơ tại bộ phận một cửa",
            "result_staged" => "Cán bộ tải lên văn bản kết quả",
            _ => "Cập nhật hồ sơ",
        })
}

/// Why an action cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not from the current status; these actions are.
    WrongStatus(Vec<Action>),
    /// The actor may not take it.
    NotAllowed,
    /// A reason is required.
    NoteRequired,
}

/// Whether `actor` may take `action` on a dossier in `status` with `note`.
pub fn check(
    status: Status,
    action: Action,
    actor: Actor,
    note: Option<&str>,
) -> Result<Status, Refusal> {
    let permitted = match (action.actor(), actor) {
        (Actor::Applicant, Actor::Applicant) => true,
        (Actor::Staff(needed), Actor::Staff(role)) => needed == role,
        _ => false,
    };
    if !permitted {
        return Err(Refusal::NotAllowed);
    }
    if !action.from().contains(&status) {
        return Err(Refusal::WrongStatus(allowed(status, actor)));
    }
    if action.needs_note() && note.is_none_or(|n| n.trim().is_empty()) {
        return Err(Refusal::NoteRequired);
    }
    Ok(action.to())
}

/// The actions `actor` may take from `status`.
pub fn allowed(status: Status, actor: Actor) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| a.from().contains(&status))
        .filter(|a| match (a.actor(), actor) {
            (Actor::Applicant, Actor::Applicant) => true,
            (Actor::Staff(needed), Actor::Staff(role)) => needed == role,
            _ => false,
        })
        .collect()
}

/// A receipt code: `{agency code}-{YYMMDD}-{NNNN}`.
pub fn receipt_code(agency: &str, day: chrono::NaiveDate, seq: i32) -> String {
    format!("{agency}-{}-{seq:04}", day.format("%y%m%d"))
}

/// What a progress-log row's hash covers.
#[derive(Debug, Serialize)]
pub struct EventDigest<'a> {
    /// The dossier.
    pub dossier_id: uuid::Uuid,
    /// Position in its log (1, 2, …).
    pub seq: i32,
    /// When (RFC 3339, microseconds).
    pub at: String,
    /// `applicant`, `staff` or `system`.
    pub actor_kind: &'a str,
    /// Who.
    pub actor_id: Option<uuid::Uuid>,
    /// The action.
    pub action: &'a str,
    /// From status.
    pub from_status: Option<&'a str>,
    /// To status.
    pub to_status: Option<&'a str>,
    /// The note.
    pub note: Option<&'a str>,
    /// Shown to the applicant.
    pub visible: bool,
}

/// The hash of a log row: SHA-256 of the previous row's hash and the row's
/// canonical JSON, so editing or deleting any row breaks every later hash.
pub fn chain_hash(previous: &[u8], row: &EventDigest<'_>) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(serde_json::to_vec(row).unwrap_or_default());
    hasher.finalize().to_vec()
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_codes_follow_the_design() {
        let codes: Vec<i16> = Status::ALL.iter().map(|s| s.national_code()).collect();
        assert_eq!(codes, (0..=10).collect::<Vec<i16>>());
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn actions_check_status_role_and_reason() {
        let receiver = Actor::Staff(StaffRole::Receiver);
        assert_eq!(
            check(Status::Submitted, Action::Accept, receiver, None),
            Ok(Status::Accepted)
        );
        assert_eq!(
            check(
                Status::Submitted,
                Action::Accept,
                Actor::Staff(StaffRole::Processor),
                None
            ),
            Err(Refusal::NotAllowed)
        );
        assert_eq!(
            check(Status::Submitted, Action::Accept, Actor::Applicant, None),
            Err(Refusal::NotAllowed)
        );
        assert_eq!(
            check(Status::Accepted, Action::Accept, receiver, None),
            Err(Refusal::WrongStatus(vec![]))
        );
        assert_eq!(
            check(Status::Submitted, Action::Refuse, receiver, Some("  ")),
            Err(Refusal::NoteRequired)
        );
        assert_eq!(
            check(Status::Processed, Action::Withdraw, Actor::Applicant, None),
            Err(Refusal::WrongStatus(vec![]))
        );
        assert_eq!(
            allowed(Status::SupplementRequested, Actor::Applicant),
            vec![Action::Withdraw, Action::Supplement]
        );
        assert_eq!(
            allowed(Status::Submitted, receiver),
            vec![Action::Accept, Action::Refuse]
        );
    }

    #[test]
    fn receipt_codes_and_the_chain() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        assert_eq!(
            receipt_code("000.21.11.H29", day, 7),
            "000.21.11.H29-261122-0007"
        );
        assert_eq!(receipt_code("X", day, 12345), "X-261122-12345");
        let row = |note| EventDigest {
            dossier_id: uuid::Uuid::nil(),
            seq: 1,
            at: "2026-11-22T00:00:00.000000Z".into(),
            actor_kind: "applicant",
            actor_id: None,
            action: "submit",
            from_status: Some("draft"),
            to_status: Some("submitted"),
            note,
            visible: true,
        };
        let a = chain_hash(&[], &row(None));
        assert_eq!(a, chain_hash(&[], &row(None)));
        assert_ne!(a, chain_hash(&[], &row(Some("x"))));
        assert_ne!(a, chain_hash(&[1], &row(None)));
    }
}
