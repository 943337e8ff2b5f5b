DELETE FROM email_tokens WHERE purpose IN ('undo_email_change', 'undo_phone_change');
ALTER TABLE email_tokens
    DROP COLUMN previous_phone_verified_at,
    DROP COLUMN previous_phone;
ALTER TABLE email_tokens DROP CONSTRAINT email_tokens_purpose_check;
ALTER TABLE email_tokens ADD CONSTRAINT email_tokens_purpose_check
    CHECK (purpose IN ('verify_email', 'reset_password'));
