DROP INDEX businesses_pending_idx;
DROP INDEX businesses_tax_code_live_idx;
-- A rejected claim whose tax code was registered again cannot survive the
-- old one-row-per-tax-code constraint.
DELETE FROM businesses r WHERE r.status = 'rejected'
    AND EXISTS (SELECT 1 FROM businesses b WHERE b.tax_code = r.tax_code AND b.id <> r.id);
ALTER TABLE businesses ADD CONSTRAINT businesses_tax_code_key UNIQUE (tax_code);
ALTER TABLE businesses
    DROP CONSTRAINT businesses_decision_check,
    DROP COLUMN decision_evidence,
    DROP COLUMN decided_agency_code,
    DROP COLUMN decided_by,
    DROP COLUMN decided_at,
    DROP COLUMN desk_agency_code,
    DROP COLUMN status;
