-- Refresh tokens (opaque; only their SHA-256 is stored). Rotated on every use:
-- each use marks the token used and issues a successor in the same family;
-- a used token presented again (after a short grace) revokes the family.
CREATE TABLE oidc_refresh_tokens (
    id           UUID        PRIMARY KEY,
    family_id    UUID        NOT NULL,
    token_hash   BYTEA       NOT NULL UNIQUE,
    client_id    TEXT        NOT NULL REFERENCES oidc_clients (client_id) ON DELETE CASCADE,
    account_id   UUID        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scopes       TEXT[]      NOT NULL,
    auth_time    TIMESTAMPTZ NOT NULL,
    level        SMALLINT    NOT NULL,
    amr          TEXT[]      NOT NULL,
    sid          TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    used_at      TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX oidc_refresh_tokens_family_idx ON oidc_refresh_tokens (family_id);
CREATE INDEX oidc_refresh_tokens_grant_idx ON oidc_refresh_tokens (account_id, client_id) WHERE revoked_at IS NULL;
