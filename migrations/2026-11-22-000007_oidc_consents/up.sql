-- What each citizen allowed each client to know (remembered per client and scope set).
CREATE TABLE oidc_consents (
    account_id  UUID        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id   TEXT        NOT NULL REFERENCES oidc_clients (client_id) ON DELETE CASCADE,
    scopes      TEXT[]      NOT NULL,
    granted_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, client_id)
);
