-- A person's address as an identity provider vouched for it (the OpenID
-- `address` claim structure), served to clients granted the `address` scope.
CREATE TABLE account_addresses (
    account_id  UUID        PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    address     JSONB       NOT NULL,
    -- Who vouched for it: 'vneid'.
    source      TEXT        NOT NULL,
    verified_at TIMESTAMPTZ NOT NULL
);
