DROP TABLE idempotency_keys;
DROP TRIGGER dossier_events_append_only ON dossier_events;
DROP FUNCTION dossier_events_append_only();
DROP TABLE dossier_events;
DROP TABLE receipt_counters;
DROP TABLE dossiers;
