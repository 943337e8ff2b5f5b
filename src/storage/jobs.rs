//! The `jobs` and `job_attempts` tables: enqueue, claim, finish.

use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Integer, Interval, Jsonb, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{job_attempts, jobs};
use crate::domain::outbox::{AttemptOutcome, JobState};

/// A job to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = jobs)]
pub struct NewJob<'a> {
    /// The job kind (its handler).
    pub kind: &'a str,
    /// The handler's arguments.
    pub payload: serde_json::Value,
    /// Deduplication key: a second queued job with the same kind and key is not inserted.
    pub dedup_key: Option<&'a str>,
    /// Attempts before the job is dead.
    pub max_attempts: i32,
    /// When it may run first.
    pub run_at: DateTime<Utc>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
}

/// Inserts a job; returns its id, or `None` when a job with the same dedup key is pending.
pub async fn insert(conn: &mut AsyncPgConnection, job: &NewJob<'_>) -> QueryResult<Option<i64>> {
    diesel::insert_into(jobs::table)
        .values(job)
        .on_conflict_do_nothing()
        .returning(jobs::id)
        .get_result(conn)
        .await
        .optional()
}

/// A job a worker has claimed.
#[derive(Debug, Clone, QueryableByName)]
pub struct ClaimedJob {
    /// Its id.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// Its kind.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// Its arguments.
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
    /// The number of this attempt (1 for the first).
    #[diesel(sql_type = Integer)]
    pub attempt: i32,
    /// The attempts allowed.
    #[diesel(sql_type = Integer)]
    pub max_attempts: i32,
    /// Set when the previous holder's lease ran out (it died mid-job).
    #[diesel(sql_type = Nullable<Text>)]
    pub abandoned_by: Option<String>,
    /// When the previous holder's lease ran out.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub abandoned_at: Option<DateTime<Utc>>,
}

/// Claims up to `limit` due jobs for `worker` until `now + lease`.
///
/// Due means queued with `run_at <= now`, or running under a lease that ran
/// out (its worker died). `SKIP LOCKED` lets any number of workers claim at
/// once without waiting on or double-claiming each other's rows.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    worker: &str,
    now: DateTime<Utc>,
    lease: std::time::Duration,
    limit: i64,
) -> QueryResult<Vec<ClaimedJob>> {
    let lease = diesel::pg::data_types::PgInterval::from_microseconds(
        i64::try_from(lease.as_micros()).unwrap_or(i64::MAX),
    );
    diesel::sql_query(
        "WITH due AS ( \
             SELECT id, state, locked_by, locked_until FROM jobs \
             WHERE (state = 'queued' AND run_at <= $1) \
                OR (state = 'running' AND locked_until < $1) \
             ORDER BY run_at, id \
             LIMIT $2 \
             FOR UPDATE SKIP LOCKED \
         ) \
         UPDATE jobs AS j SET state = 'running', attempts = j.attempts + 1, \
                locked_by = $3, locked_until = $1 + $4 \
         FROM due WHERE j.id = due.id \
         RETURNING j.id, j.kind, j.payload, j.attempts AS attempt, j.max_attempts, \
                CASE WHEN due.state = 'running' THEN due.locked_by END AS abandoned_by, \
                CASE WHEN due.state = 'running' THEN due.locked_until END AS abandoned_at",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<BigInt, _>(limit)
    .bind::<Text, _>(worker)
    .bind::<Interval, _>(lease)
    .load(conn)
    .await
}

/// One attempt's record.
#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = job_attempts)]
pub struct AttemptRow {
    /// The job.
    pub job_id: i64,
    /// The attempt number.
    pub attempt: i32,
    /// The worker that made it.
    pub worker: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// How the attempt ended.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub outcome: AttemptOutcome,
    /// The response or error.
    pub detail: String,
}

/// Records an attempt.
pub async fn record_attempt(conn: &mut AsyncPgConnection, row: &AttemptRow) -> QueryResult<()> {
    diesel::insert_into(job_attempts::table)
        .values(row.clone())
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(drop)
}

/// Marks a claimed job done. Returns false when `worker` no longer holds it.
pub async fn mark_done(
    conn: &mut AsyncPgConnection,
    id: i64,
    worker: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(
        jobs::table
            .filter(jobs::id.eq(id))
            .filter(jobs::state.eq(JobState::Running.as_str()))
            .filter(jobs::locked_by.eq(worker)),
    )
    .set((
        jobs::state.eq(JobState::Done.as_str()),
        jobs::locked_by.eq(None::<String>),
        jobs::locked_until.eq(None::<DateTime<Utc>>),
        jobs::last_error.eq(None::<String>),
        jobs::finished_at.eq(now),
    ))
    .execute(conn)
    .await
    .map(|n| n == 1)
}

/// Puts a failed job back in the queue until `retry_at`, or marks it dead when `retry_at` is `None`.
pub async fn mark_failed(
    conn: &mut AsyncPgConnection,
    id: i64,
    worker: &str,
    now: DateTime<Utc>,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> QueryResult<bool> {
    let target = jobs::table
        .filter(jobs::id.eq(id))
        .filter(jobs::state.eq(JobState::Running.as_str()))
        .filter(jobs::locked_by.eq(worker));
    let common = (
        jobs::locked_by.eq(None::<String>),
        jobs::locked_until.eq(None::<DateTime<Utc>>),
        jobs::last_error.eq(error),
    );
    let n = match retry_at {
        Some(at) => {
            diesel::update(target)
                .set((
                    common,
                    jobs::state.eq(JobState::Queued.as_str()),
                    jobs::run_at.eq(at),
                ))
                .execute(conn)
                .await?
        }
        None => {
            diesel::update(target)
                .set((
                    common,
                    jobs::state.eq(JobState::Dead.as_str()),
                    jobs::finished_at.eq(now),
                ))
                .execute(conn)
                .await?
        }
    };
    Ok(n == 1)
}

/// Hands back jobs a stopping worker claimed but did not finish, undoing their attempt count.
pub async fn release(
    conn: &mut AsyncPgConnection,
    worker: &str,
    ids: &[i64],
) -> QueryResult<usize> {
    diesel::update(
        jobs::table
            .filter(jobs::id.eq_any(ids))
            .filter(jobs::state.eq(JobState::Running.as_str()))
            .filter(jobs::locked_by.eq(worker)),
    )
    .set((
        jobs::state.eq(JobState::Queued.as_str()),
        jobs::attempts.eq(jobs::attempts - 1),
        jobs::locked_by.eq(None::<String>),
        jobs::locked_until.eq(None::<DateTime<Utc>>),
    ))
    .execute(conn)
    .await
}

/// Number of jobs per state, without the finished ones (`done`).
pub async fn depth(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(JobState, i64)>> {
    let rows: Vec<(String, i64)> = jobs::table
        .filter(jobs::state.ne(JobState::Done.as_str()))
        .group_by(jobs::state)
        .select((jobs::state, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(state, n)| Ok((typed(state)?, n)))
        .collect()
}

/// A stored state the CHECK constraint allows but this build does not know
/// is a deserialization error, not a silent default.
fn typed(state: String) -> QueryResult<JobState> {
    JobState::try_from(state).map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

/// Puts dead jobs (of one kind, or all) back in the queue with a fresh set of attempts.
pub async fn requeue_dead(
    conn: &mut AsyncPgConnection,
    kind: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let mut query = diesel::update(jobs::table)
        .filter(jobs::state.eq(JobState::Dead.as_str()))
        .into_boxed();
    if let Some(kind) = kind {
        query = query.filter(jobs::kind.eq(kind));
    }
    query
        .set((
            jobs::state.eq(JobState::Queued.as_str()),
            jobs::attempts.eq(0),
            jobs::run_at.eq(now),
            jobs::finished_at.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await
}

/// The attempts made at a job, oldest first.
pub async fn attempts_of(
    conn: &mut AsyncPgConnection,
    job_id: i64,
) -> QueryResult<Vec<AttemptRow>> {
    job_attempts::table
        .filter(job_attempts::job_id.eq(job_id))
        .order(job_attempts::attempt)
        .select(AttemptRow::as_select())
        .load(conn)
        .await
}

/// A job's state and attempt count.
pub async fn state_of(conn: &mut AsyncPgConnection, job_id: i64) -> QueryResult<(JobState, i32)> {
    let (state, attempts): (String, i32) = jobs::table
        .find(job_id)
        .select((jobs::state, jobs::attempts))
        .first(conn)
        .await?;
    Ok((typed(state)?, attempts))
}
