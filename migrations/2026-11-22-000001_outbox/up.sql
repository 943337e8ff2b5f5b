-- The transactional outbox: work caused by a state change is inserted in the
-- same transaction as the change, then run by workers that claim rows with
-- FOR UPDATE SKIP LOCKED (any number of worker processes).
CREATE TABLE jobs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT        NOT NULL,
    payload       JSONB       NOT NULL,
    -- Two queued or running jobs of one kind never share a dedup key.
    dedup_key     TEXT,
    state         TEXT        NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'running', 'done', 'dead')),
    attempts      INTEGER     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts  INTEGER     NOT NULL CHECK (max_attempts > 0),
    run_at        TIMESTAMPTZ NOT NULL,
    locked_by     TEXT,
    locked_until  TIMESTAMPTZ,
    last_error    TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    CHECK ((state = 'running') = (locked_until IS NOT NULL))
);

-- Workers look only at due queued jobs and at running jobs whose lease ran out.
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_lease_idx ON jobs (locked_until) WHERE state = 'running';
CREATE INDEX jobs_dead_idx ON jobs (kind, finished_at) WHERE state = 'dead';
CREATE UNIQUE INDEX jobs_dedup_idx ON jobs (kind, dedup_key)
    WHERE dedup_key IS NOT NULL AND state IN ('queued', 'running');

-- Every attempt at a job, with its outcome (an SMTP response, an error).
CREATE TABLE job_attempts (
    job_id       BIGINT      NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt      INTEGER     NOT NULL,
    worker       TEXT        NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ NOT NULL,
    outcome      TEXT        NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'abandoned')),
    detail       TEXT        NOT NULL,
    PRIMARY KEY (job_id, attempt)
);

-- Outgoing email, rendered when the event happens; delivered by a job.
CREATE TABLE emails (
    id             UUID        PRIMARY KEY,
    message_id     TEXT        NOT NULL UNIQUE,
    recipient      TEXT        NOT NULL,
    -- The account the message concerns (for its notifications list); set by later features.
    account_id     UUID,
    template       TEXT        NOT NULL,
    subject        TEXT        NOT NULL,
    -- Bodies of messages that carry secrets (sign-in links) are erased once delivered.
    body_text      TEXT,
    body_html      TEXT,
    sensitive      BOOLEAN     NOT NULL DEFAULT FALSE,
    status         TEXT        NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'retrying', 'sent', 'failed')),
    attempts       INTEGER     NOT NULL DEFAULT 0,
    last_response  TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    sent_at        TIMESTAMPTZ
);

CREATE INDEX emails_account_idx ON emails (account_id, created_at DESC, id)
    WHERE account_id IS NOT NULL;
