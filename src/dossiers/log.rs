//! The progress log: append-only, each row hash-chained to the previous
//! one, and the check that recomputes the chain.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::infra::Core;
use crate::{
    domain::dossier::{self, EventDigest, Status},
    error::AppResult,
    storage::dossiers::{self as store, EventRow},
};

/// What a progress-log row says.
pub(super) struct LogLine<'a> {
    pub(super) at: DateTime<Utc>,
    pub(super) actor_kind: &'a str,
    pub(super) actor_id: Option<Uuid>,
    pub(super) action: &'a str,
    pub(super) from: Option<Status>,
    pub(super) to: Option<Status>,
    pub(super) note: Option<&'a str>,
    pub(super) visible: bool,
}

/// Appends a progress-log row, chained to the previous one.
#[allow(clippy::too_many_arguments)]
pub(super) async fn log(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    at: DateTime<Utc>,
    actor_kind: &str,
    actor_id: Option<Uuid>,
    action: &str,
    from: Option<Status>,
    to: Option<Status>,
    note: Option<&str>,
    visible: bool,
) -> AppResult<()> {
    let last = store::last_event(conn, dossier).await?;
    append_after(
        conn,
        dossier,
        last,
        LogLine {
            at,
            actor_kind,
            actor_id,
            action,
            from,
            to,
            note,
            visible,
        },
    )
    .await
    .map(drop)
}

/// Appends a row after `last` (the previous row's seq and hash, none for a
/// new dossier's first row), known to the caller; returns the new row's.
pub(super) async fn append_after(
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
    last: Option<(i32, Vec<u8>)>,
    line: LogLine<'_>,
) -> AppResult<(i32, Vec<u8>)> {
    let (seq, previous) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, Vec::new()),
    };
    let digest = EventDigest {
        dossier_id: dossier,
        seq,
        at: line.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        actor_kind: line.actor_kind,
        actor_id: line.actor_id,
        action: line.action,
        from_status: line.from.map(Status::as_str),
        to_status: line.to.map(Status::as_str),
        note: line.note,
        visible: line.visible,
    };
    let hash = dossier::chain_hash(&previous, &digest);
    store::append_event(
        conn,
        &EventRow {
            dossier_id: dossier,
            seq,
            at: line.at,
            actor_kind: line.actor_kind.to_owned(),
            actor_id: line.actor_id,
            action: line.action.to_owned(),
            from_status: line.from.map(|s| s.as_str().to_owned()),
            to_status: line.to.map(|s| s.as_str().to_owned()),
            note: line.note.map(str::to_owned),
            visible: line.visible,
            hash: hash.clone(),
        },
    )
    .await?;
    // The national portal and the webhook subscribers hear of it in this
    // same transaction (delivered by the outbox after the commit).
    let event = crate::integrations::LoggedEvent {
        dossier_id: dossier,
        seq,
        at: line.at,
        action: line.action,
        from: line.from,
        to: line.to,
        visible: line.visible,
    };
    crate::integrations::dossier_logged(conn, &event).await?;
    Ok((seq, hash))
}

/// Checks a dossier's log chain; returns the first broken row's seq, if any.
pub async fn verify_log(state: &Core, id: Uuid) -> AppResult<Option<i32>> {
    let mut conn = state.db.get().await?;
    let rows = store::events(&mut conn, id, false).await?;
    let mut previous: Vec<u8> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let expected_seq = i32::try_from(i + 1).unwrap_or(i32::MAX);
        let digest = EventDigest {
            dossier_id: row.dossier_id,
            seq: row.seq,
            at: row.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            actor_kind: &row.actor_kind,
            actor_id: row.actor_id,
            action: &row.action,
            from_status: row.from_status.as_deref(),
            to_status: row.to_status.as_deref(),
            note: row.note.as_deref(),
            visible: row.visible,
        };
        if row.seq != expected_seq || dossier::chain_hash(&previous, &digest) != row.hash {
            return Ok(Some(expected_seq));
        }
        previous.clone_from(&row.hash);
    }
    Ok(None)
}

/// Checks the log chains of one dossier or of all; returns how many were
/// checked and the broken ones with the first bad row.
pub async fn verify_logs(state: &Core, only: Option<Uuid>) -> AppResult<(usize, Vec<(Uuid, i32)>)> {
    let mut broken = Vec::new();
    if let Some(id) = only {
        if let Some(seq) = verify_log(state, id).await? {
            broken.push((id, seq));
        }
        return Ok((1, broken));
    }
    let mut checked = 0;
    let mut after = None;
    loop {
        let ids = {
            let mut conn = state.db.get().await?;
            store::ids_after(&mut conn, after, 1000).await?
        };
        let Some(last) = ids.last().copied() else {
            return Ok((checked, broken));
        };
        for id in ids {
            checked += 1;
            if let Some(seq) = verify_log(state, id).await? {
                broken.push((id, seq));
            }
        }
        after = Some(last);
    }
}
