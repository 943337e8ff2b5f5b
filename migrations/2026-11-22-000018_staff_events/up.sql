-- What civil servants did: one row per back-office or staff-API action
-- (sign-in, dossier actions, result uploads, counter work, apology letters,
-- the agency admin's changes). Append-only; an agency's admins read their
-- agency's rows. Rows hold ids and codes, never a citizen's personal data:
-- the dossier's own log keeps the reasons and notes.
CREATE TABLE staff_events (
    -- UUIDv7: time-ordered, the keyset of the list.
    id           UUID        PRIMARY KEY,
    agency_code  TEXT        NOT NULL,
    staff_id     UUID        NOT NULL REFERENCES staff (id),
    kind         TEXT        NOT NULL CHECK (kind ~ '^[a-z][a-z_.]{2,63}$'),
    -- The dossier concerned, if any.
    dossier_id   UUID,
    -- Another thing concerned: a staff username, a service code, a date …
    subject      TEXT,
    detail       JSONB       NOT NULL DEFAULT '{}',
    ip           TEXT,
    user_agent   TEXT,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX staff_events_agency_idx ON staff_events (agency_code, id DESC);
CREATE INDEX staff_events_staff_idx ON staff_events (staff_id, id DESC);
CREATE INDEX staff_events_dossier_idx ON staff_events (dossier_id, id) WHERE dossier_id IS NOT NULL;

CREATE FUNCTION staff_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'staff_events is append-only';
END;
$$;
CREATE TRIGGER staff_events_append_only BEFORE UPDATE OR DELETE ON staff_events
    FOR EACH ROW EXECUTE FUNCTION staff_events_append_only();
