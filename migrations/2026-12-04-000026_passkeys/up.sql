-- Passkeys (WebAuthn credentials) of citizens and civil servants.
--
-- Each owner has one random WebAuthn user handle (never an internal id): a
-- discoverable credential returns it, and it names the owner.
create table passkey_owners (
    user_handle uuid primary key,
    account_id uuid unique references accounts (id) on delete cascade,
    staff_id uuid unique references staff (id) on delete cascade,
    created_at timestamptz not null,
    check ((account_id is null) <> (staff_id is null))
);

create table passkeys (
    id uuid primary key,
    user_handle uuid not null references passkey_owners (user_handle) on delete cascade,
    -- The authenticator's credential id: one owner in the whole system.
    credential_id bytea not null unique check (octet_length(credential_id) between 16 and 1023),
    name text not null check (char_length(name) between 1 and 64),
    -- The verified public key and flags, as the WebAuthn library keeps them.
    credential jsonb not null,
    -- The authenticator's signature counter, compared and advanced atomically.
    sign_count bigint not null check (sign_count >= 0),
    -- Backup eligible: a synced passkey (amr swk) rather than a device-bound one (hwk).
    synced boolean not null,
    created_at timestamptz not null,
    last_used_at timestamptz
);

create index passkeys_by_owner on passkeys (user_handle, created_at desc);
