-- An agency admin may require passkeys of their agency's civil servants:
-- then a password with TOTP no longer signs in one who has a passkey, and
-- one without a passkey yet may only register one.
alter table agencies add column staff_passkeys_required boolean not null default false;
