ALTER TABLE service_agencies DROP COLUMN changed_at, DROP COLUMN changed_by, DROP COLUMN offered;
DROP TABLE agency_days;
ALTER TABLE agencies DROP COLUMN hours_changed_at, DROP COLUMN hours_changed_by;
