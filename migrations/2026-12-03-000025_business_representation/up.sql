-- Proof of representation: a business registered by a citizen is `pending`
-- until a receiver (after checking the business registration certificate
-- and the person's ID at the counter) confirms or rejects it. Only a
-- `confirmed` business can be acted for. Registrations made before this
-- change were never proven, so they start `pending` too.
ALTER TABLE businesses
    ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'confirmed', 'rejected')),
    -- The one-stop desk where the citizen will show the papers (optional).
    ADD COLUMN desk_agency_code TEXT REFERENCES agencies (code),
    ADD COLUMN decided_at TIMESTAMPTZ,
    -- The receiver; NULL when the registry (or an operator's import) confirmed it.
    ADD COLUMN decided_by UUID REFERENCES staff (id),
    ADD COLUMN decided_agency_code TEXT,
    -- What the receiver saw (papers checked) or why it was rejected.
    ADD COLUMN decision_evidence TEXT,
    ADD CONSTRAINT businesses_decision_check CHECK (
        (status = 'pending' AND decided_at IS NULL AND decided_by IS NULL)
        OR (status <> 'pending' AND decided_at IS NOT NULL AND decision_evidence IS NOT NULL)
    );

-- One live claim per tax code: a pending or confirmed registration holds it;
-- a rejected one frees it for the real representative.
ALTER TABLE businesses DROP CONSTRAINT businesses_tax_code_key;
CREATE UNIQUE INDEX businesses_tax_code_live_idx ON businesses (tax_code)
    WHERE status <> 'rejected';

-- The receivers' list of registrations waiting for them, oldest first.
CREATE INDEX businesses_pending_idx ON businesses (desk_agency_code, created_at)
    WHERE status = 'pending';
