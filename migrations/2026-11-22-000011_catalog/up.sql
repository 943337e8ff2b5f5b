-- The service catalog: agencies (a tree of any depth), the city's holiday
-- calendar, services with their forms, and which agencies handle which
-- service. Loaded by `eservices seed` from data/catalog (docs/CATALOG.md).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE agencies (
    code           TEXT        PRIMARY KEY CHECK (code ~ '^[0-9A-Z][0-9A-Z.]{1,31}$'),
    name           TEXT        NOT NULL,
    parent_code    TEXT        REFERENCES agencies (code),
    -- city, department, district, ward …: the level the catalog's services name.
    tier           TEXT        NOT NULL,
    abbreviation   TEXT,
    address        TEXT        NOT NULL DEFAULT '',
    email          TEXT,
    -- [{weekday: 1..7, open: "07:30", close: "11:30"}, …]
    working_hours  JSONB       NOT NULL,
    sample         BOOLEAN     NOT NULL DEFAULT false,
    updated_at     TIMESTAMPTZ NOT NULL,
    CHECK (parent_code IS NULL OR parent_code <> code)
);
CREATE INDEX agencies_parent_idx ON agencies (parent_code);

-- Days that differ from the usual week, for the whole city: holidays and
-- compensatory days off (closed), weekend days worked in exchange (worked).
CREATE TABLE calendar_days (
    day   DATE PRIMARY KEY,
    kind  TEXT NOT NULL CHECK (kind IN ('closed', 'worked')),
    name  TEXT NOT NULL
);

CREATE TABLE services (
    code                TEXT        PRIMARY KEY CHECK (code ~ '^[0-9A-Za-z][0-9A-Za-z.\-]{1,31}$'),
    name                TEXT        NOT NULL,
    -- The name (and field) folded for search: lower case, no diacritics.
    search_text         TEXT        NOT NULL,
    field               TEXT        NOT NULL,
    agency_levels       TEXT[]      NOT NULL,
    -- full (toàn trình) or partial (một phần).
    service_level       TEXT        NOT NULL CHECK (service_level IN ('full', 'partial')),
    processing_days     INTEGER     NOT NULL CHECK (processing_days BETWEEN 0 AND 365),
    fee_vnd             BIGINT      CHECK (fee_vnd >= 0),
    fee_note            TEXT,
    required_documents  JSONB       NOT NULL,
    result_type         JSONB       NOT NULL,
    form                JSONB       NOT NULL,
    sample              BOOLEAN     NOT NULL DEFAULT false,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX services_search_idx ON services USING gin (search_text gin_trgm_ops);
CREATE INDEX services_field_idx ON services (field);

CREATE TABLE service_agencies (
    service_code  TEXT NOT NULL REFERENCES services (code) ON DELETE CASCADE,
    agency_code   TEXT NOT NULL REFERENCES agencies (code) ON DELETE CASCADE,
    PRIMARY KEY (service_code, agency_code)
);
CREATE INDEX service_agencies_agency_idx ON service_agencies (agency_code, service_code);
