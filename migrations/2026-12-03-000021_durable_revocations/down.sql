DROP TABLE oidc_assertion_jtis;
DROP TABLE oidc_used_codes;
DROP TABLE oidc_revoked_access_tokens;
