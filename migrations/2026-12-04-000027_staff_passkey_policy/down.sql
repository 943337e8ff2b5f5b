alter table agencies drop column staff_passkeys_required;
