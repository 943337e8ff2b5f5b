-- Revocation and replay records of the OpenID provider, durable: a Redis
-- flush or outage must not make a revoked token valid or an assertion
-- replayable. Redis caches them; these rows decide. Each row lives until
-- `expires_at` (after which what it guards is invalid anyway); the scheduled
-- maintenance deletes expired rows.

-- Access tokens revoked before they expire (RFC 7009), by SHA-256 of the jti.
CREATE TABLE oidc_revoked_access_tokens (
    jti_hash    BYTEA       PRIMARY KEY,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX oidc_revoked_access_tokens_expiry_idx ON oidc_revoked_access_tokens (expires_at);

-- Authorization codes already exchanged (by SHA-256 of the code), with what
-- they issued: a replay revokes the refresh-token family and the access token.
CREATE TABLE oidc_used_codes (
    code_hash          BYTEA       PRIMARY KEY,
    family_id          UUID        NOT NULL,
    account_id         UUID        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    access_jti_hash    BYTEA       NOT NULL,
    access_expires_at  TIMESTAMPTZ NOT NULL,
    expires_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX oidc_used_codes_expiry_idx ON oidc_used_codes (expires_at);

-- private_key_jwt assertions already accepted, by SHA-256 of client id and jti.
CREATE TABLE oidc_assertion_jtis (
    jti_hash    BYTEA       PRIMARY KEY,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX oidc_assertion_jtis_expiry_idx ON oidc_assertion_jtis (expires_at);
