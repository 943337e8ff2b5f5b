-- The once-only data vault: records and documents of a person or a business,
-- each encrypted under its own data key (AES-256-GCM), the data key sealed
-- under the master key (its id is part of the sealed text, so the master key
-- can rotate: `eservices admin vault rotate-master-key` re-seals them).

-- Which master keys sealed data in this database: a canary per key id, so a
-- process started with the wrong VAULT_MASTER_KEY refuses to start.
CREATE TABLE master_key_checks (
    key_id      TEXT        PRIMARY KEY,
    canary      TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

-- One signing key pair per agency (ECDSA P-256); the private half is sealed.
-- Retired keys stay: results they signed must keep verifying.
CREATE TABLE agency_signing_keys (
    id           UUID        PRIMARY KEY,
    agency_code  TEXT        NOT NULL REFERENCES agencies (code),
    algorithm    TEXT        NOT NULL CHECK (algorithm = 'ES256'),
    -- Uncompressed SEC1 point.
    public_key   BYTEA       NOT NULL,
    private_key  TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    retired_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX agency_signing_keys_active_idx
    ON agency_signing_keys (agency_code) WHERE retired_at IS NULL;

-- Typed data about a subject (a person or a business).
CREATE TABLE vault_records (
    id                  UUID        PRIMARY KEY,
    account_id          UUID        REFERENCES accounts (id),
    business_id         UUID        REFERENCES businesses (id),
    -- `address`, `civil_status`, `identity`, `education`, `business` …:
    -- the part of a vault key before its dot.
    record_type         TEXT        NOT NULL CHECK (record_type ~ '^[a-z][a-z0-9_]{0,39}$'),
    -- The data key, sealed under the master key.
    data_key            TEXT        NOT NULL,
    -- nonce (12 bytes) || AES-256-GCM ciphertext and tag of the JSON payload.
    payload             BYTEA       NOT NULL,
    provenance          TEXT        NOT NULL
        CHECK (provenance IN ('vneid', 'agency', 'counter', 'self_declared')),
    source_agency_code  TEXT,
    source_dossier_id   UUID        REFERENCES dossiers (id),
    verified            BOOLEAN     NOT NULL,
    issued_at           TIMESTAMPTZ NOT NULL,
    valid_until         TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    -- A newer record of the same type and provenance replaced it.
    superseded_at       TIMESTAMPTZ,
    deleted_at          TIMESTAMPTZ,
    CHECK ((account_id IS NULL) <> (business_id IS NULL))
);
CREATE INDEX vault_records_account_idx ON vault_records (account_id, record_type)
    WHERE superseded_at IS NULL AND deleted_at IS NULL;
CREATE INDEX vault_records_business_idx ON vault_records (business_id, record_type)
    WHERE superseded_at IS NULL AND deleted_at IS NULL;

-- Documents: results the city issued (signed by the issuing agency) and, while
-- a dossier awaits its decision, the result a civil servant staged for it.
CREATE TABLE vault_documents (
    id                  UUID        PRIMARY KEY,
    account_id          UUID        REFERENCES accounts (id),
    business_id         UUID        REFERENCES businesses (id),
    -- A catalog document-type code (result types and required-document codes).
    document_type       TEXT        NOT NULL,
    -- Other required-document codes this document stands for.
    satisfies           TEXT[]      NOT NULL DEFAULT '{}',
    title               TEXT        NOT NULL,
    file_name           TEXT        NOT NULL,
    content_type        TEXT        NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size                BIGINT      NOT NULL CHECK (size > 0),
    -- SHA-256 of the plaintext.
    sha256              BYTEA       NOT NULL,
    data_key            TEXT        NOT NULL,
    -- `staged` (waiting for the decision) or `issued`.
    status              TEXT        NOT NULL CHECK (status IN ('staged', 'issued')),
    issuer_agency_code  TEXT        REFERENCES agencies (code),
    source_dossier_id   UUID        REFERENCES dossiers (id),
    receipt_code        TEXT,
    issued_at           TIMESTAMPTZ,
    valid_until         TIMESTAMPTZ,
    signing_key_id      UUID        REFERENCES agency_signing_keys (id),
    signature           BYTEA,
    created_at          TIMESTAMPTZ NOT NULL,
    CHECK ((account_id IS NULL) <> (business_id IS NULL)),
    CHECK ((status = 'issued') = (signature IS NOT NULL AND issued_at IS NOT NULL))
);
CREATE INDEX vault_documents_account_idx ON vault_documents (account_id, created_at) WHERE status = 'issued';
CREATE INDEX vault_documents_business_idx ON vault_documents (business_id, created_at) WHERE status = 'issued';
CREATE UNIQUE INDEX vault_documents_staged_idx ON vault_documents (source_dossier_id) WHERE status = 'staged';

-- Documents a dossier uses from its applicant's vault, by reference.
CREATE TABLE dossier_vault_documents (
    dossier_id     UUID        NOT NULL REFERENCES dossiers (id),
    document_id    UUID        NOT NULL REFERENCES vault_documents (id),
    -- The required-document code it fulfils.
    required_type  TEXT        NOT NULL,
    attached_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dossier_id, document_id)
);

-- Where each form value came from: {field: {source, record_id?, provenance?, verified?}}.
ALTER TABLE dossiers ADD COLUMN value_sources JSONB NOT NULL DEFAULT '{}';

-- Every read of vault data by someone other than its owner: append-only.
CREATE TABLE vault_access_log (
    id           BIGSERIAL   PRIMARY KEY,
    account_id   UUID        REFERENCES accounts (id),
    business_id  UUID        REFERENCES businesses (id),
    at           TIMESTAMPTZ NOT NULL,
    -- `staff` or `client`.
    reader_kind  TEXT        NOT NULL CHECK (reader_kind IN ('staff', 'client')),
    staff_id     UUID        REFERENCES staff (id),
    agency_code  TEXT,
    client_id    TEXT,
    scope        TEXT,
    dossier_id   UUID        REFERENCES dossiers (id),
    -- What was read: vault keys or `document:<id>`.
    items        TEXT[]      NOT NULL,
    purpose      TEXT        NOT NULL,
    CHECK ((account_id IS NULL) <> (business_id IS NULL))
);
CREATE INDEX vault_access_log_account_idx ON vault_access_log (account_id, id);
CREATE INDEX vault_access_log_business_idx ON vault_access_log (business_id, id);

CREATE FUNCTION vault_access_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'vault_access_log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER vault_access_log_no_change BEFORE UPDATE OR DELETE ON vault_access_log
    FOR EACH ROW EXECUTE FUNCTION vault_access_log_append_only();
