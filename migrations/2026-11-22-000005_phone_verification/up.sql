-- Phone numbers are verified by a code sent by SMS; SMS go through the outbox
-- like email.
ALTER TABLE accounts ADD COLUMN phone_verified_at TIMESTAMPTZ;

CREATE TABLE sms_messages (
    id             UUID        PRIMARY KEY,
    recipient      TEXT        NOT NULL,
    account_id     UUID,
    template       TEXT        NOT NULL,
    -- Erased once delivered when it carries a code.
    body           TEXT,
    sensitive      BOOLEAN     NOT NULL DEFAULT FALSE,
    status         TEXT        NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'retrying', 'sent', 'failed')),
    attempts       INTEGER     NOT NULL DEFAULT 0,
    last_response  TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    sent_at        TIMESTAMPTZ
);
CREATE INDEX sms_messages_account_idx ON sms_messages (account_id, created_at DESC, id)
    WHERE account_id IS NOT NULL;

-- One pending phone verification per account: the number and the code's hash.
CREATE TABLE phone_verifications (
    account_id   UUID        PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    phone        TEXT        NOT NULL,
    code_hash    BYTEA       NOT NULL,
    attempts     INTEGER     NOT NULL DEFAULT 0,
    expires_at   TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
