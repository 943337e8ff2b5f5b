-- Identity core: one account per citizen (national ID), one per business (tax
-- code), civil servants with a second factor, one-time email tokens, and the
-- audit trail of sign-ins that account owners can read.

CREATE TABLE accounts (
    id                 UUID        PRIMARY KEY,
    -- 12-digit national ID (CCCD); one account per person, enforced here.
    national_id        TEXT        NOT NULL UNIQUE CHECK (national_id ~ '^[0-9]{12}$'),
    full_name          TEXT        NOT NULL,
    date_of_birth      DATE        NOT NULL,
    sex                TEXT        NOT NULL CHECK (sex IN ('male', 'female')),
    email              TEXT,
    email_verified_at  TIMESTAMPTZ,
    phone              TEXT,
    -- argon2id PHC string; NULL for accounts that only sign in through VNeID.
    password_hash      TEXT,
    password_changed_at TIMESTAMPTZ,
    -- 1 = self-registered, email verified; 2 = identity verified (VNeID or counter).
    assurance_level    SMALLINT    NOT NULL DEFAULT 1 CHECK (assurance_level IN (1, 2)),
    -- pending until the email is verified (or identity proven); disabled by an admin.
    status             TEXT        NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'active', 'disabled')),
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);

-- Sign-in by email looks among verified addresses only, so an unverified
-- registration can never take an address away from its owner.
CREATE UNIQUE INDEX accounts_verified_email_idx ON accounts (lower(email))
    WHERE email_verified_at IS NOT NULL;
CREATE INDEX accounts_pending_idx ON accounts (created_at) WHERE status = 'pending';

-- Proofs of identity that raised an account to level 2.
CREATE TABLE identity_verifications (
    id           UUID        PRIMARY KEY,
    account_id   UUID        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    method       TEXT        NOT NULL CHECK (method IN ('vneid', 'counter')),
    -- For counter checks: the receiver, the agency and what was seen.
    verified_by  UUID,
    agency_code  TEXT,
    evidence     TEXT,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX identity_verifications_account_idx ON identity_verifications (account_id, created_at);

-- Accounts linked to an upstream identity provider (VNeID).
CREATE TABLE federated_identities (
    issuer      TEXT        NOT NULL,
    subject     TEXT        NOT NULL,
    account_id  UUID        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX federated_identities_account_idx ON federated_identities (account_id);

-- Single-use tokens sent by email: only their SHA-256 is stored.
CREATE TABLE email_tokens (
    token_hash  BYTEA       PRIMARY KEY,
    account_id  UUID        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose     TEXT        NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    email       TEXT        NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX email_tokens_account_idx ON email_tokens (account_id, purpose, created_at DESC);

-- Everything that happened to an account's security, readable by its owner.
CREATE TABLE auth_events (
    id          UUID        PRIMARY KEY,
    account_id  UUID        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind        TEXT        NOT NULL,
    ip          TEXT,
    user_agent  TEXT,
    detail      JSONB       NOT NULL DEFAULT '{}'::jsonb,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX auth_events_account_idx ON auth_events (account_id, created_at DESC, id DESC);

-- Businesses, by tax code, acting through their representative and the
-- citizens the representative authorises.
CREATE TABLE businesses (
    id                 UUID        PRIMARY KEY,
    tax_code           TEXT        NOT NULL UNIQUE,
    name               TEXT        NOT NULL,
    address            TEXT        NOT NULL,
    representative_id  UUID        NOT NULL REFERENCES accounts (id),
    created_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX businesses_representative_idx ON businesses (representative_id);

CREATE TABLE business_authorizations (
    id           UUID        PRIMARY KEY,
    business_id  UUID        NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    account_id   UUID        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    granted_by   UUID        NOT NULL REFERENCES accounts (id),
    valid_until  TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX business_authorizations_active_idx
    ON business_authorizations (business_id, account_id) WHERE revoked_at IS NULL;
CREATE INDEX business_authorizations_account_idx
    ON business_authorizations (account_id) WHERE revoked_at IS NULL;
