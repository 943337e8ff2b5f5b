-- E-dossiers: the applicant's filing of a catalog service at an agency, its
-- status (national codes 0–10), deadline, and an append-only, hash-chained
-- progress log.
CREATE TABLE dossiers (
    id              UUID        PRIMARY KEY,
    service_code    TEXT        NOT NULL REFERENCES services (code),
    agency_code     TEXT        NOT NULL REFERENCES agencies (code),
    applicant_id    UUID        NOT NULL REFERENCES accounts (id),
    -- The business filed for, when the applicant acts for one.
    business_id     UUID        REFERENCES businesses (id),
    status          TEXT        NOT NULL CHECK (status IN ('draft', 'submitted', 'accepted',
                        'refused', 'processing', 'supplement_requested', 'fee_requested',
                        'withdrawn', 'stopped', 'processed', 'returned')),
    status_code     SMALLINT    NOT NULL CHECK (status_code BETWEEN 0 AND 10),
    channel         TEXT        NOT NULL DEFAULT 'online' CHECK (channel IN ('online', 'counter')),
    form_values     JSONB       NOT NULL DEFAULT '{}'::jsonb,
    -- Optimistic concurrency: every change increments it (ETag).
    version         INTEGER     NOT NULL DEFAULT 1,
    receipt_code    TEXT        UNIQUE,
    submitted_at    TIMESTAMPTZ,
    accepted_at     TIMESTAMPTZ,
    due_at          TIMESTAMPTZ,
    -- Set while the clock is paused (supplement requested).
    paused_at       TIMESTAMPTZ,
    decided_at      TIMESTAMPTZ,
    decision        TEXT        CHECK (decision IN ('approved', 'rejected')),
    -- Order in an agency's queue: filed time until taken in, then the due time.
    queue_at        TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
-- "My dossiers", newest first, keyset by (created_at, id).
CREATE INDEX dossiers_applicant_idx ON dossiers (applicant_id, created_at DESC, id DESC);
-- An agency's queue by status and due date.
CREATE INDEX dossiers_queue_idx ON dossiers (agency_code, status, queue_at, id);

-- Receipt numbers per agency per day: the row is locked by the filing
-- transaction, so numbers have no gaps and no duplicates across processes.
CREATE TABLE receipt_counters (
    agency_code  TEXT    NOT NULL REFERENCES agencies (code),
    day          DATE    NOT NULL,
    last         INTEGER NOT NULL,
    PRIMARY KEY (agency_code, day)
);

-- The progress log: one row per transition or notable action, chained by
-- hash; rows are never updated or deleted (a trigger refuses).
CREATE TABLE dossier_events (
    dossier_id   UUID        NOT NULL REFERENCES dossiers (id),
    seq          INTEGER     NOT NULL CHECK (seq >= 1),
    at           TIMESTAMPTZ NOT NULL,
    actor_kind   TEXT        NOT NULL CHECK (actor_kind IN ('applicant', 'staff', 'system')),
    actor_id     UUID,
    action       TEXT        NOT NULL,
    from_status  TEXT,
    to_status    TEXT,
    note         TEXT,
    visible      BOOLEAN     NOT NULL,
    hash         BYTEA       NOT NULL,
    PRIMARY KEY (dossier_id, seq)
);

CREATE FUNCTION dossier_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'dossier_events is append-only';
END;
$$;
CREATE TRIGGER dossier_events_append_only BEFORE UPDATE OR DELETE ON dossier_events
    FOR EACH ROW EXECUTE FUNCTION dossier_events_append_only();

-- Retried requests (Idempotency-Key): the first answer, replayed.
CREATE TABLE idempotency_keys (
    account_id    UUID        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key           TEXT        NOT NULL,
    request_hash  BYTEA       NOT NULL,
    status        SMALLINT    NOT NULL,
    response      JSONB       NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, key)
);
