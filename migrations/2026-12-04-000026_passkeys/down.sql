drop table passkeys;
drop table passkey_owners;
