-- Overdue dossiers: the office drafts an apology letter with a new
-- appointment date, an approver approves it, the applicant is emailed.
CREATE TABLE apology_letters (
    id           UUID        PRIMARY KEY,
    dossier_id   UUID        NOT NULL UNIQUE REFERENCES dossiers (id),
    agency_code  TEXT        NOT NULL REFERENCES agencies (code),
    -- The due date that was missed.
    missed_due   TIMESTAMPTZ NOT NULL,
    -- The new appointment date proposed (and, once approved, promised).
    new_due      TIMESTAMPTZ NOT NULL,
    reason       TEXT,
    status       TEXT        NOT NULL CHECK (status IN ('drafted', 'approved')),
    drafted_at   TIMESTAMPTZ NOT NULL,
    approved_by  UUID,
    approved_at  TIMESTAMPTZ
);
CREATE INDEX apology_letters_agency_idx ON apology_letters (agency_code, status, drafted_at);
-- Finding dossiers that ran past their due date.
CREATE INDEX dossiers_overdue_idx ON dossiers (due_at) WHERE status IN ('accepted', 'processing');
