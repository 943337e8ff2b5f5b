alter table oidc_refresh_tokens drop column dpop_jkt;
alter table oidc_clients
    drop column client_name,
    drop column logo_uri,
    drop column policy_uri,
    drop column dpop,
    drop column profile,
    drop column pkce_required;
