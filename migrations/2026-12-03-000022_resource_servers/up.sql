-- A client may be registered as a resource server: the audience URI its
-- access tokens carry (RFC 8707 `resource`), and the only audience it may
-- introspect.
ALTER TABLE oidc_clients ADD COLUMN resource_audience TEXT;
CREATE INDEX oidc_clients_resource_audience ON oidc_clients (resource_audience)
    WHERE resource_audience IS NOT NULL;
