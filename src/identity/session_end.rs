//! Ending browser sessions: the sessions go from Redis, and every client
//! that joined one is owed a back-channel logout notice, queued through the
//! outbox in one transaction (the provider delivers it, signed at delivery
//! time, with retries).

use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::{
    domain::AccountId,
    error::{AppError, AppResult},
    identity::{Identity, sessions::Session},
    infra::Core,
    notify::{Job, enqueue},
    storage::oidc as store,
};

/// Ends every browser session of `account` (but `keep`, the caller's own)
/// and tells the clients that joined them (back-channel logout). Called
/// after the transaction that made the change has committed: sessions live
/// in Redis.
pub async fn end_sessions(
    state: &Identity,
    account: AccountId,
    keep: Option<&str>,
) -> AppResult<()> {
    let ended = state
        .sessions
        .revoke_all(&account.to_string(), keep)
        .await?;
    sessions_ended(state, &ended).await?;
    Ok(())
}

/// Queues a logout notice for every client that joined session `sid`
/// (inside the caller's transaction). Returns how many were queued.
pub async fn session_ended(
    conn: &mut AsyncPgConnection,
    sid: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<usize> {
    let joined = store::take_session_clients(conn, sid).await?;
    for (client_id, account_id) in &joined {
        enqueue(
            conn,
            now,
            &Job::BackchannelLogout {
                client_id: client_id.clone(),
                sid: sid.to_owned(),
                account_id: *account_id,
            },
        )
        .await?;
    }
    Ok(joined.len())
}

/// Queues the logout notices of browser sessions that just ended.
pub async fn sessions_ended(state: &Core, ended: &[Session]) -> AppResult<usize> {
    if ended.is_empty() {
        return Ok(0);
    }
    let now = state.clock.now();
    let sids: Vec<String> = ended.iter().map(Session::sid).collect();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let mut n = 0;
        for sid in &sids {
            n += session_ended(c, sid, now).await?;
        }
        Ok(n)
    })
    .await
}
