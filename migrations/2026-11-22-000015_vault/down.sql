DROP TRIGGER vault_access_log_no_change ON vault_access_log;
DROP FUNCTION vault_access_log_append_only();
DROP TABLE vault_access_log;
ALTER TABLE dossiers DROP COLUMN value_sources;
DROP TABLE dossier_vault_documents;
DROP TABLE vault_documents;
DROP TABLE vault_records;
DROP TABLE agency_signing_keys;
DROP TABLE master_key_checks;
