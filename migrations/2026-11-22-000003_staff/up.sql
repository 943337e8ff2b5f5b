-- Civil servants: one account per person per agency, with roles, a password
-- and a mandatory second factor (TOTP, RFC 6238) with single-use recovery codes.
CREATE TABLE staff (
    id               UUID        PRIMARY KEY,
    username         TEXT        NOT NULL,
    full_name        TEXT        NOT NULL,
    -- The agency's official unit code (the catalog's agencies table references it later).
    agency_code      TEXT        NOT NULL,
    roles            TEXT[]      NOT NULL
                     CHECK (cardinality(roles) > 0
                            AND roles <@ ARRAY['receiver', 'processor', 'approver', 'agency_admin']::TEXT[]),
    password_hash    TEXT        NOT NULL,
    -- Base32 TOTP secret; NULL until enrolment (staff added by an agency admin enrol at first sign-in).
    totp_secret      TEXT,
    -- The last time step accepted, so a code cannot be replayed.
    totp_last_step   BIGINT,
    status           TEXT        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX staff_username_idx ON staff (lower(username));
CREATE INDEX staff_agency_idx ON staff (agency_code);

CREATE TABLE staff_recovery_codes (
    staff_id   UUID        NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    code_hash  BYTEA       NOT NULL,
    used_at    TIMESTAMPTZ,
    PRIMARY KEY (staff_id, code_hash)
);
