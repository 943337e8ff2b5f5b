//! What a civil servant did, as the agency's audit trail names it. Every
//! back-office page and staff-API call that reads a dossier or changes
//! anything records one of these (identity::staff_events).

use super::dossier::Action;

/// A kind of civil servant's event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffEvent {
    /// Signed in (password and second factor).
    SignedIn,
    /// A sign-in with their username failed.
    SignInFailed,
    /// Signed out.
    SignedOut,
    /// Set up their second factor.
    Enrolled,
    /// Opened a dossier's page.
    DossierViewed,
    /// Took an action on a dossier.
    DossierAction(Action),
    /// Forwarded a dossier to another agency.
    DossierForwarded,
    /// Uploaded a dossier's result paper.
    ResultUploaded,
    /// Filed a dossier for a citizen at the counter.
    CounterFiled,
    /// Raised a citizen to level 2 after checking the ID card.
    IdentityVerified,
    /// Looked up the account holding a national ID at the counter.
    IdentityLookedUp,
    /// Approved an apology letter for an overdue dossier.
    ApologyApproved,
    /// Exported the dashboard's figures.
    ReportExported,
    /// Added a civil servant.
    StaffCreated,
    /// Changed a civil servant's roles.
    StaffRolesChanged,
    /// Disabled a civil servant's account.
    StaffDisabled,
    /// Enabled it again.
    StaffEnabled,
    /// Reset a civil servant's second factor (they enrol again).
    StaffSecondFactorReset,
    /// Changed the agency's opening hours.
    HoursChanged,
    /// Set one of the agency's own days.
    DayAdded,
    /// Removed one.
    DayRemoved,
    /// Took new dossiers for a service again.
    ServiceOffered,
    /// Stopped taking new dossiers for a service.
    ServiceSuspended,
    /// Confirmed a citizen represents a business (papers seen at the counter).
    BusinessConfirmed,
    /// Rejected a citizen's claim to represent a business.
    BusinessRejected,
    /// Read a citizen's vault to prefill a form at the counter.
    CounterPrefilled,
    /// Registered a passkey of their own.
    PasskeyAdded,
    /// Removed one of their passkeys.
    PasskeyRemoved,
    /// Required passkeys of the agency's civil servants, or stopped requiring them.
    PasskeyPolicyChanged,
    /// Sent a dossier the national portal had refused to it again.
    NationalPortalResent,
}

const SIMPLE: [(StaffEvent, &str, &str); 29] = [
    (StaffEvent::SignedIn, "signed_in", "Đăng nhập"),
    (
        StaffEvent::SignInFailed,
        "sign_in_failed",
        "Đăng nhập không thành công",
    ),
    (StaffEvent::SignedOut, "signed_out", "Đăng xuất"),
    (
        StaffEvent::Enrolled,
        "enrolled",
        "Thiết lập xác thực hai lớp",
    ),
    (StaffEvent::DossierViewed, "dossier.viewed", "Xem hồ sơ"),
    (
        StaffEvent::DossierForwarded,
        "dossier.forwarded",
        "Chuyển hồ sơ sang đơn vị khác",
    ),
    (
        StaffEvent::ResultUploaded,
        "dossier.result_uploaded",
        "Tải lên kết quả giải quyết",
    ),
    (
        StaffEvent::CounterFiled,
        "dossier.counter_filed",
        "Tiếp nhận hồ sơ tại quầy",
    ),
    (
        StaffEvent::IdentityVerified,
        "citizen.identity_verified",
        "Xác thực danh tính công dân tại quầy",
    ),
    (
        StaffEvent::IdentityLookedUp,
        "citizen.identity_looked_up",
        "Tra cứu tài khoản theo số định danh tại quầy",
    ),
    (
        StaffEvent::ApologyApproved,
        "apology.approved",
        "Duyệt thư xin lỗi",
    ),
    (
        StaffEvent::ReportExported,
        "report.exported",
        "Tải báo cáo CSV",
    ),
    (StaffEvent::StaffCreated, "staff.created", "Thêm cán bộ"),
    (
        StaffEvent::StaffRolesChanged,
        "staff.roles_changed",
        "Đổi vai trò cán bộ",
    ),
    (
        StaffEvent::StaffDisabled,
        "staff.disabled",
        "Khóa tài khoản cán bộ",
    ),
    (
        StaffEvent::StaffEnabled,
        "staff.enabled",
        "Mở khóa tài khoản cán bộ",
    ),
    (
        StaffEvent::StaffSecondFactorReset,
        "staff.second_factor_reset",
        "Đặt lại xác thực hai lớp của cán bộ",
    ),
    (
        StaffEvent::HoursChanged,
        "agency.hours_changed",
        "Đổi giờ làm việc",
    ),
    (
        StaffEvent::DayAdded,
        "agency.day_added",
        "Thêm ngày nghỉ/ngày làm bù",
    ),
    (
        StaffEvent::DayRemoved,
        "agency.day_removed",
        "Bỏ ngày nghỉ/ngày làm bù",
    ),
    (
        StaffEvent::ServiceOffered,
        "agency.service_offered",
        "Tiếp nhận lại thủ tục",
    ),
    (
        StaffEvent::ServiceSuspended,
        "agency.service_suspended",
        "Tạm ngừng tiếp nhận thủ tục",
    ),
    (
        StaffEvent::BusinessConfirmed,
        "business.confirmed",
        "Xác nhận người đại diện doanh nghiệp",
    ),
    (
        StaffEvent::BusinessRejected,
        "business.rejected",
        "Từ chối đăng ký doanh nghiệp",
    ),
    (
        StaffEvent::CounterPrefilled,
        "vault.counter_prefilled",
        "Tra cứu kho dữ liệu của công dân tại quầy",
    ),
    (StaffEvent::PasskeyAdded, "passkey.added", "Thêm passkey"),
    (StaffEvent::PasskeyRemoved, "passkey.removed", "Gỡ passkey"),
    (
        StaffEvent::PasskeyPolicyChanged,
        "agency.passkey_policy_changed",
        "Đổi yêu cầu đăng nhập bằng passkey của cán bộ",
    ),
    (
        StaffEvent::NationalPortalResent,
        "national_portal.resent",
        "Gửi lại hồ sơ lên Cổng Dịch vụ công quốc gia",
    ),
];

const ACTION_PREFIX: &str = "dossier.";

impl StaffEvent {
    /// The stored name (`dossier.accept`, `staff.created` …).
    pub fn as_str(self) -> String {
        match self {
            Self::DossierAction(action) => format!("{ACTION_PREFIX}{}", action.as_str()),
            other => SIMPLE
                .iter()
                .find(|(e, _, _)| *e == other)
                .map(|(_, name, _)| (*name).to_owned())
                .unwrap_or_default(),
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        if let Some((event, _, _)) = SIMPLE.iter().find(|(_, name, _)| *name == raw) {
            return Some(*event);
        }
        raw.strip_prefix(ACTION_PREFIX)
            .and_then(Action::parse)
            .map(Self::DossierAction)
    }

    /// What the audit page says (Vietnamese).
    pub fn label(self) -> String {
        match self {
            Self::DossierAction(action) => format!("Hồ sơ: {}", action.label()),
            other => SIMPLE
                .iter()
                .find(|(e, _, _)| *e == other)
                .map(|(_, _, label)| (*label).to_owned())
                .unwrap_or_default(),
        }
    }

    /// Every kind, for the audit page's filter.
    pub fn all() -> Vec<Self> {
        let mut all: Vec<Self> = SIMPLE.iter().map(|(e, _, _)| *e).collect();
        all.extend(
            Action::ALL
                .into_iter()
                .filter(|a| matches!(a.actor(), super::dossier::Actor::Staff(_)))
                .map(Self::DossierAction),
        );
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_with_a_label() {
        let all = StaffEvent::all();
        assert_eq!(all.len(), 29 + 10);
        for event in all {
            let name = event.as_str();
            assert!(
                name.len() >= 3
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.'),
                "{name}"
            );
            assert_eq!(StaffEvent::parse(&name), Some(event), "{name}");
            assert!(!event.label().is_empty());
        }
        assert_eq!(
            StaffEvent::DossierAction(Action::Accept).as_str(),
            "dossier.accept"
        );
        assert_eq!(
            StaffEvent::parse("dossier.submit").map(|e| e.as_str()),
            Some("dossier.submit".into())
        );
        assert_eq!(StaffEvent::parse("dossier.nothing"), None);
        assert_eq!(StaffEvent::parse("signed"), None);
    }
}
