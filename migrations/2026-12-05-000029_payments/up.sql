-- When a service's fee is asked for: at filing (most) or on a processor's
-- request (`request_fee`).
alter table services add column fee_stage text not null default 'filing'
    check (fee_stage in ('filing', 'on_request'));

-- A fee asked of a dossier's applicant; at most one open at a time.
create table fee_requests (
    id uuid primary key,
    dossier_id uuid not null references dossiers (id),
    amount_vnd bigint not null check (amount_vnd > 0),
    stage text not null check (stage in ('filing', 'on_request')),
    description text not null,
    requested_at timestamptz not null,
    paid_at timestamptz
);
create unique index fee_requests_one_open on fee_requests (dossier_id) where paid_at is null;

-- A payment of a fee request: online through the payment platform, or
-- taken at the counter. One pending and one paid per fee request at most:
-- a second payment the platform took anyway is `refund_due`.
create table payments (
    id uuid primary key,
    fee_request_id uuid not null references fee_requests (id),
    dossier_id uuid not null references dossiers (id),
    payer_id uuid not null references accounts (id),
    amount_vnd bigint not null check (amount_vnd > 0),
    channel text not null check (channel in ('online', 'counter')),
    status text not null
        check (status in ('pending', 'paid', 'failed', 'cancelled', 'expired', 'refund_due')),
    transaction_id text not null unique,
    platform_transaction_id text,
    payment_url text,
    created_at timestamptz not null,
    expires_at timestamptz not null,
    settled_at timestamptz,
    receipt_document_id uuid references vault_documents (id),
    recorded_by uuid references staff (id)
);
create unique index payments_one_pending on payments (fee_request_id) where status = 'pending';
create unique index payments_one_paid on payments (fee_request_id) where status = 'paid';
create index payments_pending_since on payments (created_at) where status = 'pending';
create index payments_of_dossier on payments (dossier_id, created_at);

-- Every callback received, accepted or not (forged ones too), for audit.
create table payment_callbacks (
    id bigserial primary key,
    received_at timestamptz not null,
    transaction_id text,
    outcome text not null,
    detail text not null
);

-- Electronic receipts are data documents (JSON, signed like results).
alter table vault_documents drop constraint vault_documents_content_type_check;
alter table vault_documents add constraint vault_documents_content_type_check
    check (content_type in ('application/pdf', 'image/jpeg', 'image/png', 'application/json'));
