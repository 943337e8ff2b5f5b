-- The National Public Service Portal (Cổng Dịch vụ công quốc gia): each
-- service's national procedure code, and what the portal has received of
-- each dossier.

-- The procedure's code in the national database (mã TTHC, e.g. 1.001193);
-- null while unknown: such a service's dossiers cannot be sent.
alter table services
    add column national_code text
        check (national_code ~ '^[0-9]+(\.[0-9]+)+$' and length(national_code) <= 32);

-- One row per filed dossier the synchronisation has looked at. A run locks
-- the row, sends the log rows after acked_seq in order and advances it after
-- each acknowledgement, so nothing is sent twice and nothing out of order.
create table national_portal_syncs (
    dossier_id   uuid        primary key references dossiers (id),
    -- The agency whose admins see its failures.
    agency_code  text        not null references agencies (code),
    -- The last progress-log row the portal acknowledged (or that was not for it).
    acked_seq    integer     not null default 0 check (acked_seq >= 0),
    -- The last log row the dossier record the portal holds reflects.
    record_seq   integer     not null default 0 check (record_seq >= 0),
    -- Set when the portal refused the dossier for good (or it cannot be
    -- sent), until an admin sends it again or a later run succeeds.
    failed_at    timestamptz,
    failure      text,
    -- Runs failed in a row by a passing problem (the portal down, a
    -- timeout), and the last such problem; a run that reaches the job's
    -- last attempt records the failure for good.
    retries      integer     not null default 0 check (retries >= 0),
    last_error   text,
    updated_at   timestamptz not null,
    check ((failed_at is null) = (failure is null))
);
-- The admin page: an agency's failures, newest first, in keyset pages.
create index national_portal_syncs_failed_idx
    on national_portal_syncs (agency_code, failed_at desc, dossier_id)
    where failed_at is not null;

-- The last log row of each dossier that asked for a synchronisation, written
-- in the row's own transaction (never locked by a run), deleted once the
-- portal has it all. The scheduled sweep queues a run for any dossier left
-- behind (a row committed while a run was finishing).
create table national_portal_backlog (
    dossier_id  uuid        primary key references dossiers (id),
    logged_seq  integer     not null,
    logged_at   timestamptz not null
);

-- Supplement requests as they happened: the due date before the request and
-- the one the supplement set (the dossier keeps only the current one).
create table national_portal_supplements (
    dossier_id     uuid        not null references dossiers (id),
    -- The request's log row.
    requested_seq  integer     not null,
    requested_at   timestamptz not null,
    due_before     timestamptz,
    -- The supplement's log row, once supplied.
    supplied_seq   integer,
    supplied_at    timestamptz,
    due_after      timestamptz,
    primary key (dossier_id, requested_seq)
);
