-- What an agency's admin may change about their agency: its opening hours,
-- its own closed or worked days (on top of the city's calendar), and which of
-- the catalog's services it offers. Reloading the catalog keeps these choices.

-- Opening hours set by the agency's admin win over the catalog's.
ALTER TABLE agencies
    ADD COLUMN hours_changed_by UUID REFERENCES staff (id),
    ADD COLUMN hours_changed_at TIMESTAMPTZ;

-- Days that differ for one agency only (a closure, a Saturday worked for a
-- campaign). They override the city's calendar_days for that agency.
CREATE TABLE agency_days (
    agency_code  TEXT        NOT NULL REFERENCES agencies (code) ON DELETE CASCADE,
    day          DATE        NOT NULL,
    kind         TEXT        NOT NULL CHECK (kind IN ('closed', 'worked')),
    name         TEXT        NOT NULL CHECK (char_length(name) BETWEEN 3 AND 200),
    changed_by   UUID        NOT NULL REFERENCES staff (id),
    changed_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (agency_code, day)
);

-- The catalog says which agencies may handle a service (that is law); an
-- agency's admin says whether their agency takes new dossiers for it now.
-- Dossiers already filed go on either way.
ALTER TABLE service_agencies
    ADD COLUMN offered    BOOLEAN     NOT NULL DEFAULT true,
    ADD COLUMN changed_by UUID        REFERENCES staff (id),
    ADD COLUMN changed_at TIMESTAMPTZ;
