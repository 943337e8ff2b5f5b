//! Civil servants: creation with second-factor enrolment, sign-in with
//! password and TOTP (or a single-use recovery code) and back-office
//! sessions. The counter identity check is `identity::counter_check`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Code;
use crate::identity::Identity;
use crate::infra::Core;
use crate::{
    crypto::tokens,
    domain::{
        Invalid,
        assurance::{self, Method},
        password_policy,
        person_name::PersonName,
        staff::{AgencyCode, StaffRole, StaffStatus, StaffUsername},
        staff_event::StaffEvent,
        totp::{self, TotpSecret},
    },
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    identity::{
        ClientInfo,
        password::Verification,
        staff_events::{self, Doer, Entry},
        staff_passkeys, throttle,
    },
    storage::staff,
};

/// The issuer name shown in authenticator apps.
pub const TOTP_ISSUER: &str = "TP.HCM Dịch vụ công";
/// Recovery codes handed out at enrolment.
pub const RECOVERY_CODES: usize = 10;

pub use super::staff_admin::{
    StaffChange, agency_staff, change_by_agency_admin, create_by_agency_admin,
};
pub use super::staff_session::{StaffSession, session};

/// A new civil servant.
#[derive(Debug)]
pub struct NewStaff {
    /// Sign-in name.
    pub username: StaffUsername,
    /// Full name.
    pub full_name: PersonName,
    /// Agency.
    pub agency: AgencyCode,
    /// Roles (at least one).
    pub roles: Vec<StaffRole>,
    /// Password (policy checked).
    pub password: SecretString,
}

/// The roles typed for a civil servant: known ones, at least one, each
/// once; what is wrong goes to `errors` under `roles`.
pub(crate) fn take_roles(errors: &mut FieldErrors, raw: &[String]) -> Vec<StaffRole> {
    let mut roles: Vec<StaffRole> = Vec::new();
    for r in raw {
        if let Some(role) = errors.take("roles", StaffRole::parse(r))
            && !roles.contains(&role)
        {
            roles.push(role);
        }
    }
    if raw.is_empty() {
        errors.push(
            "roles",
            Invalid::new("staff_role_missing", "Cần ít nhất một vai trò."),
        );
    }
    roles
}

impl NewStaff {
    /// Parses every field, reporting all invalid ones.
    pub fn parse(
        username: &str,
        full_name: &str,
        agency: &str,
        roles: &[String],
        password: SecretString,
    ) -> AppResult<Self> {
        let mut errors = FieldErrors::default();
        let username = errors.take("username", StaffUsername::parse(username));
        let full_name = errors.take("full_name", PersonName::parse(full_name));
        let agency = errors.take("agency", AgencyCode::parse(agency));
        let parsed_roles = take_roles(&mut errors, roles);
        let name = username
            .as_ref()
            .map(|u| u.as_str().to_owned())
            .unwrap_or_default();
        errors.take(
            "password",
            password_policy::check_password(password.expose_secret(), &[&name]),
        );
        errors.into_result()?;
        match (username, full_name, agency) {
            (Some(username), Some(full_name), Some(agency)) => Ok(Self {
                username,
                full_name,
                agency,
                roles: parsed_roles,
                password,
            }),
            _ => Err(AppError::of_kind(ErrorKind::Unprocessable)),
        }
    }
}

/// What a new civil servant needs to set up their authenticator.
#[derive(Debug)]
pub struct Enrolment {
    /// `otpauth://` URI (shown as a QR code or typed in).
    pub uri: String,
    /// The secret in base32, for manual entry.
    pub secret_base32: String,
    /// Single-use recovery codes (shown once; only hashes are stored).
    pub recovery_codes: Vec<String>,
}

/// Creates a civil servant enrolled in TOTP.
pub async fn create(state: &Identity, new: NewStaff) -> AppResult<(staff::StaffRow, Enrolment)> {
    create_with_secret(state, new, TotpSecret::generate()).await
}

/// Creates a civil servant enrolled with a given TOTP secret (demo data only:
/// real accounts get a random one from [`create`]).
pub async fn create_with_secret(
    state: &Identity,
    new: NewStaff,
    secret: TotpSecret,
) -> AppResult<(staff::StaffRow, Enrolment)> {
    let hash = state.hasher.hash(new.password).await?;
    let recovery_codes = totp::generate_recovery_codes(RECOVERY_CODES);
    let now = state.clock.now();
    let id = Uuid::now_v7();
    let mut row = staff::StaffRow {
        id,
        username: new.username.as_str().to_owned(),
        full_name: new.full_name.as_str().to_owned(),
        agency_code: new.agency.as_str().to_owned(),
        roles: new.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        password_hash: hash,
        totp_secret: None,
        totp_last_step: None,
        status: StaffStatus::Active,
        created_at: now,
        updated_at: now,
    };
    row.totp_secret = Some(seal_totp_secret(state, id, &secret));
    let hashes: Vec<Vec<u8>> = recovery_codes.iter().map(|c| tokens::hash(c)).collect();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        if !staff::insert(c, &row).await? {
            return Err(AppError::from(Code::UsernameTaken).with_field(
                "username",
                "username_taken",
                "Tên đăng nhập này đã được dùng.",
            ));
        }
        staff::insert_recovery_codes(c, row.id, &hashes).await?;
        Ok(())
    })
    .await?;
    let enrolment = Enrolment {
        uri: totp::provisioning_uri(
            &secret,
            TOTP_ISSUER,
            &format!("{}@{}", row.username, row.agency_code),
        ),
        secret_base32: secret.to_base32(),
        recovery_codes,
    };
    Ok((row, enrolment))
}

/// The TOTP secret as stored: sealed under the vault master key, bound to its owner.
fn seal_totp_secret(state: &Core, staff_id: Uuid, secret: &TotpSecret) -> String {
    state.settings.keyring.seal(
        secret.to_base32().as_bytes(),
        &format!("staff.totp:{staff_id}"),
    )
}

/// Opens a stored TOTP secret; a tampered or foreign value opens nothing.
fn open_totp_secret(state: &Core, row: &staff::StaffRow) -> Option<TotpSecret> {
    let sealed = row.totp_secret.as_deref()?;
    match state
        .settings
        .keyring
        .open(sealed, &format!("staff.totp:{}", row.id))
    {
        Ok(bytes) => TotpSecret::from_base32(std::str::from_utf8(&bytes).ok()?).ok(),
        Err(err) => {
            tracing::error!(staff_id = %row.id, error = %err, "stored TOTP secret does not open");
            None
        }
    }
}

fn invalid_credentials() -> AppError {
    AppError::from(Code::InvalidCredentials)
        .with_detail("Tên đăng nhập, mật khẩu hoặc mã xác thực không đúng.")
}

/// How a staff sign-in ended.
#[derive(Debug)]
pub enum SignInOutcome {
    /// Signed in: the back-office session token.
    SignedIn(String),
    /// Right password, no second factor yet (added by an agency admin): the
    /// token of a short enrolment step that must be finished first.
    EnrolmentRequired(String),
    /// Right password, no code typed, and passkeys: the token of the
    /// pending sign-in that a passkey completes (`staff_passkey_sign_in`).
    PasskeyStep(String),
}

/// Signs a civil servant in with password and second factor (a TOTP code or
/// a recovery code), or, when `passkey_step` and no code is typed, opens the
/// passkey step of one who has passkeys.
pub async fn sign_in(
    state: &Identity,
    username: &str,
    password: SecretString,
    second_factor: &str,
    passkey_step: bool,
    client: &ClientInfo,
) -> AppResult<(staff::StaffRow, SignInOutcome)> {
    let subject = format!("staff:{}", username.trim().to_lowercase());
    let ip = client.ip.clone().unwrap_or_else(|| "-".into());
    if let Some(wait) = state
        .throttle
        .locked_for_any(&[
            (&throttle::SIGN_IN_ACCOUNT, &subject),
            (&throttle::SIGN_IN_IP, &ip),
        ])
        .await?
    {
        return Err(throttle::sign_in_locked(wait));
    }
    let mut conn = state.db.get().await?;
    let row = match StaffUsername::parse(username) {
        Ok(u) => staff::find_by_username(&mut conn, u.as_str()).await?,
        Err(_) => None,
    };
    drop(conn);
    let verification = state
        .hasher
        .verify(row.as_ref().map(|r| r.password_hash.clone()), password)
        .await?;
    let now = state.clock.now();
    let password_ok = matches!(
        (&row, &verification),
        (Some(r), Verification::Match { .. }) if r.status == StaffStatus::Active
    );
    if password_ok
        && let Some(r) = &row
        && let Some(token) =
            staff_passkeys::after_password(state, r, second_factor, passkey_step).await?
    {
        state
            .throttle
            .reset(&throttle::SIGN_IN_ACCOUNT, &subject)
            .await?;
        return Ok((r.clone(), SignInOutcome::PasskeyStep(token)));
    }
    if password_ok && let Some(r) = row.as_ref().filter(|r| r.totp_secret.is_none()) {
        state
            .throttle
            .reset(&throttle::SIGN_IN_ACCOUNT, &subject)
            .await?;
        let token = start_enrolment(state, r).await?;
        return Ok((r.clone(), SignInOutcome::EnrolmentRequired(token)));
    }
    let second_ok = match &row {
        Some(r) if password_ok => check_second_factor(state, r, second_factor, now).await?,
        _ => false,
    };
    let Some(row) = row.as_ref().filter(|_| second_ok).cloned() else {
        return Err(failed(state, &subject, &ip, row.as_ref(), client).await?);
    };
    state
        .throttle
        .reset(&throttle::SIGN_IN_ACCOUNT, &subject)
        .await?;
    if let Verification::Match {
        upgraded: Some(hash),
    } = verification
    {
        let mut conn = state.db.get().await?;
        staff::set_password_hash(&mut conn, row.id, &hash).await?;
    }
    let token = open_session(state, &row, client, &[Method::Pwd, Method::Otp]).await?;
    Ok((row, SignInOutcome::SignedIn(token)))
}

/// Counts a failed sign-in against the name and the address and, for a
/// known civil servant, records it in the agency's trail; the error to answer.
async fn failed(
    state: &Identity,
    subject: &str,
    ip: &str,
    known: Option<&staff::StaffRow>,
    client: &ClientInfo,
) -> AppResult<AppError> {
    state
        .throttle
        .fail(&throttle::SIGN_IN_ACCOUNT, subject)
        .await?;
    state.throttle.fail(&throttle::SIGN_IN_IP, ip).await?;
    if let Some(known) = known {
        // Which factor failed is not recorded: the trail is read by people too.
        staff_events::record_now(
            state,
            &doer(known, client),
            Entry::plain(StaffEvent::SignInFailed),
        )
        .await?;
    }
    Ok(invalid_credentials())
}

/// Opens a back-office session signed in with `methods`; the trail's
/// sign-in event says which.
pub(crate) async fn open_session(
    state: &Identity,
    row: &staff::StaffRow,
    client: &ClientInfo,
    methods: &[Method],
) -> AppResult<String> {
    let now = state.clock.now();
    let session = StaffSession {
        staff_id: row.id,
        agency_code: row.agency_code.clone(),
        roles: row
            .roles
            .iter()
            .filter_map(|r| StaffRole::parse(r).ok())
            .collect(),
        methods: methods.to_vec(),
        created_at: now,
        last_seen_at: now,
        user_agent: client.user_agent.clone(),
        ip: client.ip.clone(),
    };
    let token = state.staff_sessions.create(&session).await?;
    let how =
        serde_json::json!({ "amr": assurance::amr(methods), "with": assurance::describe(methods) });
    staff_events::record_now(
        state,
        &doer(row, client),
        Entry::plain(StaffEvent::SignedIn).with(how),
    )
    .await?;
    Ok(token)
}

/// Ends a back-office session (sign-out).
pub async fn sign_out(state: &Identity, session: &StaffSession, token: &str) -> AppResult<()> {
    if state.staff_sessions.revoke(token).await?.is_some() {
        staff_events::record_now(state, &session.into(), Entry::plain(StaffEvent::SignedOut))
            .await?;
    }
    Ok(())
}

fn doer<'a>(row: &'a staff::StaffRow, client: &ClientInfo) -> Doer<'a> {
    Doer {
        staff_id: row.id,
        agency_code: &row.agency_code,
        client: client.clone(),
    }
}

/// What is kept (in Redis, 10 minutes) while a civil servant sets up their authenticator.
#[derive(Debug, Serialize, Deserialize)]
struct PendingEnrolment {
    staff_id: Uuid,
    secret_base32: String,
    recovery_codes: Vec<String>,
}

const ENROLMENT_TTL: Duration = Duration::from_secs(600);

fn enrolment_key(state: &Core, token: &str) -> String {
    state
        .kv
        .key(&format!("staff_enrolment:{}", tokens::hash_hex(token)))
}

async fn start_enrolment(state: &Core, row: &staff::StaffRow) -> AppResult<String> {
    use redis::AsyncCommands;
    let pending = PendingEnrolment {
        staff_id: row.id,
        secret_base32: TotpSecret::generate().to_base32(),
        recovery_codes: totp::generate_recovery_codes(RECOVERY_CODES),
    };
    let token = tokens::generate();
    let body = serde_json::to_string(&pending).map_err(AppError::internal)?;
    // The pending secret is sealed too: Redis holds nothing usable in clear.
    let sealed = state
        .settings
        .keyring
        .seal(body.as_bytes(), &format!("staff.enrolment:{}", row.id));
    let mut conn = state.kv.conn().await?;
    let _: () = conn
        .set_ex(
            enrolment_key(state, &token),
            format!("{}|{sealed}", row.id),
            ENROLMENT_TTL.as_secs(),
        )
        .await?;
    Ok(token)
}

async fn load_enrolment(state: &Core, token: &str) -> AppResult<PendingEnrolment> {
    use redis::AsyncCommands;
    let expired = || AppError::from(Code::EnrolmentExpired);
    if !tokens::well_formed(token) {
        return Err(expired());
    }
    let mut conn = state.kv.conn().await?;
    let raw: Option<String> = conn.get(enrolment_key(state, token)).await?;
    let raw = raw.ok_or_else(expired)?;
    let (staff_id, sealed) = raw.split_once('|').ok_or_else(expired)?;
    let body = state
        .settings
        .keyring
        .open(sealed, &format!("staff.enrolment:{staff_id}"))
        .map_err(|_| expired())?;
    serde_json::from_slice(&body).map_err(|_| expired())
}

/// What the enrolment page shows.
pub async fn enrolment(state: &Core, token: &str) -> AppResult<Enrolment> {
    let pending = load_enrolment(state, token).await?;
    let mut conn = state.db.get().await?;
    let row = staff::find(&mut conn, pending.staff_id).await?;
    let secret = TotpSecret::from_base32(&pending.secret_base32)
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
    Ok(Enrolment {
        uri: totp::provisioning_uri(
            &secret,
            TOTP_ISSUER,
            &format!("{}@{}", row.username, row.agency_code),
        ),
        secret_base32: pending.secret_base32,
        recovery_codes: pending.recovery_codes,
    })
}

/// Finishes enrolment with a code from the newly set-up authenticator; signs in.
pub async fn finish_enrolment(
    state: &Identity,
    token: &str,
    code: &str,
    client: &ClientInfo,
) -> AppResult<String> {
    use redis::AsyncCommands;
    let pending = load_enrolment(state, token).await?;
    let secret = TotpSecret::from_base32(&pending.secret_base32)
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
    let now = state.clock.now();
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(step) = totp::verify(
        &secret,
        &digits,
        u64::try_from(now.timestamp()).unwrap_or(0),
        None,
    ) else {
        return Err(AppError::from(Code::ValidationFailed).with_detail("Mã xác thực không đúng. Hãy nhập mã 6 chữ số đang hiển thị trong ứng dụng xác thực.")
            .with_field("totp", "totp_invalid", "Mã xác thực không đúng."));
    };
    let sealed = seal_totp_secret(state, pending.staff_id, &secret);
    let hashes: Vec<Vec<u8>> = pending
        .recovery_codes
        .iter()
        .map(|c| tokens::hash(c))
        .collect();
    let mut conn = state.db.get().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |c| {
            if !staff::enrol(
                c,
                pending.staff_id,
                &sealed,
                i64::try_from(step).unwrap_or(i64::MAX),
                now,
            )
            .await?
            {
                return Err(AppError::from(Code::AlreadyEnrolled));
            }
            staff::insert_recovery_codes(c, pending.staff_id, &hashes).await?;
            let row = staff::find(c, pending.staff_id).await?;
            staff_events::record(
                c,
                &doer(&row, client),
                Entry::plain(StaffEvent::Enrolled),
                now,
            )
            .await?;
            Ok(row)
        })
        .await?;
    let mut kv = state.kv.conn().await?;
    let _: () = kv.del(enrolment_key(state, token)).await?;
    open_session(state, &row, client, &[Method::Pwd, Method::Otp]).await
}

async fn check_second_factor(
    state: &Core,
    row: &staff::StaffRow,
    input: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let mut conn = state.db.get().await?;
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
        let Some(secret) = open_totp_secret(state, row) else {
            return Ok(false);
        };
        let at = u64::try_from(now.timestamp()).unwrap_or(0);
        let last = row.totp_last_step.and_then(|s| u64::try_from(s).ok());
        return match totp::verify(&secret, &digits, at, last) {
            Some(step) => Ok(staff::accept_totp_step(
                &mut conn,
                row.id,
                i64::try_from(step).unwrap_or(i64::MAX),
            )
            .await?),
            None => Ok(false),
        };
    }
    match totp::normalize_recovery_code(input) {
        Some(code) => {
            Ok(staff::use_recovery_code(&mut conn, row.id, &tokens::hash(&code), now).await?)
        }
        None => Ok(false),
    }
}
