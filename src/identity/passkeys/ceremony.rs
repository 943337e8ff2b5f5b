//! The two ceremonies: registering a passkey and signing in with one.

use serde_json::Value;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential,
};

use super::{
    MAX_PER_OWNER, OwnerRef, Pending, Purpose, check_sizes, invalid_assertion,
    invalid_registration, put_pending, relying_party, take_pending,
};
use crate::error::Code;
use crate::identity::Identity;
use crate::infra::Core;
use crate::{
    domain::{AccountId, assurance::Method},
    error::{AppError, AppResult},
    identity::{ClientInfo, throttle},
    storage::passkeys::{self as store, Owner, PasskeyRow},
};

/// Starts registering a passkey for `owner` (shown to the authenticator as
/// `user_name` / `display_name`), bound to the browser secret `binding`.
/// Returns the challenge id and the creation options for
/// `navigator.credentials.create` (a discoverable credential, user
/// verification required, the owner's passkeys excluded).
pub async fn start_registration(
    state: &Identity,
    owner: Owner,
    user_name: &str,
    display_name: &str,
    binding: &str,
) -> AppResult<(String, Value)> {
    let rp = relying_party(state)?;
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let existing = store::list(&mut conn, owner).await?;
    if i64::try_from(existing.len()).unwrap_or(i64::MAX) >= MAX_PER_OWNER {
        return Err(AppError::from(Code::PasskeyLimit).with_detail(format!(
            "Mỗi tài khoản có tối đa {MAX_PER_OWNER} passkey. Hãy gỡ một passkey không dùng nữa trước."
        )));
    }
    let handle = store::handle_for(&mut conn, owner, now).await?;
    drop(conn);
    let exclude = existing
        .iter()
        .map(|p| p.credential_id.clone())
        .collect::<Vec<_>>();
    let (options, registration) = rp
        .webauthn()
        .start_passkey_registration(handle, user_name, display_name, Some(exclude))
        .map_err(AppError::internal)?;
    let mut options = serde_json::to_value(&options).map_err(AppError::internal)?;
    // A passkey signs in without a name typed: ask for a discoverable
    // credential (the library's passkey options leave it to the device).
    if let Some(selection) = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(Value::as_object_mut)
    {
        selection.insert("residentKey".into(), Value::from("required"));
        selection.insert("requireResidentKey".into(), Value::from(true));
    }
    let id = put_pending(
        state,
        &Pending {
            purpose: Purpose::Register {
                owner: owner.into(),
            },
            binding: crate::crypto::tokens::hash_hex(binding),
            state: serde_json::to_value(&registration).map_err(AppError::internal)?,
            created_at: now,
        },
    )
    .await?;
    Ok((id, options))
}

/// Checks a registration answer from the client at `ip`, throttled like
/// sign-ins: a locked address is refused, and a forged or malformed answer
/// counts with the address's failed sign-ins.
pub async fn finish_registration(
    state: &Identity,
    owner: Owner,
    binding: &str,
    challenge_id: &str,
    name: &str,
    credential: &Value,
    ip: &str,
) -> AppResult<PasskeyRow> {
    if let Some(wait) = state.throttle.locked_for(&throttle::SIGN_IN_IP, ip).await? {
        return Err(throttle::sign_in_locked(wait));
    }
    let checked = check_registration(state, owner, binding, challenge_id, name, credential).await;
    if let Err(e) = &checked
        && matches!(e.code(), Code::PasskeyInvalid | Code::PasskeyRefused)
    {
        state.throttle.fail(&throttle::SIGN_IN_IP, ip).await?;
    }
    checked
}

/// Verifies a registration for `owner` against the stored challenge (taken
/// once). Returns the row to store with [`store_new`].
async fn check_registration(
    state: &Identity,
    owner: Owner,
    binding: &str,
    challenge_id: &str,
    name: &str,
    credential: &Value,
) -> AppResult<PasskeyRow> {
    let rp = relying_party(state)?;
    check_sizes(credential, true)?;
    let pending = take_pending(state, challenge_id, binding).await?;
    if pending.purpose
        != (Purpose::Register {
            owner: owner.into(),
        })
    {
        return Err(super::challenge_expired());
    }
    let registration: PasskeyRegistration =
        serde_json::from_value(pending.state).map_err(AppError::internal)?;
    let response: RegisterPublicKeyCredential = serde_json::from_value(credential.clone())
        .map_err(|_| invalid_registration("malformed response"))?;
    let passkey = rp
        .webauthn()
        .finish_passkey_registration(&response, &registration)
        .map_err(|e| invalid_registration(&e.to_string()))?;
    let now = state.clock.now();
    let stored = serde_json::to_value(&passkey).map_err(AppError::internal)?;
    let synced = stored
        .pointer("/cred/backup_eligible")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut conn = state.db.get().await?;
    let handle = store::handle_for(&mut conn, owner, now).await?;
    let row = PasskeyRow {
        id: uuid::Uuid::now_v7(),
        user_handle: handle,
        credential_id: passkey.cred_id().to_vec(),
        name: name.to_owned(),
        credential: stored,
        sign_count: i64::from(counter_of(&passkey)),
        synced,
        created_at: now,
        last_used_at: None,
    };
    Ok(row)
}

/// In the caller's transaction: stores a verified passkey, unless the owner
/// is at the limit or its credential id is registered already (to anyone).
pub async fn store_new(
    c: &mut diesel_async::AsyncPgConnection,
    owner: Owner,
    row: &PasskeyRow,
) -> AppResult<()> {
    if store::count(c, owner).await? >= MAX_PER_OWNER {
        return Err(AppError::from(Code::PasskeyLimit));
    }
    if !store::insert(c, row).await? {
        return Err(AppError::from(Code::PasskeyAlreadyRegistered));
    }
    Ok(())
}

fn counter_of(passkey: &Passkey) -> u32 {
    serde_json::to_value(passkey)
        .ok()
        .and_then(|v| v.pointer("/cred/counter").and_then(Value::as_u64))
        .and_then(|c| u32::try_from(c).ok())
        .unwrap_or(0)
}

/// Starts a sign-in: with `expected` an owner, a confirmation that only
/// their passkeys can answer (409 `no_passkey` when they have none);
/// without, any discoverable passkey.
pub async fn start_authentication(
    state: &Identity,
    expected: Option<Owner>,
    binding: &str,
) -> AppResult<(String, Value)> {
    let rp = relying_party(state)?;
    let now = state.clock.now();
    let (mut options, purpose, ceremony) = match expected {
        None => {
            let (options, auth) = rp
                .webauthn()
                .start_discoverable_authentication()
                .map_err(AppError::internal)?;
            let ceremony = serde_json::to_value(&auth).map_err(AppError::internal)?;
            (options, Purpose::SignIn, ceremony)
        }
        Some(owner) => {
            let mut conn = state.db.get().await?;
            let rows = store::list(&mut conn, owner).await?;
            drop(conn);
            let keys = rows
                .iter()
                .filter_map(|r| serde_json::from_value::<Passkey>(r.credential.clone()).ok())
                .collect::<Vec<_>>();
            if keys.is_empty() {
                return Err(AppError::from(Code::NoPasskey));
            }
            let (options, auth) = rp
                .webauthn()
                .start_passkey_authentication(&keys)
                .map_err(AppError::internal)?;
            let ceremony = serde_json::to_value(&auth).map_err(AppError::internal)?;
            (
                options,
                Purpose::Confirm {
                    owner: owner.into(),
                },
                ceremony,
            )
        }
    };
    // A button press, not the autofill prompt.
    options.mediation = None;
    let id = put_pending(
        state,
        &Pending {
            purpose,
            binding: crate::crypto::tokens::hash_hex(binding),
            state: ceremony,
            created_at: now,
        },
    )
    .await?;
    Ok((
        id,
        serde_json::to_value(&options).map_err(AppError::internal)?,
    ))
}

/// A verified passkey sign-in.
#[derive(Debug)]
pub struct Asserted {
    /// Who signed in.
    pub owner: Owner,
    /// `hwk` or `swk`.
    pub method: Method,
    /// The passkey used.
    pub passkey: PasskeyRow,
    /// It answered a confirmation (second step, step-up), not a sign-in.
    pub confirmed: bool,
}

/// The throttle's subject of an owner: a citizen's account shares it with
/// their password sign-ins.
async fn throttle_subject(state: &Core, owner: Owner) -> AppResult<String> {
    Ok(match owner {
        Owner::Account(id) => throttle::account_subject(AccountId::from(id)),
        Owner::Staff(id) => {
            let mut conn = state.db.get().await?;
            let row = crate::storage::staff::find(&mut conn, id).await?;
            format!("staff:{}", row.username.to_lowercase())
        }
    })
}

/// Finishes a sign-in: the stored challenge, the credential's owner (who
/// must be the expected one for a confirmation), the library's checks, and
/// the counter advanced atomically. Failures count like wrong passwords.
pub async fn finish_authentication(
    state: &Identity,
    binding: &str,
    challenge_id: &str,
    credential: &Value,
    client: &ClientInfo,
) -> AppResult<Asserted> {
    let rp = relying_party(state)?;
    let ip = client.ip.clone().unwrap_or_else(|| "-".into());
    if let Some(wait) = state
        .throttle
        .locked_for(&throttle::SIGN_IN_IP, &ip)
        .await?
    {
        return Err(throttle::sign_in_locked(wait));
    }
    check_sizes(credential, false)?;
    let pending = take_pending(state, challenge_id, binding).await?;
    let response: PublicKeyCredential = match serde_json::from_value(credential.clone()) {
        Ok(r) => r,
        Err(_) => return Err(failed(state, &ip, "malformed response").await),
    };
    let mut conn = state.db.get().await?;
    let row = store::find_by_credential(&mut conn, response.get_credential_id()).await?;
    let owner = match &row {
        Some(r) => store::owner_of(&mut conn, r.user_handle).await?,
        None => None,
    };
    drop(conn);
    let (Some(row), Some(owner)) = (row, owner) else {
        return Err(failed(state, &ip, "unknown credential").await);
    };
    let subject = throttle_subject(state, owner).await?;
    if let Some(wait) = state
        .throttle
        .reserve(&throttle::SIGN_IN_ACCOUNT, &subject)
        .await?
    {
        return Err(throttle::sign_in_locked(wait));
    }
    let passkey: Passkey =
        serde_json::from_value(row.credential.clone()).map_err(AppError::internal)?;
    let purpose = pending.purpose.clone();
    let verified = match &pending.purpose {
        Purpose::SignIn => {
            let handle_matches = rp
                .webauthn()
                .identify_discoverable_authentication(&response)
                .is_ok_and(|(handle, _)| handle == row.user_handle);
            if !handle_matches {
                return Err(failed(state, &ip, "user handle mismatch").await);
            }
            let auth: DiscoverableAuthentication =
                serde_json::from_value(pending.state).map_err(AppError::internal)?;
            rp.webauthn()
                .finish_discoverable_authentication_v2(&response, auth, &passkey)
        }
        Purpose::Confirm { owner: expected } if *expected == OwnerRef::from(owner) => {
            let auth: PasskeyAuthentication =
                serde_json::from_value(pending.state).map_err(AppError::internal)?;
            rp.webauthn()
                .finish_passkey_authentication(&response, &auth)
        }
        _ => return Err(failed(state, &ip, "credential of another owner").await),
    };
    let result = match verified {
        Ok(r) if r.user_verified() => r,
        Ok(_) => return Err(failed(state, &ip, "user not verified").await),
        Err(e) => return Err(failed(state, &ip, &e.to_string()).await),
    };
    let mut updated = passkey;
    updated.update_credential(&result);
    let stored = serde_json::to_value(&updated).map_err(AppError::internal)?;
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let advanced =
        store::record_use(&mut conn, row.id, &stored, i64::from(result.counter()), now).await?;
    drop(conn);
    if !advanced {
        // Another use already showed this counter value: a cloned
        // authenticator or a replay that raced the original.
        return Err(failed(state, &ip, "counter did not advance").await);
    }
    state
        .throttle
        .reset(&throttle::SIGN_IN_ACCOUNT, &subject)
        .await?;
    Ok(Asserted {
        owner,
        method: Method::passkey(result.backup_eligible() || row.synced),
        passkey: row,
        confirmed: matches!(purpose, Purpose::Confirm { .. }),
    })
}

/// Counts a failed assertion against the client's address and refuses it.
/// (The owner's counter, when one was identified, was charged by the
/// reservation.)
async fn failed(state: &Identity, ip: &str, why: &str) -> AppError {
    if let Err(e) = state.throttle.fail(&throttle::SIGN_IN_IP, ip).await {
        return e;
    }
    invalid_assertion(why)
}
