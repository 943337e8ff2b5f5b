-- Files attached to dossiers (PDF, JPEG, PNG, recognised by content); the
-- bytes live in the object store under dossiers/{dossier}/{file}, their
-- SHA-256 is checked on every read.
CREATE TABLE dossier_files (
    id             UUID        PRIMARY KEY,
    dossier_id     UUID        NOT NULL REFERENCES dossiers (id),
    name           TEXT        NOT NULL,
    content_type   TEXT        NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size           BIGINT      NOT NULL CHECK (size > 0),
    sha256         BYTEA       NOT NULL,
    -- The catalog's document type it stands for, when the applicant says.
    document_type  TEXT,
    uploaded_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX dossier_files_dossier_idx ON dossier_files (dossier_id, uploaded_at);
