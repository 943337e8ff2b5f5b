DROP TABLE oidc_clients;
DROP TABLE oidc_signing_keys;
