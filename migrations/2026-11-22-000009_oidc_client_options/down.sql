DROP TABLE oidc_provider_secrets;
DROP TABLE oidc_session_clients;
ALTER TABLE oidc_refresh_tokens DROP COLUMN acting_for;
ALTER TABLE oidc_clients
    DROP CONSTRAINT oidc_clients_jwks_matches_method,
    DROP CONSTRAINT oidc_clients_secret_matches_method,
    DROP COLUMN backchannel_logout_uri,
    DROP COLUMN sector_identifier,
    DROP COLUMN require_par,
    DROP COLUMN id_token_alg,
    DROP COLUMN jwks,
    DROP COLUMN auth_method;
