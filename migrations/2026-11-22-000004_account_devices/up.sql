-- Devices an account has signed in from (by a hash of the client software),
-- so "new device" alerts cost one indexed upsert instead of a scan of events.
CREATE TABLE account_devices (
    account_id     UUID        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    device_hash    BYTEA       NOT NULL,
    first_seen_at  TIMESTAMPTZ NOT NULL,
    last_seen_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, device_hash)
);
