DROP TABLE business_authorizations;
DROP TABLE businesses;
DROP TABLE auth_events;
DROP TABLE email_tokens;
DROP TABLE federated_identities;
DROP TABLE identity_verifications;
DROP TABLE accounts;
