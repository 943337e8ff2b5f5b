DROP TABLE phone_verifications;
DROP TABLE sms_messages;
ALTER TABLE accounts DROP COLUMN phone_verified_at;
