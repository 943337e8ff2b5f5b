drop table national_portal_supplements;
drop table national_portal_backlog;
drop table national_portal_syncs;
alter table services drop column national_code;
