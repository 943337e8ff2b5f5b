alter table vault_documents drop constraint vault_documents_content_type_check;
delete from vault_documents where content_type = 'application/json';
alter table vault_documents add constraint vault_documents_content_type_check
    check (content_type in ('application/pdf', 'image/jpeg', 'image/png'));
drop table payment_callbacks;
drop table payments;
drop table fee_requests;
alter table services drop column fee_stage;
