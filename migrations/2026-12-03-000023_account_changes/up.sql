-- Undo links: a change of email or phone tells the old address, with a
-- single-use link that restores the previous value and locks the account.
-- The previous phone (and when it was verified) travels with the token.
ALTER TABLE email_tokens DROP CONSTRAINT email_tokens_purpose_check;
ALTER TABLE email_tokens ADD CONSTRAINT email_tokens_purpose_check
    CHECK (purpose IN ('verify_email', 'reset_password', 'undo_email_change', 'undo_phone_change'));
ALTER TABLE email_tokens
    ADD COLUMN previous_phone TEXT,
    ADD COLUMN previous_phone_verified_at TIMESTAMPTZ;
