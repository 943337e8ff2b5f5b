-- The OpenID provider's signing keys: private halves sealed under the vault
-- master key; a key is published before it signs (activates_at) and stays
-- published after it stops signing (retired_at) until every token it signed
-- has expired (expires_at).
CREATE TABLE oidc_signing_keys (
    kid           TEXT        PRIMARY KEY,
    alg           TEXT        NOT NULL CHECK (alg IN ('RS256', 'ES256')),
    private_key   TEXT        NOT NULL,
    public_jwk    JSONB       NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    activates_at  TIMESTAMPTZ NOT NULL,
    retired_at    TIMESTAMPTZ,
    expires_at    TIMESTAMPTZ
);
CREATE INDEX oidc_signing_keys_alg_idx ON oidc_signing_keys (alg, activates_at DESC);

-- Relying parties registered by an administrator.
CREATE TABLE oidc_clients (
    client_id                  TEXT        PRIMARY KEY,
    -- SHA-256 of the secret (secrets are high-entropy); NULL for public clients.
    secret_hash                BYTEA,
    redirect_uris              TEXT[]      NOT NULL CHECK (cardinality(redirect_uris) > 0),
    post_logout_redirect_uris  TEXT[]      NOT NULL DEFAULT '{}',
    scopes                     TEXT[]      NOT NULL,
    -- pairwise (default) or public subject identifiers.
    subject_type               TEXT        NOT NULL DEFAULT 'pairwise'
                               CHECK (subject_type IN ('pairwise', 'public')),
    created_at                 TIMESTAMPTZ NOT NULL
);
