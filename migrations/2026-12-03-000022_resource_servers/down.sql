DROP INDEX IF EXISTS oidc_clients_resource_audience;
ALTER TABLE oidc_clients DROP COLUMN resource_audience;
