//! Phone numbers: a new number is verified by a 6-digit code sent by SMS
//! (10 minutes, 5 tries), and replaces the old one only then. The verified
//! email is told of the request, with a link that undoes it and locks.

use chrono::Duration;
use diesel_async::AsyncConnection;
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::identity::Identity;
use crate::infra::Core;
use crate::{
    crypto::tokens,
    domain::{AccountId, PhoneNumber},
    error::{AppError, AppResult, ErrorKind},
    identity::{
        ClientInfo,
        account_changes::{self, Change},
        audit,
        registration::spend_quota,
        throttle,
    },
    notify::outbox::queue_sms,
    storage::{accounts, sms},
};

/// How long a code works.
pub const CODE_TTL: Duration = Duration::minutes(10);
/// Wrong codes allowed before the verification must be started again.
pub const MAX_TRIES: i32 = 5;

fn code_hash(account: AccountId, code: &str) -> Vec<u8> {
    Sha256::digest(format!("{account}:{code}").as_bytes()).to_vec()
}

/// Sends a verification code to `phone` for `account`, once the holder is
/// confirmed ([`account_changes::confirm_holder`]: `holder` is the
/// session's sign-in time and the password if given).
pub async fn request_change(
    state: &Identity,
    account: AccountId,
    holder: account_changes::Holder,
    phone: &PhoneNumber,
    client: &ClientInfo,
) -> AppResult<()> {
    account_changes::confirm_holder(state, account, holder).await?;
    spend_quota(
        state,
        &throttle::EMAIL_SENDING_RECIPIENT,
        &format!("sms:{account}"),
    )
    .await?;
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        sms::put_verification(
            c,
            &sms::PhoneVerificationRow {
                account_id: account.as_uuid(),
                phone: phone.e164().to_owned(),
                code_hash: code_hash(account, &code),
                attempts: 0,
                expires_at: now + CODE_TTL,
                created_at: now,
            },
        )
        .await?;
        audit::record(c, account, "phone_change_requested", client, serde_json::json!({}), now).await?;
        let row = accounts::find(c, account.as_uuid()).await?;
        account_changes::notify_old_address(
            c,
            state,
            &row,
            Change::Phone {
                previous: row.phone.as_deref(),
                verified_at: row.phone_verified_at,
            },
            now,
        )
        .await?;
        queue_sms(
            c,
            now,
            phone,
            Some(account.as_uuid()),
            "phone_verification",
            &format!(
                "Mã xác minh số điện thoại Dịch vụ công TP.HCM: {code} (hiệu lực 10 phút). Không chia sẻ mã này cho bất kỳ ai."
            ),
            true,
        )
        .await?;
        Ok(())
    })
    .await
}

fn invalid_code() -> AppError {
    AppError::bad_request("invalid_code")
        .with_detail("Mã xác minh không đúng, đã hết hạn hoặc đã bị hủy. Vui lòng yêu cầu mã mới.")
}

/// What checking a code found (committed either way: wrong tries must count).
enum Checked {
    Verified,
    Wrong,
    Void,
}

/// Checks the code; the number becomes the account's verified phone.
pub async fn confirm(
    state: &Core,
    account: AccountId,
    code: &str,
    client: &ClientInfo,
) -> AppResult<()> {
    let now = state.clock.now();
    let code = code.trim();
    let mut conn = state.db.get().await?;
    let checked = conn
        .transaction::<_, AppError, _>(async |c| {
            let Some(pending) = sms::verification_for_update(c, account.as_uuid()).await? else {
                return Ok(Checked::Void);
            };
            if pending.expires_at <= now || pending.attempts >= MAX_TRIES {
                sms::delete_verification(c, account.as_uuid()).await?;
                return Ok(Checked::Void);
            }
            if !tokens::equal(
                &tokens::hex(&pending.code_hash),
                &tokens::hex(&code_hash(account, code)),
            ) {
                sms::count_wrong_code(c, account.as_uuid()).await?;
                return Ok(Checked::Wrong);
            }
            accounts::set_verified_phone(c, account.as_uuid(), &pending.phone, now).await?;
            sms::delete_verification(c, account.as_uuid()).await?;
            audit::record(
                c,
                account,
                "phone_changed",
                client,
                serde_json::json!({}),
                now,
            )
            .await?;
            Ok(Checked::Verified)
        })
        .await?;
    match checked {
        Checked::Verified => Ok(()),
        Checked::Wrong => Err(AppError::new(ErrorKind::Unprocessable, "validation_failed")
            .with_detail("Mã xác minh không đúng.")
            .with_field("code", "code_wrong", "Mã xác minh không đúng.")),
        Checked::Void => Err(invalid_code()),
    }
}
