-- Events for city systems (webhooks): the subscribers an administrator
-- registers, one delivery per subscriber and dossier log row (its id is the
-- `webhook-id` the subscriber dedupes on), and every attempt at sending one.

CREATE TABLE webhook_subscribers (
    id             UUID        PRIMARY KEY,
    name           TEXT        NOT NULL CHECK (name <> ''),
    url            TEXT        NOT NULL,
    -- The `whsec_…` signing secret, sealed under the master key
    -- (context `webhook.secret:<id>`).
    secret         TEXT        NOT NULL,
    -- Service codes, agency codes and event types followed: empty = all.
    services       TEXT[]      NOT NULL DEFAULT '{}',
    agencies       TEXT[]      NOT NULL DEFAULT '{}',
    event_types    TEXT[]      NOT NULL DEFAULT '{}',
    -- Whether the payload may name the applicant.
    personal_data  BOOLEAN     NOT NULL DEFAULT FALSE,
    state          TEXT        NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused')),
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE webhook_deliveries (
    id             UUID        PRIMARY KEY,
    subscriber_id  UUID        NOT NULL REFERENCES webhook_subscribers (id) ON DELETE CASCADE,
    dossier_id     UUID        NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
    -- The progress-log row the event is.
    seq            INTEGER     NOT NULL,
    event_type     TEXT        NOT NULL,
    -- The exact body signed and sent (sent again unchanged on a replay).
    payload        TEXT        NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    delivered_at   TIMESTAMPTZ,
    attempts       INTEGER     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_outcome   TEXT,
    UNIQUE (subscriber_id, dossier_id, seq)
);

-- A subscriber's deliveries by time (replay --since) and those still to send
-- (the next of a dossier's events; resume).
CREATE INDEX webhook_deliveries_subscriber_idx ON webhook_deliveries (subscriber_id, created_at);
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (subscriber_id, dossier_id, seq)
    WHERE delivered_at IS NULL;
CREATE INDEX webhook_deliveries_dossier_idx ON webhook_deliveries (dossier_id);

CREATE TABLE webhook_attempts (
    delivery_id    UUID        NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt        INTEGER     NOT NULL,
    at             TIMESTAMPTZ NOT NULL,
    -- The subscriber's HTTP status, or why there was none (a timeout).
    http_status    SMALLINT,
    error          TEXT,
    duration_ms    INTEGER     NOT NULL CHECK (duration_ms >= 0),
    PRIMARY KEY (delivery_id, attempt),
    CHECK (http_status IS NOT NULL OR error IS NOT NULL)
);
