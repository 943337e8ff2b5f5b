DROP TABLE oidc_consents;
