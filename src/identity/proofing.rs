//! Binding a proven person to the account of their national ID, for both
//! proofs we accept: a receiver's check of the chip ID card at the counter and
//! a VNeID sign-in. The rules are in `domain::proofing`; this applies them in
//! the caller's transaction, so the proof, the replacement of a claimant and
//! the end of the claimant's access commit together or not at all.

use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use crate::identity::Identity;
use crate::{
    domain::{
        AccountId, EmailAddress, NationalId, PersonName, Sex,
        proofing::{self, Binding, Holder, HolderStatus, Recognised},
    },
    error::{AppError, AppResult, ErrorKind},
    identity::{ClientInfo, audit},
    storage::{
        accounts::{self, AccountRow},
        oidc as oidc_store,
    },
};

/// The identity a proof establishes (from VNeID's claims, or read off the
/// card by the receiver).
#[derive(Debug, Clone)]
pub struct ProvenIdentity {
    /// National ID.
    pub national_id: NationalId,
    /// Full name.
    pub full_name: PersonName,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Sex.
    pub sex: Sex,
}

/// How the person was proven.
#[derive(Debug, Clone)]
pub enum ProofMethod {
    /// A VNeID sign-in (the upstream issuer).
    Vneid {
        /// The issuer.
        issuer: String,
    },
    /// A receiver checked the chip ID card.
    Counter {
        /// The receiver.
        staff_id: Uuid,
        /// Their agency.
        agency_code: String,
        /// What they checked.
        evidence: String,
    },
}

impl ProofMethod {
    fn code(&self) -> &'static str {
        match self {
            Self::Vneid { .. } => "vneid",
            Self::Counter { .. } => "counter",
        }
    }
}

/// A proof to bind.
#[derive(Debug, Clone)]
pub struct Proof {
    /// The national ID proven.
    pub national_id: NationalId,
    /// Who was proven, when the proof says (VNeID's claims, or the card as
    /// read by a receiver replacing an account). Without it, a binding that
    /// needs it (a new or replaced account) is refused as stale.
    pub identity: Option<ProvenIdentity>,
    /// How.
    pub method: ProofMethod,
    /// Whether the proven person recognised the account's contact details.
    pub recognised: Recognised,
    /// The account the receiver was shown, when they were shown one: if the
    /// holder changed since, the check is refused rather than applied to an
    /// account nobody looked at.
    pub expected_account: Option<Uuid>,
}

/// What a proof did.
#[derive(Debug)]
pub struct Bound {
    /// The account the proven person now holds.
    pub account: AccountRow,
    /// What happened to the account that held the ID.
    pub binding: Binding,
    /// The verified address of a claimant who was replaced, to tell them.
    pub replaced_email: Option<EmailAddress>,
    /// Whether sessions opened before the proof must end (the level or the
    /// person behind the account changed).
    pub end_sessions: bool,
}

fn holder_of(row: &AccountRow) -> AppResult<Holder> {
    let status = HolderStatus::parse(&row.status)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown account status")))?;
    Ok(Holder {
        level: row.assurance_level,
        status,
    })
}

fn locked() -> AppError {
    AppError::new(ErrorKind::Forbidden, "account_disabled")
        .with_detail("Tài khoản đã bị khóa. Vui lòng liên hệ bộ phận hỗ trợ.")
}

/// The account holding `national_id`, locked for this transaction.
pub async fn holder(
    c: &mut AsyncPgConnection,
    national_id: &NationalId,
) -> AppResult<Option<AccountRow>> {
    match accounts::find_by_national_id(c, national_id.as_str()).await? {
        Some(row) => Ok(Some(accounts::find_for_update(c, row.id).await?)),
        None => Ok(None),
    }
}

async fn create(
    c: &mut AsyncPgConnection,
    identity: &ProvenIdentity,
    now: DateTime<Utc>,
) -> AppResult<Option<AccountRow>> {
    let row = AccountRow {
        id: AccountId::generate().as_uuid(),
        national_id: identity.national_id.as_str().to_owned(),
        full_name: identity.full_name.as_str().to_owned(),
        date_of_birth: identity.date_of_birth,
        sex: identity.sex.as_str().to_owned(),
        email: None,
        email_verified_at: None,
        phone: None,
        password_hash: None,
        password_changed_at: None,
        assurance_level: 2,
        status: "active".into(),
        created_at: now,
        updated_at: now,
        phone_verified_at: None,
    };
    Ok(accounts::insert(c, &row).await?.then_some(row))
}

/// Ends everything a claimant held on an account and gives it to the proven
/// person: credentials (password, passkeys), devices, consents and
/// refresh-token families go in
/// this transaction (sessions, in Redis, right after it commits).
async fn clear_claimant(
    c: &mut AsyncPgConnection,
    account: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    accounts::clear_claimant_credentials(c, account, now).await?;
    // A squatter's passkey would outlive the password: it goes too.
    crate::storage::passkeys::delete_all(c, crate::storage::passkeys::Owner::Account(account))
        .await?;
    oidc_store::revoke_account_refresh_tokens(c, account, now).await?;
    oidc_store::forget_account_consents(c, account).await?;
    Ok(())
}

/// Binds the proven person to their national ID (see `domain::proofing`) in
/// the caller's transaction, records the proof and audits what happened.
pub async fn bind(
    c: &mut AsyncPgConnection,
    proof: &Proof,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> AppResult<Bound> {
    let identity = proof.identity.as_ref();
    let mut replaced_email = None;
    // Two rounds at most: a concurrent creator may win the national ID's
    // uniqueness race, and then the winner is the holder.
    let mut attempt = 0;
    let (account, binding) = loop {
        attempt += 1;
        let existing = holder(c, &proof.national_id).await?;
        if let (Some(expected), Some(row)) = (proof.expected_account, &existing)
            && expected != row.id
        {
            return Err(holder_changed());
        }
        let binding = match &existing {
            Some(row) => proofing::decide(Some(holder_of(row)?), proof.recognised),
            None => proofing::decide(None, proof.recognised),
        };
        match (binding, existing) {
            (Binding::Create, _) => {
                match create(c, identity.ok_or_else(holder_changed)?, now).await? {
                    Some(row) => break (row, binding),
                    None if attempt < 2 => continue,
                    None => return Err(holder_changed()),
                }
            }
            (Binding::ReplacePending, Some(row)) => {
                // A registration filed at the counter for it keeps it in
                // place: then it is cleared like an account in use.
                let deleted = c
                    .transaction::<_, diesel::result::Error, _>(async |sp| {
                        accounts::delete_pending(sp, row.id).await
                    })
                    .await
                    .unwrap_or(false);
                let identity = identity.ok_or_else(holder_changed)?;
                if deleted {
                    match create(c, identity, now).await? {
                        Some(created) => break (created, binding),
                        None if attempt < 2 => continue,
                        None => return Err(holder_changed()),
                    }
                }
                clear_claimant(c, row.id, now).await?;
                break (row, Binding::ClearAndRaise);
            }
            (Binding::ClearAndRaise, Some(row)) => {
                identity.ok_or_else(holder_changed)?;
                replaced_email = crate::identity::verified_email(&row);
                clear_claimant(c, row.id, now).await?;
                break (row, binding);
            }
            (Binding::RefuseLocked, _) => return Err(locked()),
            (Binding::Raise | Binding::AlreadyProven, Some(row)) => break (row, binding),
            (_, None) => return Err(holder_changed()),
        }
    };
    let id = account.id;
    if matches!(binding, Binding::Raise | Binding::ClearAndRaise) {
        accounts::raise_to_level_2(c, id, now).await?;
    }
    // VNeID's claims and the card read by a receiver are authoritative for the
    // person's identity; a kept account keeps what the person recognised.
    if let Some(identity) = identity
        && (matches!(binding, Binding::ClearAndRaise)
            || (matches!(proof.method, ProofMethod::Vneid { .. }) && binding != Binding::Create))
    {
        accounts::update_identity(
            c,
            id,
            identity.full_name.as_str(),
            identity.date_of_birth,
            identity.sex.as_str(),
            now,
        )
        .await?;
    }
    // Every VNeID sign-in proves the person again; only the first one that
    // bound them is a proof worth recording (the sign-in is audited anyway).
    let repeat_sign_in =
        binding == Binding::AlreadyProven && matches!(proof.method, ProofMethod::Vneid { .. });
    if !repeat_sign_in {
        record_proof(c, proof, binding, id, client, now).await?;
    }
    Ok(Bound {
        account: accounts::find(c, id).await?,
        binding,
        replaced_email,
        end_sessions: matches!(binding, Binding::Raise | Binding::ClearAndRaise),
    })
}

/// Records who proved the person, how and when, and the account's audit event.
async fn record_proof(
    c: &mut AsyncPgConnection,
    proof: &Proof,
    binding: Binding,
    id: Uuid,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (verified_by, agency_code, evidence) = match &proof.method {
        ProofMethod::Vneid { issuer } => (None, None, Some(issuer.as_str())),
        ProofMethod::Counter {
            staff_id,
            agency_code,
            evidence,
        } => (
            Some(*staff_id),
            Some(agency_code.as_str()),
            Some(evidence.as_str()),
        ),
    };
    accounts::insert_verification(
        c,
        &accounts::NewVerification {
            id: Uuid::now_v7(),
            account_id: id,
            method: proof.method.code(),
            verified_by,
            agency_code,
            evidence,
            created_at: now,
        },
    )
    .await?;
    let event = match binding {
        Binding::Create | Binding::ReplacePending => "registered_with_proof",
        Binding::ClearAndRaise => "identity_reclaimed",
        Binding::Raise => "level_raised",
        Binding::AlreadyProven | Binding::RefuseLocked => "identity_verified",
    };
    audit::record(
        c,
        AccountId::from(id),
        event,
        client,
        serde_json::json!({ "method": proof.method.code(), "level": 2 }),
        now,
    )
    .await?;
    Ok(())
}

fn holder_changed() -> AppError {
    AppError::new(ErrorKind::Conflict, "account_changed").with_detail(
        "Tài khoản của số định danh này vừa thay đổi. Vui lòng tra cứu và kiểm tra lại với công dân.",
    )
}

/// Ends the sessions opened before a proof that changed the level or the
/// person behind the account (after the transaction committed).
pub async fn end_sessions(state: &Identity, bound: &Bound) -> AppResult<()> {
    if bound.end_sessions {
        crate::identity::end_sessions(state, AccountId::from(bound.account.id), None).await?;
    }
    Ok(())
}
