-- The dashboard's figures, precomputed per agency, service and month of
-- filing (local time), refreshed by the scheduled `refresh_stats` job: the
-- city-wide dashboard reads a few thousand rows, not a million dossiers.
-- On time: decided no later than the due date. Overdue: still being
-- handled, the clock running, the due date passed (as of the refresh).
CREATE MATERIALIZED VIEW dossier_monthly_stats AS
SELECT agency_code,
       service_code,
       date_trunc('month', submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS month,
       count(*)::bigint AS received,
       count(*) FILTER (WHERE channel = 'online')::bigint AS online,
       count(*) FILTER (WHERE decided_at IS NOT NULL)::bigint AS decided,
       count(*) FILTER (WHERE decided_at IS NOT NULL
                          AND (due_at IS NULL OR decided_at <= due_at))::bigint AS on_time,
       count(*) FILTER (WHERE status IN ('accepted', 'processing')
                          AND paused_at IS NULL AND due_at < now())::bigint AS overdue
FROM dossiers
WHERE submitted_at IS NOT NULL
GROUP BY 1, 2, 3;
CREATE UNIQUE INDEX dossier_monthly_stats_key
    ON dossier_monthly_stats (agency_code, service_code, month);
CREATE INDEX dossier_monthly_stats_month ON dossier_monthly_stats (month);

-- When each precomputed figure set was last refreshed.
CREATE TABLE stats_refreshes (
    name          TEXT        PRIMARY KEY,
    refreshed_at  TIMESTAMPTZ NOT NULL
);
