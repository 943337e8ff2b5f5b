//! Business accounts: one per tax code, registered by an identity-verified
//! citizen who becomes its representative; the representative authorises
//! other citizens to act for it (with an optional expiry) and revokes them.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::Serialize;
use uuid::Uuid;

use crate::{
    domain::{AccountId, BusinessId, Invalid, national_id::NationalId, tax_code::TaxCode},
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    identity::{ClientInfo, audit, emails},
    notify::{outbox::Envelope, queue_email},
    startup::AppState,
    storage::{accounts, businesses},
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

/// Registers a business with the caller as its representative.
pub async fn register(
    state: &AppState,
    representative: AccountId,
    level: u8,
    tax_code: &str,
    name: &str,
    address: &str,
    client: &ClientInfo,
) -> AppResult<BusinessView> {
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
    let row = businesses::BusinessRow {
        id: BusinessId::generate().as_uuid(),
        tax_code: tax_code.as_str().to_owned(),
        name,
        address,
        representative_id: representative.as_uuid(),
        created_at: now,
    };
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        if !businesses::insert(c, &row).await? {
            return Err(AppError::conflict("tax_code_taken").with_detail(
                "Mã số thuế này đã có tài khoản doanh nghiệp. Nếu bạn là người đại diện mới, vui lòng liên hệ bộ phận hỗ trợ.",
            ));
        }
        audit::record(
            c,
            representative,
            "business_registered",
            client,
            serde_json::json!({ "tax_code": row.tax_code }),
            now,
        )
        .await?;
        Ok(())
    })
    .await?;
    Ok(row.into())
}

/// The business, if `account` is its representative (404 otherwise: others' businesses do not exist).
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
    if row.representative_id != account.as_uuid() {
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
    state: &AppState,
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
    state: &AppState,
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
    state: &AppState,
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
