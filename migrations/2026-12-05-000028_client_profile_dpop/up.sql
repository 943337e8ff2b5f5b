-- Who a client is, as the consent page shows it (RFC 7591 client_name,
-- logo_uri, policy_uri); whether its tokens are DPoP-bound (RFC 9449); the
-- security profile it follows (FAPI 2.0 Security Profile or the standard one).
alter table oidc_clients
    add column client_name text,
    add column logo_uri text,
    add column policy_uri text,
    add column dpop text not null default 'optional'
        check (dpop in ('off', 'optional', 'required')),
    add column profile text not null default 'standard'
        check (profile in ('standard', 'fapi2')),
    -- PKCE is required of every client but confidential ones an
    -- administrator exempted (RFC 9700 §2.1.1: they have client
    -- authentication and the nonce), such as a certification test client.
    add column pkce_required boolean not null default true;

-- A public client's refresh token is bound to the DPoP key its grant was
-- made with (RFC 9449 §5): the JWK SHA-256 thumbprint (RFC 7638).
alter table oidc_refresh_tokens add column dpop_jkt text;
