//! Business accounts: one per tax code, registered by an identity-verified
//! citizen who claims to represent it. The claim stays `pending` (nobody acts
//! for the business) until a receiver confirms it after checking the papers
//! (identity::business_registrations). The confirmed representative
//! authorises other citizens to act for it (with an optional expiry) and
//! revokes them.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::Serialize;
use uuid::Uuid;

use crate::infra::Core;
use crate::{
    domain::{
        AccountId, BusinessId, Invalid, business::RegistrationStatus, national_id::NationalId,
        tax_code::TaxCode,
    },
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    identity::{ClientInfo, audit, emails},
    notify::{outbox::Envelope, queue_email},
    storage::{accounts, businesses, catalog as catalog_store},
};

/// A business as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Business)]
pub struct BusinessView {
    /// Id.
    #[schema(value_type = uuid::Uuid)]
    pub id: BusinessId,
    /// Tax code.
    pub tax_code: String,
    /// Name.
    pub name: String,
    /// Address.
    pub address: String,
    /// `pending` (waiting for a receiver to see the papers), `confirmed` or `rejected`.
    pub status: String,
    /// The status in Vietnamese.
    pub status_label: String,
    /// The one-stop desk where the papers will be shown, if chosen.
    pub desk_agency_code: Option<String>,
    /// Registered.
    pub created_at: DateTime<Utc>,
}

impl From<businesses::BusinessRow> for BusinessView {
    fn from(b: businesses::BusinessRow) -> Self {
        Self {
            id: BusinessId::from(b.id),
            tax_code: b.tax_code,
            name: b.name,
            address: b.address,
            status_label: RegistrationStatus::parse(&b.status)
                .map(RegistrationStatus::label)
                .unwrap_or_default()
                .to_owned(),
            status: b.status,
            desk_agency_code: b.desk_agency_code,
            created_at: b.created_at,
        }
    }
}

fn text_field(
    raw: &str,
    min: usize,
    max: usize,
    code: &'static str,
    what: &str,
) -> Result<String, Invalid> {
    let value = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let len = value.chars().count();
    if len < min || len > max {
        return Err(Invalid::new(
            code,
            format!("{what} phải có từ {min} đến {max} ký tự."),
        ));
    }
    Ok(value)
}

fn require_level_2(level: u8) -> AppResult<()> {
    if level < 2 {
        return Err(AppError::new(ErrorKind::Forbidden, "assurance_level_too_low").with_detail(
            "Cần tài khoản định danh mức độ 2 (đăng nhập bằng VNeID hoặc xác thực tại quầy) để thực hiện thao tác này.",
        ));
    }
    Ok(())
}

/// What a citizen registers.
#[derive(Debug, Clone, Copy)]
pub struct Registration<'a> {
    /// The tax code.
    pub tax_code: &'a str,
    /// The registered name.
    pub name: &'a str,
    /// The head office's address.
    pub address: &'a str,
    /// The one-stop desk (agency code) where the papers will be shown, if chosen.
    pub desk_agency_code: Option<&'a str>,
}

/// Registers a business claimed by the caller, `pending` until a receiver
/// confirms the representation. A tax code held by a pending or confirmed
/// registration answers 409 and changes nothing.
pub async fn register(
    state: &Core,
    representative: AccountId,
    level: u8,
    registration: Registration<'_>,
    client: &ClientInfo,
) -> AppResult<BusinessView> {
    let Registration {
        tax_code,
        name,
        address,
        desk_agency_code,
    } = registration;
    let mut errors = FieldErrors::default();
    let tax_code = errors.take("tax_code", TaxCode::parse(tax_code));
    let name = errors.take(
        "name",
        text_field(name, 2, 200, "business_name_length", "Tên doanh nghiệp"),
    );
    let address = errors.take(
        "address",
        text_field(address, 5, 300, "business_address_length", "Địa chỉ trụ sở"),
    );
    errors.into_result()?;
    require_level_2(level)?;
    let (Some(tax_code), Some(name), Some(address)) = (tax_code, name, address) else {
        return Err(AppError::of_kind(ErrorKind::Unprocessable));
    };
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let desk = match desk_agency_code.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(code) => match catalog_store::agency(&mut conn, code).await? {
            Some(agency) => Some(agency.code),
            None => {
                return Err(AppError::new(ErrorKind::Unprocessable, "validation_failed")
                    .with_detail("Không tìm thấy đơn vị tiếp nhận.")
                    .with_field(
                        "desk_agency_code",
                        "agency_unknown",
                        "Không tìm thấy đơn vị tiếp nhận.",
                    ));
            }
        },
    };
    let row = businesses::BusinessRow {
        id: BusinessId::generate().as_uuid(),
        tax_code: tax_code.as_str().to_owned(),
        name,
        address,
        representative_id: representative.as_uuid(),
        created_at: now,
        status: RegistrationStatus::Pending.as_str().to_owned(),
        desk_agency_code: desk,
        decided_at: None,
        decided_by: None,
        decided_agency_code: None,
        decision_evidence: None,
    };
    conn.transaction::<_, AppError, _>(async |c| {
        if !businesses::insert(c, &row).await? {
            return Err(AppError::conflict("tax_code_taken").with_detail(
                "Mã số thuế này đã được đăng ký (đang chờ xác nhận hoặc đã xác nhận). Nếu bạn là người đại diện theo pháp luật, vui lòng mang Giấy chứng nhận đăng ký doanh nghiệp và căn cước đến bộ phận một cửa.",
            ));
        }
        audit::record(
            c,
            representative,
            "business_registered",
            client,
            serde_json::json!({ "tax_code": row.tax_code, "status": row.status }),
            now,
        )
        .await?;
        Ok(())
    })
    .await?;
    Ok(row.into())
}

/// The business, if `account` is its confirmed representative (404
/// otherwise: others' businesses, and claims not yet confirmed, do not exist).
async fn represented(
    conn: &mut diesel_async::AsyncPgConnection,
    business: BusinessId,
    account: AccountId,
) -> AppResult<businesses::BusinessRow> {
    let row = businesses::find(conn, business.as_uuid())
        .await
        .map_err(|_| {
            AppError::not_found("business_not_found").with_detail("Không tìm thấy doanh nghiệp.")
        })?;
    let confirmed = RegistrationStatus::parse(&row.status).is_some_and(RegistrationStatus::may_act);
    if row.representative_id != account.as_uuid() || !confirmed {
        return Err(
            AppError::not_found("business_not_found").with_detail("Không tìm thấy doanh nghiệp.")
        );
    }
    Ok(row)
}

/// An authorisation as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthorizationView {
    /// Id.
    pub id: Uuid,
    /// The authorised person's name.
    pub full_name: String,
    /// Until when.
    pub valid_until: Option<DateTime<Utc>>,
    /// Granted.
    pub created_at: DateTime<Utc>,
}

/// The active authorisations of a business the caller represents.
pub async fn authorizations(
    state: &Core,
    business: BusinessId,
    account: AccountId,
) -> AppResult<Vec<AuthorizationView>> {
    let mut conn = state.db.get().await?;
    represented(&mut conn, business, account).await?;
    Ok(
        businesses::authorizations(&mut conn, business.as_uuid(), state.clock.now())
            .await?
            .into_iter()
            .map(|(a, full_name)| AuthorizationView {
                id: a.id,
                full_name,
                valid_until: a.valid_until,
                created_at: a.created_at,
            })
            .collect(),
    )
}

/// Authorises the citizen with `national_id` to act for the business until `valid_until`.
pub async fn grant(
    state: &Core,
    business: BusinessId,
    representative: AccountId,
    national_id: &str,
    valid_until: Option<DateTime<Utc>>,
    client: &ClientInfo,
) -> AppResult<AuthorizationView> {
    let national_id = NationalId::parse(national_id).map_err(|e| {
        AppError::new(ErrorKind::Unprocessable, "validation_failed")
            .with_detail(e.message.to_string())
            .with_field("national_id", e.code, e.message)
    })?;
    let now = state.clock.now();
    if valid_until.is_some_and(|until| until <= now) {
        return Err(AppError::new(ErrorKind::Unprocessable, "validation_failed")
            .with_detail("Thời hạn ủy quyền phải ở tương lai.")
            .with_field(
                "valid_until",
                "valid_until_past",
                "Thời hạn ủy quyền phải ở tương lai.",
            ));
    }
    let domain = state.settings.mail_domain();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let biz = represented(c, business, representative).await?;
        let rep = accounts::find(c, representative.as_uuid()).await?;
        let Some(delegate) = accounts::find_by_national_id(c, national_id.as_str())
            .await?
            .filter(|a| a.status == "active")
        else {
            return Err(
                AppError::new(ErrorKind::Unprocessable, "delegate_not_found")
                    .with_detail("Người được ủy quyền cần có tài khoản Dịch vụ công đã kích hoạt."),
            );
        };
        if delegate.id == representative.as_uuid() {
            return Err(
                AppError::new(ErrorKind::Unprocessable, "delegate_is_representative")
                    .with_detail("Người đại diện không cần tự ủy quyền cho mình."),
            );
        }
        let row = businesses::AuthorizationRow {
            id: Uuid::now_v7(),
            business_id: biz.id,
            account_id: delegate.id,
            granted_by: representative.as_uuid(),
            valid_until,
            revoked_at: None,
            created_at: now,
        };
        businesses::grant(c, &row).await?;
        let detail = serde_json::json!({ "tax_code": biz.tax_code, "authorization_id": row.id });
        audit::record(
            c,
            representative,
            "business_authorization_granted",
            client,
            detail.clone(),
            now,
        )
        .await?;
        audit::record(
            c,
            AccountId::from(delegate.id),
            "business_authorization_received",
            client,
            detail,
            now,
        )
        .await?;
        if let Some(email) = crate::identity::verified_email(&delegate) {
            queue_email(
                c,
                now,
                &Envelope {
                    to: &email,
                    account_id: Some(delegate.id),
                    mail_domain: &domain,
                },
                &emails::BusinessAuthorizationGranted {
                    full_name: delegate.full_name.clone(),
                    representative: rep.full_name.clone(),
                    business_name: biz.name.clone(),
                    tax_code: biz.tax_code.clone(),
                    valid_until: valid_until.map(emails::vietnam_time),
                },
            )
            .await?;
        }
        Ok(AuthorizationView {
            id: row.id,
            full_name: delegate.full_name,
            valid_until,
            created_at: now,
        })
    })
    .await
}

/// Revokes an authorisation of a business the caller represents.
pub async fn revoke(
    state: &Core,
    business: BusinessId,
    representative: AccountId,
    authorization: Uuid,
    client: &ClientInfo,
) -> AppResult<()> {
    let now = state.clock.now();
    let domain = state.settings.mail_domain();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let biz = represented(c, business, representative).await?;
        let Some(revoked) = businesses::revoke(c, biz.id, authorization, now).await? else {
            return Err(AppError::not_found("authorization_not_found")
                .with_detail("Không tìm thấy ủy quyền đang có hiệu lực."));
        };
        let delegate = accounts::find(c, revoked.account_id).await?;
        let detail =
            serde_json::json!({ "tax_code": biz.tax_code, "authorization_id": revoked.id });
        audit::record(
            c,
            representative,
            "business_authorization_revoked",
            client,
            detail.clone(),
            now,
        )
        .await?;
        audit::record(
            c,
            AccountId::from(delegate.id),
            "business_authorization_lost",
            client,
            detail,
            now,
        )
        .await?;
        if let Some(email) = crate::identity::verified_email(&delegate) {
            queue_email(
                c,
                now,
                &Envelope {
                    to: &email,
                    account_id: Some(delegate.id),
                    mail_domain: &domain,
                },
                &emails::BusinessAuthorizationRevoked {
                    full_name: delegate.full_name.clone(),
                    business_name: biz.name.clone(),
                    tax_code: biz.tax_code.clone(),
                    at: emails::vietnam_time(now),
                },
            )
            .await?;
        }
        Ok(())
    })
    .await
}
