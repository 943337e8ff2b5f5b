-- Per-client options of the OpenID provider, the sessions each client joined
-- (for back-channel logout), the business chosen for a grant, and the
-- provider's own secrets (sealed under the vault master key).
ALTER TABLE oidc_clients
    -- client_secret (Basic or form), private_key_jwt (a registered JWKS) or none (public).
    ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'client_secret'
        CHECK (auth_method IN ('client_secret', 'private_key_jwt', 'none')),
    ADD COLUMN jwks JSONB,
    ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT 'RS256'
        CHECK (id_token_alg IN ('RS256', 'ES256')),
    ADD COLUMN require_par BOOLEAN NOT NULL DEFAULT false,
    -- Pairwise subjects are computed per sector: clients sharing one see the same subjects.
    ADD COLUMN sector_identifier TEXT,
    ADD COLUMN backchannel_logout_uri TEXT;

UPDATE oidc_clients SET auth_method = 'none' WHERE secret_hash IS NULL;

ALTER TABLE oidc_clients
    ADD CONSTRAINT oidc_clients_secret_matches_method
        CHECK ((auth_method = 'client_secret') = (secret_hash IS NOT NULL)),
    ADD CONSTRAINT oidc_clients_jwks_matches_method
        CHECK ((auth_method = 'private_key_jwt') = (jwks IS NOT NULL));

-- The business the person chose to act for when the grant was made.
ALTER TABLE oidc_refresh_tokens ADD COLUMN acting_for UUID;

-- Which clients received tokens in which browser session (sid), so that
-- ending the session tells each of them (back-channel logout).
CREATE TABLE oidc_session_clients (
    sid         TEXT        NOT NULL,
    client_id   TEXT        NOT NULL REFERENCES oidc_clients (client_id) ON DELETE CASCADE,
    account_id  UUID        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (sid, client_id)
);
CREATE INDEX oidc_session_clients_created_idx ON oidc_session_clients (created_at);

-- Secrets the provider generates for itself (the pairwise subject salt),
-- sealed under the vault master key.
CREATE TABLE oidc_provider_secrets (
    name        TEXT        PRIMARY KEY,
    sealed      TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
